"""Flask blueprint for the WeCom callback URL: verify → decrypt → parse → hand to the core → empty 200.

No behaviour lives here: replies travel through the core's outbox to the WeCom deliverer, so the HTTP answer
stays well inside WeCom's 5-second window. Anything we cannot authenticate gets a 4xx and never reaches the core.

`timestamp` is signed but deliberately not checked for freshness (wecom.md §1.9): the official library does not,
WeCom's retries may reuse the original value, and a replayed callback is harmless anyway because the core
dedups on the event id (MsgId, or user + CreateTime + TaskId + EventKey) and keeps those keys.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from pydantic import ValidationError

from adapters.wecom.crypto import ReceiveIdError, SignatureError, WeComCrypto, WeComCryptoError
from adapters.wecom.inbound import MAX_XML_BYTES, Ignored, MalformedXml, parse_envelope, parse_message
from adapters.wecom.settings import WeComSettings
from bot.ports import BotCorePort, InboundMessage
from bot.tokens import BadToken, TokenSigner

log = logging.getLogger(__name__)

CALLBACK_PATH = "/wecom/callback"


def crypto_from_settings(settings: WeComSettings) -> WeComCrypto:
    if not (settings.wecom_token and settings.wecom_aes_key and settings.wecom_corp_id):
        raise ValueError("ORDERTALK_WECOM_TOKEN, _AES_KEY and _CORP_ID are required for the callback")
    return WeComCrypto(
        settings.wecom_token.get_secret_value(),
        settings.wecom_aes_key.get_secret_value(),
        settings.wecom_corp_id,
    )


def _plain(body: str, status: int) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _crypto_error(exc: WeComCryptoError) -> Response:
    # 403 for "not from WeCom / not for us", 400 for a broken blob; the code matches the WeCom docs
    status = 403 if isinstance(exc, SignatureError | ReceiveIdError) else 400
    log.warning("wecom callback rejected: %s", exc)
    return _plain(f"rejected ({exc.code})", status)


def make_blueprint(core: BotCorePort, settings: WeComSettings, signer: TokenSigner, *,
                   crypto: WeComCrypto | None = None) -> Blueprint:
    """/wecom/callback: WeCom's signature and encryption checked with the app's token and AES key, a card click's
    button key with `signer` (the root's)."""
    crypto = crypto or crypto_from_settings(settings)
    expected_agent = str(settings.wecom_agent_id) if settings.wecom_agent_id is not None else None
    bp = Blueprint("wecom", __name__)

    def _query() -> tuple[str, str, str] | None:
        sig = request.args.get("msg_signature", "")
        ts = request.args.get("timestamp", "")
        nonce = request.args.get("nonce", "")
        return (sig, ts, nonce) if sig and ts and nonce else None

    @bp.get(CALLBACK_PATH)
    def verify_url() -> Response:
        q = _query()
        # WeCom URL-encodes echostr; a proxy that leaves '+' raw turns it into a space, which base64 never has
        echostr = request.args.get("echostr", "").replace(" ", "+")
        if q is None or not echostr:
            return _plain("missing parameters", 400)
        try:
            plaintext = crypto.verify_and_decrypt(q[0], q[1], q[2], echostr)
        except WeComCryptoError as exc:
            return _crypto_error(exc)
        return _plain(plaintext, 200)  # exactly the plaintext: no quotes, no newline

    @bp.post(CALLBACK_PATH)
    def receive() -> Response:
        q = _query()
        if q is None:
            return _plain("missing parameters", 400)
        if request.content_length is not None and request.content_length > MAX_XML_BYTES:
            return _plain("body too large", 413)
        body = request.stream.read(MAX_XML_BYTES + 1)  # also caps chunked bodies without a length
        if len(body) > MAX_XML_BYTES:
            return _plain("body too large", 413)
        try:
            envelope = parse_envelope(body)
            xml = crypto.verify_and_decrypt(q[0], q[1], q[2], envelope.encrypt)
            parsed, agent_id = parse_message(xml)
        except WeComCryptoError as exc:
            return _crypto_error(exc)
        except MalformedXml as exc:
            log.warning("wecom callback rejected: %s", exc)
            return _plain("malformed XML", 400)
        except ValidationError as exc:  # e.g. a FromUserName no platform id can be (too long, control chars)
            field = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else "?"
            log.warning("wecom callback rejected: invalid %s", field)
            return _plain(f"malformed message ({field})", 400)

        if expected_agent is not None and agent_id not in (None, expected_agent):
            log.info("wecom callback for another agent %s ignored", agent_id)
            return _plain("", 200)
        if isinstance(parsed, Ignored):
            log.info("wecom callback ignored: %s", parsed.reason)
            return _plain("", 200)

        # The core dedups on event_id, so a WeCom retry of the same callback is safe to pass on again.
        if isinstance(parsed, InboundMessage):
            core.handle_message(parsed, deliver_replies=True)
            return _plain("", 200)
        # WeCom's signature proves who sent the click, not that the button key is one we signed: a tampered,
        # invented or old-secret key is refused here, before the core records or answers anything
        try:
            signer.verify(parsed.token)
        except BadToken:
            log.warning("wecom card click with an unknown or tampered action key refused")
            return _plain("unknown or tampered action key", 400)
        core.handle_action(parsed, deliver_replies=True)
        return _plain("", 200)  # empty 200 = "received, nothing to say inline"

    return bp
