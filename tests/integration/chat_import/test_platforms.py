"""Send a file to the bot on Slack, DingTalk and WeCom: each platform's own callback in (a Slack file_share DM, a
DingTalk file message, a WeCom file message), the file downloaded with each platform's own API from a fake server on
loopback (Slack url_private with the bot token, DingTalk downloadCode → messageFiles/download → downloadUrl, WeCom
MediaId → media/get), the dry-run card out through the platform's deliverer, Import pressed on that card, the rows
found in the database. A bad file gets the problems and nothing is written; a non-admin is refused; a second press is
refused."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask, Response, abort, jsonify, request
from sqlalchemy import Engine, func, select
from werkzeug.serving import make_server

from bot.records import ImportCheck
from domain.directory import link
from domain.models import AuditEntry, Customer, Product
from tests.integration.documents.test_imports import CUSTOMERS, sheet
from tests.world import Clock, build_world

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PRODUCTS = [["SKU-501", "六角螺母 M8", "Hex nut M8", "M8", "袋", "12.50", "", "", "", 10, "是"]]
BAD_PRODUCTS = [["SKU-502", "", "", "", "", "-3", "", "", "", "x", "也许"]]


def count(ot: Any, model: Any, **where: Any) -> int:
    with ot.sessions() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return int(s.scalar(q))


class Served:
    def __init__(self, app: Flask) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()


# ------------------------------------------------------------------------------------------------------------ Slack


class SlackFileHost:
    """files.slack.com on loopback: url_private answers the file to the bot token, and — as Slack does — a login
    page (200, text/html) to anyone else."""

    def __init__(self, token: str) -> None:
        self.files: dict[str, bytes] = {}
        self.auth: list[str | None] = []
        app = Flask("fake_slack_files")

        @app.get("/files-pri/<team_file>/<name>")
        def download(team_file: str, name: str) -> Response:
            fid = team_file.split("-", 1)[1]
            self.auth.append(request.headers.get("Authorization"))
            if request.headers.get("Authorization") != f"Bearer {token}":
                return Response("<html>Sign in to Slack</html>", mimetype="text/html")
            return Response(self.files[fid], mimetype=XLSX)

        self.served = Served(app)

    def put(self, fid: str, name: str, data: bytes) -> dict[str, Any]:
        self.files[fid] = data
        url = f"{self.served.url}/files-pri/T0ORDERS-{fid}/{name}"
        return {"id": fid, "created": 1795000000, "timestamp": 1795000000, "name": name, "title": name,
                "mimetype": XLSX, "filetype": "xlsx", "pretty_type": "Excel Spreadsheet", "user": "U0ADMIN",
                "mode": "hosted", "editable": False, "is_external": False, "size": len(data),
                "url_private": url, "url_private_download": url + "?download=1"}


@contextmanager
def slack(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[Any]:
    from tests.e2e.slack.harness import running

    with running(engine, db_url, clock, tmp_path) as d:
        host = SlackFileHost("xoxb-e2e")
        try:
            yield d, host
        finally:
            host.served.stop()


def slack_send(d: Any, host: SlackFileHost, who: str, fid: str, name: str, data: bytes) -> None:
    event = d.dm_event(who, "")
    event.update(subtype="file_share", files=[host.put(fid, name, data)], upload=True, display_as_bot=False)
    n = d.calls.finished
    assert d.event(event).status_code == 200
    d.calls.wait(n + 1)
    d.ot.core.imports.wait()
    d.drain()


def test_slack_file_checked_imported_once(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> None:
    with slack(engine, db_url, clock, tmp_path) as (d, host):
        before = count(d.ot, Customer)
        slack_send(d, host, "admin", "F0CUST", "客户.xlsx", sheet(CUSTOMERS, template="customers"))
        assert host.auth == ["Bearer xoxb-e2e"]  # downloaded once, with the bot token
        card = d.card_to("admin", "已检查：客户.xlsx", "import_apply")
        assert "新增" in card.content and count(d.ot, Customer) == before  # a check writes nothing
        d.click("admin", card, "import_apply")
        d.ot.core.imports.wait()
        d.drain()
        assert count(d.ot, Customer) == before + 2 and count(d.ot, Customer, code="C102") == 1
        assert any("已导入" in p.content for p in d.updates())  # the card lost its Import button
        n = count(d.ot, Customer)
        d.click("admin", card, "import_apply")  # the old card's button, pressed again
        d.ot.core.imports.wait()
        d.drain()
        assert count(d.ot, Customer) == n
        assert any("已导入过" in p.content for p in d.answers("admin"))


def test_slack_bad_file_and_non_admin(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> None:
    with slack(engine, db_url, clock, tmp_path) as (d, host):
        slack_send(d, host, "admin", "F0BAD", "products.xlsx", sheet(BAD_PRODUCTS, template="products", lang="en"))
        [posted] = d.posts_to("admin", "已检查：products.xlsx")
        assert not [e for e in posted.buttons() if str(e.get("action_id", "")).startswith("ot_import_apply")]
        assert "未导入" in posted.content and "必填" in posted.content  # the problems, row by row
        assert count(d.ot, Product, sku="SKU-502") == 0
        slack_send(d, host, "li", "F0LI", "客户.xlsx", sheet(CUSTOMERS, template="customers"))
        assert any("只有管理员可以导入文件" in p.content for p in d.answers("li"))
        assert len(host.auth) == 1  # li's file was never downloaded
        with d.ot.sessions() as s:
            assert s.scalar(select(func.count()).select_from(ImportCheck)) == 1


# ------------------------------------------------------------------------------------------------------------ DingTalk


@pytest.fixture
def dingtalk(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[Any]:
    yield from _dingtalk(engine, db_url, clock, tmp_path)


@pytest.fixture
def dingtalk_plain(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[Any]:
    """DingTalk without card templates: every card arrives as markdown."""
    yield from _dingtalk(engine, db_url, clock, tmp_path, dingtalk_card_template_approval="",
                         dingtalk_card_template_task="")


def _dingtalk(engine: Engine, db_url: str, clock: Clock, tmp_path: Path, **overrides: Any) -> Iterator[Any]:
    from tests.e2e.dingtalk.fake_dingtalk import FakeDingTalk
    from tests.e2e.dingtalk.harness import DingTalkDriver, LiveServer, build_app, populate

    fake = FakeDingTalk()
    app: Flask = fake._server.app  # type: ignore[attr-defined]
    fake.files: dict[str, bytes] = {}  # type: ignore[attr-defined]
    fake.downloads: list[dict[str, Any]] = []  # type: ignore[attr-defined]

    @app.post("/v1.0/robot/messageFiles/download")
    def message_file() -> Any:
        if request.headers.get("x-acs-dingtalk-access-token") not in fake.state.valid_tokens:
            return jsonify({"code": "InvalidAuthentication", "message": "不合法的access_token"}), 400
        body = request.get_json()
        fake.downloads.append(body)  # type: ignore[attr-defined]
        if body.get("robotCode") != "dingorderbot01" or body.get("downloadCode") not in fake.files:  # type: ignore[attr-defined]
            return jsonify({"code": "resource.not.found", "message": "downloadCode无效"}), 400
        return jsonify({"downloadUrl": f"{fake.url}/oss/{body['downloadCode']}?Expires=1795003600&Signature=x"})

    @app.get("/oss/<code>")
    def oss(code: str) -> Response:
        if code not in fake.files:  # type: ignore[attr-defined]
            abort(404)
        return Response(fake.files[code], mimetype="application/octet-stream")  # type: ignore[attr-defined]

    fake.start()
    ot = build_app(fake, engine, db_url, clock, tmp_path, **overrides)
    server = LiveServer(ot)
    try:
        yield DingTalkDriver(ot, fake, server, populate(ot))
    finally:
        server.stop()
        fake.stop()


def dingtalk_send(dt: Any, who: str, code: str, name: str, data: bytes) -> None:
    from tests.e2e.dingtalk.harness import ROBOT_PATH, STAFF, robot_headers
    from tests.e2e.dingtalk.payloads import robot_message

    dt.fake.files[code] = data
    body = robot_message("", group=False, msg_id=f"msgFile{code}==", staff_id=STAFF[who])
    del body["text"]
    body.update(msgtype="file", content={"downloadCode": code, "fileName": name, "spaceId": "2611", "fileId": "1527"})
    resp = dt.post(ROBOT_PATH, body, robot_headers())
    assert resp.status_code == 200 and resp.json() == {"msgtype": "empty"}, resp.text
    dt.ot.core.imports.wait()
    dt.drain()


def test_dingtalk_file_checked_imported_once(dingtalk: Any) -> None:
    dt = dingtalk
    dingtalk_send(dt, "admin", "dlc-products", "商品.xlsx", sheet(PRODUCTS, template="products"))
    assert dt.fake.downloads[-1]["downloadCode"] == "dlc-products"
    [card] = [c for c in dt.cards("import_check", to="admin")]
    assert count(dt.ot, Product, sku="SKU-501") == 0
    token = card.token("import_apply")
    resp = dt.click("admin", card, "import_apply")
    assert resp.status_code == 200, resp.text
    dt.ot.core.imports.wait()
    dt.drain()
    with dt.ot.sessions() as s:
        p = s.scalars(select(Product).where(Product.sku == "SKU-501")).one()
        assert p.name == "六角螺母 M8" and str(p.list_price) == "12.50"
    from tests.e2e.dingtalk.harness import CARD_PATH, card_headers

    assert dt.cards("import_done", to="admin")  # the card itself now says so, without the button
    # A second press of the old button: DingTalk clicks carry no id, so the same person pressing the same button on
    # the same card is one event (a double tap) and has no second effect.
    dt.post(CARD_PATH, dt.click_body("admin", card, token), card_headers())
    dt.ot.core.imports.wait()
    dt.drain()
    assert count(dt.ot, Product, sku="SKU-501") == 1
    assert count(dt.ot, AuditEntry, action="imported") == 1


def test_dingtalk_bad_file_and_non_admin(dingtalk: Any) -> None:
    dt = dingtalk
    dingtalk_send(dt, "admin", "dlc-bad", "商品.xlsx", sheet(BAD_PRODUCTS, template="products"))
    cards = dt.cards("import_check", to="admin")
    [card] = cards
    assert "金额「-3」不能为负数" in card.params["lines"] and "什么都没有写入" in card.params["text"]
    assert not any(c.params.get(f"btn{i}_action") == "import_apply" and c.params.get(f"btn{i}_visible") == "true"
                   for c in cards for i in (1, 2, 3))
    assert count(dt.ot, Product, sku="SKU-502") == 0
    downloads = len(dt.fake.downloads)
    dingtalk_send(dt, "li", "dlc-li", "商品.xlsx", sheet(PRODUCTS, template="products"))
    assert len(dt.fake.downloads) == downloads  # nothing fetched for a non-admin
    assert any("只有管理员可以导入文件" in t for t in dt.texts_to("li"))


def _links(markdown: str) -> list[str]:
    """The texts a markdown message's dtmd:// links send when pressed."""
    return [unquote(m) for m in re.findall(r"\(dtmd://dingtalkclient/sendMessage\?content=([^)]+)\)", markdown)]


