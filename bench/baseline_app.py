"""The baseline server for bench/interactive.py: the same stack (gunicorn, Flask, SQLAlchemy, the same database),
verifying the same signatures as the real endpoints and committing one row — nothing else.

    gunicorn -w 2 -k gthread --threads 8 'bench.baseline_app:app'   (env: ORDERTALK_DATABASE_URL and the platform secrets)
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, Response, request
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.exc import DBAPIError

from adapters.dingtalk.signature import SignatureError, verify_card_callback
from adapters.wecom.crypto import WeComCrypto
from domain.db import make_engine

metadata = MetaData()
hits = Table("bench_baseline", metadata, Column("id", Integer, primary_key=True), Column("digest", String(64)))
engine = make_engine(os.environ["ORDERTALK_DATABASE_URL"])
try:
    metadata.create_all(engine, checkfirst=True)
except DBAPIError:  # the other gunicorn worker created it at the same moment (PostgreSQL: pg_type's unique index)
    metadata.create_all(engine, checkfirst=True)
slack = SignatureVerifier(os.environ["ORDERTALK_SLACK_SIGNING_SECRET"])
dingtalk_secret = os.environ["ORDERTALK_DINGTALK_APP_SECRET"]
wecom = WeComCrypto(os.environ["ORDERTALK_WECOM_TOKEN"], os.environ["ORDERTALK_WECOM_AES_KEY"], os.environ["ORDERTALK_WECOM_CORP_ID"])
app = Flask("baseline")


def _commit(body: bytes) -> Response:
    with engine.begin() as c:
        c.execute(insert(hits).values(digest=hashlib.sha256(body).hexdigest()))
    return Response("", 200)


@app.post("/slack/events")
def slack_events() -> Response:
    body = request.get_data()
    if not slack.is_valid_request(body, dict(request.headers)):
        return Response("bad signature", 401)
    return _commit(body)


@app.post("/dingtalk/card-callback")
def dingtalk() -> Response:
    try:
        verify_card_callback(request.headers, dingtalk_secret)
    except SignatureError:
        return Response("bad signature", 401)
    return _commit(request.get_data())


@app.post("/wecom/callback")
def wecom_callback() -> Response:
    body = request.get_data()
    try:
        start = body.index(b"<Encrypt><![CDATA[") + len(b"<Encrypt><![CDATA[")
        encrypt = body[start:body.index(b"]]>", start)].decode()
        if wecom.sign(request.args["timestamp"], request.args["nonce"], encrypt) != request.args["msg_signature"]:
            return Response("bad signature", 401)
        wecom.decrypt(encrypt)
    except Exception:  # noqa: BLE001 — any parse or crypto failure is a bad request here
        return Response("bad request", 400)
    return _commit(body)
