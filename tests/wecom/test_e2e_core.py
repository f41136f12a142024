"""WeCom end to end with the real bot core: encrypted, signed callbacks into the real app, the real domain on
SQLite and PostgreSQL, and the outbox delivering to a fake WeCom API on localhost."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.wecom.crypto import WeComCrypto
from bot.bootstrap import OrderTalk, build
from bot.records import OutboxMessage
from domain.directory import link
from domain.models import AuditEntry, Order
from domain.orders import get_order
from tests.wecom.conftest import TOKEN, CallbackSender, card_event_xml, make_settings, text_xml
from tests.wecom.fake_api import CORP_ID, FakeWeCom, ServerThread
from tests.world import build_world

NUMBER = "SO-20261123-0001"
PEOPLE = {"li": "lisi", "wang": "wangwu", "zhao": "zhaoliu", "sun": "sunqi", "qian": "qianba"}
_ids = itertools.count(7368000000000000001)


@pytest.fixture
def wecom(engine, db_url, clock, tmp_path) -> Iterator[tuple[OrderTalk, FakeWeCom, CallbackSender]]:
    fake = FakeWeCom()
    fake.users |= set(PEOPLE.values())
    with ServerThread(fake.app()) as server:
        settings = make_settings(server.url, database_url=db_url, run_dispatcher=False, run_scheduler=False,
                                 secret_key="e2e", data_dir=tmp_path, outbox_backoff_base=1.0)
        ot = build(settings, clock=clock, engine=engine)
        build_world(ot.sessions)
        with ot.sessions() as s:
            for username, uid in PEOPLE.items():
                link(s, username, "wecom", uid)
            s.commit()
        yield ot, fake, CallbackSender(ot.flask.test_client())


def say(ot: OrderTalk, sender: CallbackSender, user: str, text: str, msg_id: int | None = None) -> Any:
    r = sender.post_xml(text_xml(text, str(msg_id or next(_ids)), user))
    ot.dispatcher.drain()
    return r


def cards_to(fake: FakeWeCom, user: str) -> list[dict[str, Any]]:
    return [s for s in fake.sends if s["touser"] == user and s["msgtype"] == "template_card"]


def texts_to(fake: FakeWeCom, user: str) -> str:
    return json.dumps([s for s in fake.sends if s["touser"] == user], ensure_ascii=False)


def key_of(card: dict[str, Any], action_prefix: str) -> str:
    for b in card["template_card"].get("button_list", []):
        if b.get("key", "").startswith(action_prefix + "@"):
            return b["key"]
    raise AssertionError(f"no {action_prefix} button in {json.dumps(card, ensure_ascii=False)[:400]}")


def click(ot: OrderTalk, sender: CallbackSender, user: str, card: dict[str, Any], key: str, created: str = "1716000300") -> Any:
    xml = card_event_xml(key=key, user=user, task_id=card["template_card"]["task_id"]).replace(
        "<CreateTime>1716000300</CreateTime>", f"<CreateTime>{created}</CreateTime>")
    r = sender.post_xml(xml)
    ot.dispatcher.drain()
    return r


def _submitted(ot: OrderTalk, fake: FakeWeCom, sender: CallbackSender) -> tuple[dict[str, Any], dict[str, Any]]:
    assert say(ot, sender, "lisi", "下单 华兴 SKU-001 x10").status_code == 200
    wang, zhao = cards_to(fake, "wangwu"), cards_to(fake, "zhaoliu")
    assert len(wang) == 1 and len(zhao) == 1 and NUMBER in json.dumps(wang[0], ensure_ascii=False)
    return wang[0], zhao[0]


def test_url_verification_through_the_real_app(wecom):
    ot, fake, sender = wecom
    echo = sender.crypto.encrypt("echo-1716000000")
    r = sender.http.get(f"/wecom/callback?{sender.query(echo, echostr=echo)}")
    assert r.status_code == 200 and r.get_data(as_text=True) == "echo-1716000000"
    bad = sender.http.get(f"/wecom/callback?{sender.query(echo, sig='0' * 40, echostr=echo)}")
    assert bad.status_code in (401, 403)


def test_encrypted_text_message_gets_the_status(wecom):
    ot, fake, sender = wecom
    _submitted(ot, fake, sender)
    say(ot, sender, "lisi", f"订单 {NUMBER}")
    say(ot, sender, "lisi", f"where is {NUMBER}")
    assert texts_to(fake, "lisi").count("待审批") >= 2


def test_approval_card_clicked_decided_and_updated_for_every_approver(wecom):
    ot, fake, sender = wecom
    wang, zhao = _submitted(ot, fake, sender)
    r = click(ot, sender, "wangwu", wang, key_of(wang, "approve"))
    assert r.status_code == 200
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "approved"
        assert s.scalar(select(AuditEntry.platform).where(AuditEntry.action == "approved")) == "wecom"
    updated = {tuple(u["userids"]) for u in fake.updates}
    assert ("wangwu",) in updated and ("zhaoliu",) in updated  # both copies, each with its own response_code
    assert all("王经理" in json.dumps(u, ensure_ascii=False) for u in fake.updates)
    # the shipping task reaches the warehouse person and the warehouse group chat, without prices
    task = cards_to(fake, "sunqi")
    assert len(task) == 1 and NUMBER in json.dumps(task[0], ensure_ascii=False) and "¥" not in json.dumps(task[0], ensure_ascii=False)
    group = [c for c in fake.chat_sends if c["chatid"] == "warehouse01"]
    assert group and NUMBER in json.dumps(group, ensure_ascii=False)
    # the second approver's (already updated) copy clicked late: told who decided, nothing changes
    click(ot, sender, "zhaoliu", zhao, key_of(zhao, "approve"), created="1716000400")
    with ot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "approved")) == 1


def test_expired_token_and_rate_limit_are_retried_and_delivered_once(wecom, clock):
    ot, fake, sender = wecom
    say(ot, sender, "lisi", "下单 华兴 SKU-001 x10")
    fake.expire_all_tokens()
    fake.faults.append(45009)  # api freq out of limit
    say(ot, sender, "lisi", f"订单 {NUMBER}")
    with ot.sessions() as s:
        pending = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        assert len(pending) == 1 and "45009" in (pending[0].last_error or "")
    clock.advance(minutes=5)
    ot.dispatcher.drain()
    status_answers = [x for x in fake.sends if x["touser"] == "lisi" and "待审批" in json.dumps(x, ensure_ascii=False)
                      and "下单时间" in json.dumps(x, ensure_ascii=False)]
    assert len(status_answers) == 1
    assert fake.token_calls >= 2  # a fresh token after the expiry


def _state(ot: OrderTalk) -> tuple[Any, ...]:
    with ot.sessions() as s:
        return (s.scalar(select(Order.status).where(Order.number == NUMBER)),
                s.scalar(select(func.count()).select_from(AuditEntry)),
                s.scalar(select(func.count()).select_from(OutboxMessage)))


def test_redelivered_callbacks_have_one_effect_and_bad_ones_change_nothing(wecom):
    ot, fake, sender = wecom
    wang, _ = _submitted(ot, fake, sender)
    sends = len(fake.sends)
    for _ in range(3):
        say(ot, sender, "lisi", f"订单 {NUMBER}", msg_id=7368999)
    assert len(fake.sends) == sends + 1
    key = key_of(wang, "approve")
    before = _state(ot)
    xml = card_event_xml(key=key, user="wangwu", task_id=wang["template_card"]["task_id"])
    encrypt = sender.crypto.encrypt(xml)
    assert sender.post_raw(sender.envelope(encrypt), encrypt, sig="0" * 40).status_code in (401, 403)
    assert sender.post_raw("<xml><Encrypt>", encrypt).status_code in (400, 401, 403)
    assert sender.post_raw("not xml at all", encrypt).status_code in (400, 401, 403)
    other_key = WeComCrypto(TOKEN, "a" * 43, CORP_ID).encrypt(xml)  # the wrong AES key, correctly signed
    assert sender.post_raw(sender.envelope(other_key), other_key).status_code in (400, 401, 403)
    assert _state(ot) == before
    # a non-approver clicking a forwarded card: refused and audited, the order unchanged
    click(ot, sender, "qianba", wang, key)
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "pending_approval"
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "refused")).all()
        assert any(e.platform == "wecom" for e in refused)
    for _ in range(3):  # the approver's click delivered three times
        click(ot, sender, "wangwu", wang, key, created="1716000500")
    with ot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "approved")) == 1