def test_dingtalk_without_templates_imports_from_the_markdown_card(dingtalk_plain: Any) -> None:
    dt = dingtalk_plain
    dingtalk_send(dt, "admin", "dlc-plain", "商品.xlsx", sheet(PRODUCTS, template="products"))
    assert not dt.cards("import_check", to="admin")  # no template: the check arrives as a markdown message
    [check] = [m for m in dt.texts_to("admin") if "商品.xlsx" in m and _links(m)]
    [press] = [c for c in _links(check) if c.startswith("导入 (#import_apply@")]
    assert count(dt.ot, Product, sku="SKU-501") == 0
    forged = press[:-3] + ("A" if press[-3] != "A" else "B") + press[-2:]
    dt.say("admin", forged)  # a token we did not sign is only text
    dt.ot.core.imports.wait()
    dt.drain()
    assert count(dt.ot, Product, sku="SKU-501") == 0
    dt.say("li", press)  # the same text from someone who may not import
    dt.ot.core.imports.wait()
    dt.drain()
    assert count(dt.ot, Product, sku="SKU-501") == 0
    dt.say("admin", press)  # pressing the link sends it as the admin's message: that is the click
    dt.ot.core.imports.wait()
    dt.drain()
    with dt.ot.sessions() as s:
        p = s.scalars(select(Product).where(Product.sku == "SKU-501")).one()
        assert p.name == "六角螺母 M8" and str(p.list_price) == "12.50"
    assert any("已导入" in m for m in dt.texts_to("admin"))
    dt.say("admin", press)  # pressed again later: a message of its own, but the check is spent
    dt.ot.core.imports.wait()
    dt.drain()
    assert count(dt.ot, Product, sku="SKU-501") == 1
    assert count(dt.ot, AuditEntry, action="imported") == 1


