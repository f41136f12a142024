"""Shipping by text and by form, through the sandbox: carrier, tracking number and per-line quantities are read
strictly (anything left over is an error and nothing ships), a partial shipment says what went and what is left, and
a task with more lines than a form can show asks "everything left" vs a typed list instead of dropping lines."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from bot.cards.fulfilment import MAX_LINE_INPUTS
from domain.models import Product, Shipment, Stock
from domain.orders import get_order
from tests.sandbox import Chat, button, text_of
from tests.world import build_world

NUMBER = "SO-20261123-0001"


def _approved_task(chat: Chat, order: str = "下单 华兴 SKU-001 x10 SKU-002 x5") -> dict:
    chat.say("li", order)
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    return chat.cards("sun", "shipping_task")[0]


def _shipments(ot) -> list[Shipment]:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        rows = list(s.scalars(select(Shipment).order_by(Shipment.id)))
        for r in rows:
            _ = [(ln.quantity, ln.line.product.sku) for ln in r.lines]
        s.expunge_all()
        return rows


def test_the_reported_message_ships_only_the_named_line_with_the_right_carrier_and_tracking(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    ref = _approved_task(chat)["data"]["task"]
    told = text_of(chat.say("sun", f"ship {ref} SF SF55555 SKU-002 x2"))
    assert told == (f"已部分发货：订单 {NUMBER}，顺丰 SF55555：SKU-002×2。任务 {ref} 还剩：SKU-001×10和SKU-002×3"
                    f"（发送「发货 {ref} 快递公司 单号」发剩余部分）。")
    [shipment] = _shipments(ot)
    assert (shipment.carrier, shipment.tracking_no) == ("顺丰", "SF55555")
    assert [(ln.line.product.sku, ln.quantity) for ln in shipment.lines] == [("SKU-002", 2)]
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "partially_shipped"

    # the rest
    told = text_of(chat.say("sun", f"发货 {ref} 中通 ZT998877"))
    assert told == f"已确认发货：订单 {NUMBER}，中通 ZT998877：SKU-001×10和SKU-002×3。任务 {ref} 已全部发完。"
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "shipped"


def test_anything_left_over_or_unknown_is_a_clear_error_and_nothing_ships(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    ref = _approved_task(chat)["data"]["task"]
    for text, expect in [
        (f"ship {ref} SF SF55555 SKU-002 x2 today", "无法识别「today」，没有发货"),
        (f"ship {ref} SF SF55555 SKU-002", "无法识别「SKU-002」"),
        (f"ship {ref} FedEx 12345", "不认识快递公司「FedEx」"),
        (f"ship {ref} SF55555 SF", "请先写快递公司"),
        (f"ship {ref} SF SF55555 SKU-009 x1", f"任务 {ref} 中没有 SKU-009，没有发货"),
        (f"ship {ref} SF SF55555 SKU-002 x9", "SKU-002 最多可发 5"),
        (f"ship {ref} SF SF55555 SKU-002 x2 SKU-002=1", "SKU-002 写了两次发货数量"),
    ]:
        assert expect in text_of(chat.say("sun", text)), text
    assert _shipments(ot) == []
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "approved"


def test_a_quoted_carrier_is_kept_as_written(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    ref = _approved_task(chat)["data"]["task"]
    chat.say("sun", f'发货 {ref} "安能物流" AN-20261123 SKU-001=3')
    [shipment] = _shipments(ot)
    assert (shipment.carrier, shipment.tracking_no) == ("安能物流", "AN-20261123")


def test_a_form_with_every_line_set_to_zero_ships_nothing(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    task = _approved_task(chat)
    ship = button(task, "ship")
    zeros = {i["name"]: "0" for i in ship["inputs"] if i["name"].startswith("qty_")}
    assert len(zeros) == 2
    told = text_of(chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF1", **zeros}))
    assert "没有要发货的数量" in told and _shipments(ot) == []
    told = text_of(chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF1", **zeros,
                                                     next(iter(zeros)): "2.5"}))
    assert "必须是整数" in told and _shipments(ot) == []  # read by domain.parsing, never truncated to 2


def test_a_task_longer_than_a_form_asks_everything_or_a_typed_list_and_drops_no_line(ot):
    w = build_world(ot.sessions)
    n = MAX_LINE_INPUTS + 80  # 120 lines: more than a Slack modal's 100 inputs
    with ot.sessions() as s:
        for i in range(n):
            p = Product(sku=f"SKU-9{i:03d}", name=f"零件 {i}", unit="件", list_price=Decimal("1.00"))
            s.add(p)
            s.flush()
            s.add(Stock(warehouse_id=w["east"], product_id=p.id, on_hand=100))
        s.commit()
    chat = Chat(ot)
    task = _approved_task(chat, "下单 华兴 " + " ".join(f"SKU-9{i:03d} x3" for i in range(n)))
    ship = button(task, "ship")
    assert [i["name"] for i in ship["inputs"]] == ["carrier", "tracking", "ship_mode", "ship_lines"]
    assert [o["value"] for o in ship["inputs"][2]["options"]] == ["all", "some"]

    base = {"carrier": "顺丰", "tracking": "SF7001"}
    told = text_of(chat.click("sun", ship["token"], {**base, "ship_mode": "all", "ship_lines": "SKU-9000 x1"}))
    assert "请二选一" in told and _shipments(ot) == []
    assert "请逐行填写" in text_of(chat.click("sun", ship["token"], {**base, "ship_mode": "some"}))
    told = text_of(chat.click("sun", ship["token"], {**base, "ship_mode": "some",
                                                     "ship_lines": "SKU-9000 x1\nSKU-9119 x3, SKU-9060=2 oops"}))
    assert "无法识别「oops」" in told and _shipments(ot) == []

    told = text_of(chat.click("sun", ship["token"], {**base, "ship_mode": "some",
                                                     "ship_lines": "SKU-9000 x1\nsku-9119 x3, SKU-9060=2"}))
    assert "已部分发货" in told and "SKU-9000×1" in told and "SKU-9119×3" in told and "SKU-9060×2" in told
    [partial] = _shipments(ot)
    assert sorted((ln.line.product.sku, ln.quantity) for ln in partial.lines) == [
        ("SKU-9000", 1), ("SKU-9060", 2), ("SKU-9119", 3)]

    chat.click("sun", ship["token"], {**base, "tracking": "SF7002", "ship_mode": "all"})
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "shipped"
        shipped = s.scalar(select(func.sum(Stock.on_hand)).where(Stock.product_id.in_(
            select(Product.id).where(Product.sku.like("SKU-9%")))))
        assert shipped == n * 100 - n * 3  # every one of the 120 lines left the warehouse, all three units each
