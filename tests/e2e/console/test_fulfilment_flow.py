"""Approved → shipped → paid → completed, through the sandbox; documents over HTTP; stock figures on the way."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import openpyxl
from pypdf import PdfReader
from sqlalchemy import func, select

from domain.models import Payment, Receivable, Stock
from domain.orders import get_order
from tests.sandbox import Chat, button, text_of
from tests.world import build_world

NUMBER = "SO-20261123-0001"


def _approved_order(chat: Chat) -> None:
    chat.say("li", "下单 华兴 SKU-001 x10 SKU-002 x5")  # 10×110 + 5×35.50 = 1,277.50
    card = chat.cards("wang", "approval_request")[0]
    chat.click("wang", button(card, "approve")["token"])


def _stock(ot: Any, w: Any, product: str, warehouse: str = "east") -> tuple[int, int]:
    with ot.sessions() as s:
        st = s.scalars(select(Stock).where(Stock.product_id == w[product], Stock.warehouse_id == w[warehouse])).one()
        return st.on_hand, st.reserved


def _get(chat: Chat, url: str) -> Any:
    parts = urlsplit(url)
    return chat.client.get(f"{parts.path}?{parts.query}")


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def test_order_to_completed_with_partial_shipment_and_partial_payment(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    _approved_order(chat)
    assert _stock(ot, w, "p1") == (100, 10)
    task = chat.cards("sun", "shipping_task")[0]
    assert task["subtitle"] == "待领取"
    chat.click("sun", button(task, "claim")["token"])
    task = chat.cards("sun", "shipping_task")[0]
    assert "孙仓管 已领取" in task["subtitle"]  # the same card, updated for everyone who has it
    ship = button(task, "ship")
    qty_inputs = {i["name"]: i for i in ship["inputs"] if i["name"].startswith("qty_")}
    sku1_input = next(n for n, i in qty_inputs.items() if "SKU-001" in i["label"])
    sku2_input = next(n for n, i in qty_inputs.items() if "SKU-002" in i["label"])
    # partial shipment: 4 of the 10 screws, none of the bearings
    replies = chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF1234567890", sku1_input: "4", sku2_input: "0"})
    assert text_of(replies) == ("已部分发货：订单 SO-20261123-0001，顺丰 SF1234567890：SKU-001×4。"  # what went, what is left
                                "任务 T-1 还剩：SKU-001×6和SKU-002×5（发送「发货 T-1 快递公司 单号」发剩余部分）。").replace(
                                    "T-1", task["data"]["task"])
    assert _stock(ot, w, "p1") == (96, 6)  # reservation turned into a deduction for what left the building
    assert _stock(ot, w, "p2") == (500, 5)
    with ot.sessions() as s:
        order = get_order(s, NUMBER)
        assert order.status == "partially_shipped"
        receivables = s.scalars(select(Receivable).where(Receivable.order_id == order.id)).all()
        assert [r.amount for r in receivables] == [Decimal("440.00")]  # 4 × 110
        assert str(receivables[0].due_date) == "2026-12-23"  # ship date + 30 days' terms
    shipped = [c for c in chat.cards("li", "info") if "已发货" in c["title"]]
    assert len(shipped) == 1 and "SF1234567890" in text_of([{"card": shipped[0]}])
    # the delivery note opens as a PDF that names the order, the tracking number and the goods, and no prices
    links = [b for b in shipped[0]["buttons"] if b.get("url")]
    assert len(links) == 1 and links[0]["url"] not in text_of([{"card": shipped[0]}])  # one link, as a button
    note = _get(chat, links[0]["url"])
    assert note.status_code == 200 and note.mimetype == "application/pdf"
    text = _pdf_text(note.data)
    assert NUMBER in text and "SF1234567890" in text and "SKU-001" in text and "SKU-002" not in text
    assert "110" not in text
    # the rest goes out by text command
    ref = task["data"]["task"]
    chat.say("sun", f"发货 {ref} 中通 ZT998877")
    assert _stock(ot, w, "p1") == (90, 0) and _stock(ot, w, "p2") == (495, 0)
    with ot.sessions() as s:
        order = get_order(s, NUMBER)
        assert order.status == "shipped"
        assert sum(r.amount for r in s.scalars(select(Receivable).where(Receivable.order_id == order.id))) == order.total
    # finance: a partial payment, an overpayment refused with the open amount shown, then the rest
    assert "未收 ¥777.50" in text_of(chat.say("qian", f"收款 {NUMBER} 500"))
    refused = text_of(chat.say("qian", f"收款 {NUMBER} 1000"))
    assert "超过" in refused and "777.50" in refused
    with ot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
    chat.say("qian", f"收款 {NUMBER} 777.50")
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "completed"
    assert any("收到回款" in c["title"] for c in chat.cards("li", "info"))


def test_sales_cannot_record_payments_and_warehouse_cannot_see_other_warehouses_tasks(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    _approved_order(chat)
    task = chat.cards("sun", "shipping_task")[0]
    chat.click("sun", button(task, "ship")["token"], {"carrier": "顺丰", "tracking": "SF1"})
    before = text_of(chat.say("li", f"收款 {NUMBER} 100"))
    assert "财务" in before
    with ot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0


def test_cancel_the_rest_after_partial_shipment_keeps_stock_right(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    _approved_order(chat)
    task = chat.cards("sun", "shipping_task")[0]
    ship = button(task, "ship")
    qty = {i["name"]: ("3" if "SKU-001" in i["label"] else "0") for i in ship["inputs"] if i["name"].startswith("qty_")}
    chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF2", **qty})
    assert _stock(ot, w, "p1") == (97, 7) and _stock(ot, w, "p2") == (500, 5)
    replies = chat.say("li", f"取消订单 {NUMBER} 客户只要这些")
    assert "取消" in text_of(replies)
    assert _stock(ot, w, "p1") == (97, 0) and _stock(ot, w, "p2") == (500, 0)  # the rest is free again
    with ot.sessions() as s:
        order = get_order(s, NUMBER)
        assert order.status == "shipped"
        assert [r.amount for r in s.scalars(select(Receivable).where(Receivable.order_id == order.id))] == [Decimal("330.00")]
    assert chat.cards("sun", "shipping_task")[0]["buttons"] == []  # the card everyone has is closed


def test_cancelling_an_approved_order_closes_its_shipping_task(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    _approved_order(chat)
    task = chat.cards("sun", "shipping_task")[0]
    chat.say("li", f"取消订单 {NUMBER} 客户撤单")
    assert _stock(ot, w, "p1") == (100, 0)
    card = chat.cards("sun", "shipping_task")[0]
    assert card["buttons"] == [] and card["subtitle"] == "已取消"
    refused = text_of(chat.click("sun", button(task, "claim")["token"]))  # the old card's button
    assert "取消" in refused
    assert _stock(ot, w, "p1") == (100, 0)


def test_statement_files_open_and_links_cannot_be_forged(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _approved_order(chat)
    task = chat.cards("sun", "shipping_task")[0]
    chat.click("sun", button(task, "ship")["token"], {"carrier": "顺丰", "tracking": "SF3"})
    chat.say("qian", f"收款 {NUMBER} 277.50")
    replies = chat.say("li", "对账单 华兴")
    card = next(r["card"] for r in replies if r.get("card"))
    assert card["kind"] == "statement" and "¥1,000.00" in text_of(replies)
    urls = [b["url"] for b in card["buttons"]]
    assert urls == [card["data"]["pdf"], card["data"]["xlsx"]] and not any(u in text_of(replies) for u in urls)
    pdf = _get(chat, card["data"]["pdf"])
    assert pdf.status_code == 200
    text = _pdf_text(pdf.data)
    assert "杭州华兴电子有限公司" in text and NUMBER in text and "1,277.50" in text and "1,000.00" in text
    xlsx = _get(chat, card["data"]["xlsx"])
    assert xlsx.status_code == 200
    cells = [str(c) for row in openpyxl.load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True)
             for c in row if c is not None]
    assert NUMBER in cells and any(c in ("1277.5", "1277.50") for c in cells) and any(c in ("1000", "1000.00") for c in cells)
    # a forged customer code, a changed period and an expired link are refused
    forged = card["data"]["pdf"].replace("/C001.", "/C002.")
    assert _get(chat, forged).status_code == 403
    assert _get(chat, card["data"]["pdf"].replace("start=", "start=2020")).status_code in (400, 403)
    clock.advance(days=31)
    expired = _get(chat, card["data"]["pdf"])
    assert expired.status_code == 403 and "expired" in expired.get_json()["error"]
    # another sales person may not ask for this customer's statement, nor learn its name by trying
    refused = text_of(chat.say("amy", "statement C001"))
    assert "No customer matches" in refused and "华兴" not in refused and "http" not in refused