# ------------------------------------------------------------------------------------------------------------ WeCom


@pytest.fixture
def wecom(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[Any]:
    from tests.e2e.wecom.fake_api import FakeWeCom, ServerThread
    from tests.e2e.wecom.harness import USERIDS, WeComDriver, build_app

    fake = FakeWeCom()
    fake.users |= set(USERIDS.values())
    media: dict[str, bytes] = {}
    fetched: list[str] = []
    app = fake.app()

    @app.get("/cgi-bin/media/get")
    def media_get() -> Any:
        if request.args.get("access_token") not in fake.tokens:
            return jsonify({"errcode": 40014, "errmsg": "invalid access_token"})
        mid = request.args.get("media_id", "")
        fetched.append(mid)
        if mid not in media:
            return jsonify({"errcode": 40007, "errmsg": "invalid media_id"})
        resp = Response(media[mid], mimetype="application/octet-stream")
        resp.headers["Content-Disposition"] = 'attachment; filename="file.xlsx"'
        return resp

    with ServerThread(app) as api:
        ot = build_app(api.url, engine, db_url, clock, tmp_path)
        world = build_world(ot.sessions)
        with ot.sessions() as s:
            for username, userid in USERIDS.items():
                link(s, username, "wecom", userid, linkable=["wecom"])
            s.commit()
        with ServerThread(ot.flask) as served:
            driver = WeComDriver(ot, fake, served.url, world)
            driver.media, driver.fetched = media, fetched  # type: ignore[attr-defined]
            yield driver


def wecom_send(wc: Any, who: str, media_id: str, name: str, data: bytes) -> None:
    from tests.e2e.wecom.harness import AGENT_ID, CORP_ID, USERIDS

    wc.media[media_id] = data
    xml = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{USERIDS[who]}]]></FromUserName>"
           f"<CreateTime>1795000000</CreateTime><MsgType><![CDATA[file]]></MsgType>"
           f"<MediaId><![CDATA[{media_id}]]></MediaId><FileName><![CDATA[{name}]]></FileName>"
           f"<FileSize>{len(data)}</FileSize><MsgId>{7368009000000000000 + len(wc.media)}</MsgId>"
           f"<AgentID>{AGENT_ID}</AgentID></xml>")
    resp = wc.post_xml(xml)
    assert resp.status_code == 200 and resp.content == b"", resp.text
    wc.ot.core.imports.wait()
    wc.drain()


