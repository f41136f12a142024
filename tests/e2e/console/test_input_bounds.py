"""Every number or date a person sends is read by the one bounded parser: forms, chat, the CLI. Out-of-range or
ambiguous input is refused with the reason, quickly, and changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from bot.records import InboundEvent
from bot.tokens import ActionToken
from domain.models import Order, Payment, Reservation, Shipment
from domain.orders import get_order
from tests.bounded import within
from tests.sandbox import Chat, button, text_of
from tests.world import build_world

NUMBER = "SO-20261123-0001"


def _approved(chat: Chat) -> dict:  # type: ignore[type-arg]
    chat.say("li", "下单 华兴 SKU-001 x10")
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    return button(chat.cards("sun", "shipping_task")[0], "ship")


def _shipped(chat: Chat) -> int:
    ship = _approved(chat)
    chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF1"})
    with chat.ot.sessions() as s:
        return get_order(s, NUMBER).id


def _count(ot, model) -> int:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _held(ot) -> int:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        return int(s.scalar(select(func.sum(Reservation.quantity))) or 0)


@pytest.mark.parametrize("typed, says", [
    ("1e600000", "数量"), ("1e10", "数量"), ("99999999999", "上限"), ("1.9", "整数"), ("0.5", "整数"),
    ("NaN", "数量"), ("-Infinity", "数量"), ("-2", "数量"), ("12,5", "数量"),
])
def test_ship_form_quantities_are_read_strictly(ot, typed, says):
    build_world(ot.sessions)
    chat = Chat(ot)
    ship = _approved(chat)
    qty = next(i["name"] for i in ship["inputs"] if i["name"].startswith("qty_"))
    replies = within(lambda: chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF1", qty: typed}), cpu=2)  # 1e600000 froze a worker for 25 s
    assert says in text_of(replies) and typed in text_of(replies), text_of(replies)
    assert _count(ot, Shipment) == 0 and _held(ot) == 10  # nothing shipped (1.9 used to ship 1)


def test_ship_form_zero_leaves_a_line_for_later(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 华兴 SKU-001 x10 SKU-002 x5")
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    ship = button(chat.cards("sun", "shipping_task")[0], "ship")
    qty1, qty2 = (i["name"] for i in ship["inputs"] if i["name"].startswith("qty_"))
    assert "已部分发货" in text_of(chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF1", qty1: "10", qty2: "0"}))
    assert _held(ot) == 5


def test_ship_form_line_keys_no_column_can_hold_are_ignored_not_a_crash(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    ship = _approved(chat)
    odd = {"qty_²": "1", "qty_" + "9" * 40: "1", "qty_99999999999": "1"}  # int("²") raised: a 500
    assert "已确认发货" in text_of(chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF1", **odd}))
    r = chat.client.post("/sandbox/api/actions", json={"user": chat.users["sun"], "token": ship["token"],
                                                        "inputs": {"qty_" + "9" * 400: "1"}})
    assert r.status_code == 400  # no form of ours has such a field: refused at the port


@pytest.mark.parametrize("typed", ["1e600000", "1e10", "99999999999", "1.9", "0", "NaN", "Infinity", "0x10"])
def test_order_form_quantities_are_read_strictly(ot, typed):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    form = chat.say("li", "新订单")[0]["card"]
    submit = button(form, "submit_order")
    replies = within(lambda: chat.click("li", submit["token"], {"customer": str(w["c1"]), "product_1": str(w["p1"]), "qty_1": typed}), cpu=2)
    assert replies[0]["card"]["kind"] == "error" and typed in text_of(replies), text_of(replies)
    assert _count(ot, Order) == 0


def test_order_form_ids_that_no_column_can_hold_are_not_a_crash(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    submit = button(chat.say("li", "新订单")[0]["card"], "submit_order")
    for customer in ("9" * 30, "²", "1e400"):
        replies = chat.click("li", submit["token"], {"customer": customer, "product_1": "SKU-001", "qty_1": "1"})
        assert replies[0]["card"]["kind"] == "error"
    assert _count(ot, Order) == 0


def test_order_form_dates_are_bounded(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    submit = button(chat.say("li", "新订单")[0]["card"], "submit_order")
    base = {"customer": str(w["c1"]), "product_1": str(w["p1"]), "qty_1": "1"}
    for typed in ("0001-01-01", "9999-12-31", "2026-11-01", "someday"):
        replies = chat.click("li", submit["token"], {**base, "requested_date": typed})
        assert replies[0]["card"]["kind"] == "error", (typed, text_of(replies))
    assert _count(ot, Order) == 0
    assert "已创建" in text_of(chat.click("li", submit["token"], {**base, "requested_date": "12-20"}))
    with ot.sessions() as s:
        assert s.scalars(select(Order.requested_date)).one() == date(2026, 12, 20)


@pytest.mark.parametrize("typed, says", [
    ("12.000,50", "歧义"), ("12,5", "歧义"), ("100.129", "两位小数"), ("NaN", "无效"), ("sNaN", "无效"),
    ("Infinity", "无效"), ("-Infinity", "无效"), ("1e100000", "无效"), ("1e600000", "无效"), ("-5", "负数"),
    ("100000000.01", "上限"), ("", "请填写金额"),
])
def test_pay_form_amounts_are_read_strictly(ot, typed, says):
    build_world(ot.sessions)
    chat = Chat(ot)
    order_id = _shipped(chat)
    token = ot.ctx.signer.sign(ActionToken("pay", order_id))
    replies = within(lambda: chat.click("qian", token, {"amount": typed, "method": "转账"}), cpu=2)
    assert replies[0]["card"]["kind"] == "error" and says in text_of(replies), text_of(replies)
    assert _count(ot, Payment) == 0


def test_pay_form_records_what_was_typed(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    order_id = _shipped(chat)
    token = ot.ctx.signer.sign(ActionToken("pay", order_id))
    assert "已登记收款 ¥1,000.50" in text_of(chat.click("qian", token, {"amount": "1,000.50", "method": "转账"}))
    with ot.sessions() as s:
        assert s.scalars(select(Payment.amount)).one() == Decimal("1000.50")


def test_payment_yesterday_is_a_date_not_a_method(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped(chat)
    replies = chat.say("qian", f"收款 {NUMBER} 1 昨天")  # the order was placed today: yesterday is before it
    assert "早于订单" in text_of(replies) and _count(ot, Payment) == 0
    clock.advance(days=2)
    assert "已登记收款" in text_of(chat.say("qian", f"收款 {NUMBER} 1 昨天 转账"))
    with ot.sessions() as s:
        payment = s.scalars(select(Payment)).one()
        assert (payment.paid_on, payment.method) == (date(2026, 11, 24), "转账")


@pytest.mark.parametrize("typed", ["0001-01-01", "2026-12-31", "明天", "2026-11-01"])
def test_payment_dates_are_bounded_by_the_order_and_today(ot, typed):
    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped(chat)
    replies = chat.say("qian", f"收款 {NUMBER} 1 {typed}")
    assert replies[0]["card"]["kind"] == "error", text_of(replies)
    assert _count(ot, Payment) == 0


def test_statement_periods_are_bounded(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    for text in ("对账单 C001 0001-01-01 9999-12-31", "对账单 C001 2026-11-30 2026-11-01"):
        replies = chat.say("qian", text)
        assert replies[0]["card"]["kind"] == "error", text_of(replies)


def test_cli_payments_use_the_same_reader(ot, db_url, tmp_path, monkeypatch):
    build_world(ot.sessions)
    _shipped(Chat(ot))
    monkeypatch.setenv("ORDERTALK_DATABASE_URL", db_url)
    monkeypatch.setenv("ORDERTALK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ORDERTALK_RUN_DISPATCHER", "false")
    runner = CliRunner()
    for amount, says in (("12.000,50", "歧义"), ("100.129", "两位小数"), ("NaN", "无效"), ("1e100000", "无效")):
        r = runner.invoke(main, ["payments", "record", NUMBER, amount, "--as", "qian"])
        assert r.exit_code != 0 and says in r.output, r.output
    for day in ("0001-01-01", "2099-01-01", "2026-11-01"):
        r = runner.invoke(main, ["payments", "record", NUMBER, "1", "--as", "qian", "--date", day])
        assert r.exit_code != 0, r.output
    assert _count(ot, Payment) == 0
    r = runner.invoke(main, ["payments", "record", NUMBER, "12,000.50", "--as", "qian"])
    assert r.exit_code != 0 and "12,000.50" in r.output and "1,100.00" in r.output  # read right, refused as too much
    r = runner.invoke(main, ["payments", "record", NUMBER, "1,000", "--as", "qian", "--date", "yesterday"])
    assert r.exit_code == 0, r.output
    with ot.sessions() as s:
        assert s.scalars(select(Payment.amount)).one() == Decimal("1000.00")


def test_refusals_are_recorded_once_and_change_nothing(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    order_id = _shipped(chat)
    token = ot.ctx.signer.sign(ActionToken("pay", order_id))
    before = _count(ot, InboundEvent)
    first = chat.click("qian", token, {"amount": "NaN"}, event_id="same-click")
    assert chat.click("qian", token, {"amount": "NaN"}, event_id="same-click") == []  # a redelivery: answered once
    assert first and _count(ot, InboundEvent) == before + 1 and _count(ot, Payment) == 0
