"""The warehouse's chat commands on SQLite and PostgreSQL (入库 / 盘点 / 调拨, the receipt form, 库存) with their
permissions, and the ledger they leave (on hand = the sum of the movements). The commands themselves:
tests/unit/test_stock_ledger.py."""

from __future__ import annotations

from sqlalchemy import func, select

from domain.models import (
    MovementKind,
    Stock,
    StockMovement,
    User,
)
from tests.sandbox import Chat, button, text_of
from tests.unit.test_stock_ledger import check_ledger
from tests.world import build_world


def test_warehouse_chat_commands(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    reply = text_of(chat.say("sun", "入库 SKU-001 100 供应商到货"))
    assert "已入库" in reply and "上海仓 可用 200" in reply and "全部仓库可用 250" in reply
    counted = text_of(chat.say("sun", "盘点 SKU-001 195"))
    assert "差异 -5" in counted and "上海仓 可用 195" in counted
    assert "与账面一致" in text_of(chat.say("sun", "盘点 SKU-001 195 上海仓"))
    moved = text_of(chat.say("sun", "调拨 SKU-001 20 上海仓 广州仓"))
    assert "上海仓 可用 175" in moved and "广州仓 可用 70" in moved
    assert "only" in text_of(chat.say("amy", "receive SKU-001 5")).lower()  # sales may not
    assert "广州仓" in text_of(chat.say("sun", "入库 SKU-001 5 广州仓"))  # not his warehouse: refused
    assert "仓库人员" in text_of(chat.say("sun", "入库 SKU-001 5 广州仓"))
    assert "整数" in text_of(chat.say("sun", "入库 SKU-001 1.5"))
    view = chat.say("sun", "库存 SKU-001")
    text = text_of(view)
    assert "上海仓 | 175 | 0 | 175" in text and "广州仓 | 70 | 0 | 70" in text
    assert "调拨出 -20 → 175 · 孙仓管 · WH-SH>WH-GZ" in text and "入库 +100 → 200 · 孙仓管 · 供应商到货" in text
    with ot.sessions() as s:  # an English-speaking admin reads the same in English, units included
        s.get(User, w["admin"]).locale = "en"
        s.commit()
    english = text_of(chat.say("admin", "receive SKU-001 5 WH-GZ"))
    assert "Received 5 boxes of SKU-001" in english and "广州仓: 75 boxes available" in english, english
    assert "Last movements" in text_of(chat.say("admin", "stock SKU-001"))
    assert "Only warehouse staff" in text_of(chat.say("amy", "transfer SKU-001 1 WH-SH WH-GZ"))
    with ot.sessions() as s:
        east = s.scalar(select(Stock).where(Stock.warehouse_id == w["east"], Stock.product_id == w["p1"]))
        assert east.on_hand == 175
        assert s.scalar(select(func.sum(StockMovement.quantity)).where(StockMovement.stock_id == east.id)) == 175
    check_ledger(ot.sessions)


def test_receipt_form_card(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    form = chat.say("sun", "入库")[0]["card"]
    assert form["kind"] == "form" and [o["label"] for o in form["inputs"][0]["options"]] == ["上海仓（WH-SH）"]
    token = button(form, "receive_goods")["token"]
    bad = text_of(chat.click("sun", token, {"warehouse": str(w["east"]), "product_1": str(w["p1"]), "qty_1": "0"}))
    assert "大于 0" in bad
    done = chat.click("sun", token, {"warehouse": str(w["east"]), "product_1": str(w["p1"]), "qty_1": "1,000",
                                     "product_2": "SKU-003", "qty_2": "5", "note": "采购单 PO-7"})
    table = done[0]["card"]["table"]["rows"]
    assert table == [["SKU-001", "不锈钢螺丝 M6", "+1000", "1100"], ["SKU-003", "液压油 46#", "+5", "15"]]
    admin_form = chat.say("admin", "receive")[0]["card"]
    assert len(admin_form["inputs"][0]["options"]) == 2  # an admin may receive anywhere
    assert "仓库人员" in text_of(chat.say("li", "入库"))
    with ot.sessions() as s:
        notes = set(s.scalars(select(StockMovement.note).where(StockMovement.kind == MovementKind.RECEIPT.value)))
        assert notes == {"采购单 PO-7"}