def test_wecom_file_checked_imported_once(wecom: Any) -> None:
    wc = wecom
    before = count(wc.ot, Customer)
    wecom_send(wc, "admin", "MEDIA-1", "customers.csv",
               "客户编码,客户名称,省份\nC301,苏州吴中精密,江苏\nC302,无锡梁溪机电,江苏\n".encode("gbk"))
    assert wc.fetched == ["MEDIA-1"]
    [card] = wc.cards("admin", "customers.csv")
    assert count(wc.ot, Customer) == before
    wc.click("admin", card, card.key("import_apply"))
    wc.ot.core.imports.wait()
    wc.drain()
    assert count(wc.ot, Customer) == before + 2
    with wc.ot.sessions() as s:
        assert s.scalar(select(Customer.name).where(Customer.code == "C301")) == "苏州吴中精密"
    wc.click("admin", card, card.key("import_apply"))
    wc.ot.core.imports.wait()
    wc.drain()
    assert count(wc.ot, Customer) == before + 2
    assert any("已导入过" in t for t in wc.texts_to("admin"))  # refused (an error card: markdown on WeCom)


def test_wecom_bad_file_and_non_admin(wecom: Any) -> None:
    wc = wecom
    wecom_send(wc, "admin", "MEDIA-BAD", "customers.csv", "客户编码,客户名称,信用额度\nC401,,很多\n".encode())
    sent = [s for s in wc.sends_to("admin") if "customers.csv" in str(s)]
    assert sent and "import_apply" not in str(sent[-1]) and "必填" in str(sent[-1])
    assert count(wc.ot, Customer, code="C401") == 0
    wecom_send(wc, "li", "MEDIA-LI", "customers.csv", "客户编码,客户名称\nC402,某公司\n".encode())
    assert "MEDIA-LI" not in wc.fetched
    assert any("只有管理员可以导入文件" in str(s) for s in wc.sends_to("li"))


def test_slack_bot_token_goes_only_to_slack_hosts(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> None:
    """A file URL on any other host is not fetched with the bot token (nor at all)."""
    with slack(engine, db_url, clock, tmp_path) as (d, host):
        elsewhere = SlackFileHost("xoxb-e2e")
        try:
            event = d.dm_event("admin", "")
            f = elsewhere.put("F0EVIL", "客户.xlsx", sheet(CUSTOMERS, template="customers"))
            f["url_private"] = f["url_private_download"] = f["url_private"].replace("127.0.0.1", "localhost")
            event.update(subtype="file_share", files=[f])
            n = d.calls.finished
            d.event(event)
            d.calls.wait(n + 1)
            d.ot.core.imports.wait()
            d.drain()
            assert elsewhere.auth == [] and host.auth == []
            assert any("无法下载 客户.xlsx" in p.content for p in d.answers("admin"))
        finally:
            elsewhere.served.stop()
