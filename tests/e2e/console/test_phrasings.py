"""The phrasings a new user types (issue 13), end to end through the sandbox: what each creates or shows, who may
see what, and what is refused. The parser's side of each phrasing is in test_intents.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from domain.models import Order
from tests.sandbox import Chat, button, text_of
from tests.world import Clock, build_world


def _orders(ot: Any) -> list[tuple[str, str, date | None, list[tuple[str, int]]]]:
    with ot.sessions() as s:
        return [(o.number, o.customer.code, o.requested_date, [(ln.product.sku, ln.quantity) for ln in o.lines])
                for o in s.scalars(select(Order).order_by(Order.id))]


def _count(ot: Any) -> int:
    with ot.sessions() as s:
        return s.scalar(select(func.count()).select_from(Order)) or 0


def _card(replies: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r["card"] for r in replies if r.get("card"))


@pytest.mark.parametrize(("who", "text", "customer", "lines"), [
    ("li", "新建订单 华兴 SKU-001 x10", "C001", [("SKU-001", 10)]),
    ("li", "给华兴下单 SKU-001 10个", "C001", [("SKU-001", 10)]),
    ("amy", "order for ACME: SKU-003 x5", "C002", [("SKU-003", 5)]),
    ("li", "下单 华兴 SKU-001 10", "C001", [("SKU-001", 10)]),
    ("li", "下单 华兴 SKU-001 10盒", "C001", [("SKU-001", 10)]),
    ("li", "下单 华兴 10 SKU-001", "C001", [("SKU-001", 10)]),
    ("amy", "order ACME 5 pcs SKU-003", "C002", [("SKU-003", 5)]),
    ("li", "下单 华兴 SKU-001 10 SKU-002 2个", "C001", [("SKU-001", 10), ("SKU-002", 2)]),
])
def test_order_phrasings_place_the_order_typed(ot, who: str, text: str, customer: str, lines: list[tuple[str, int]]) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    said = text_of(chat.say(who, text))
    assert "SO-20261123-0001" in said, said
    assert _orders(ot) == [("SO-20261123-0001", customer, None, lines)]


def test_a_unit_that_is_not_the_products_is_asked_about_not_guessed(ot) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    said = text_of(chat.say("li", "下单 华兴 SKU-001 10箱"))  # SKU-001 is sold by the 盒
    assert "按「盒」销售" in said and "10 箱" in said and "SKU-001 x10" in said
    assert _count(ot) == 0
    assert "is sold by the drum" in text_of(chat.say("amy", "order ACME SKU-003 2 boxes"))  # 液压油: by the 桶
    assert _count(ot) == 0
    chat.say("amy", "order ACME SKU-003 2 drums")  # the English name of the product's unit, as cards show it
    assert _orders(ot) == [("SO-20261123-0001", "C002", None, [("SKU-003", 2)])]


def test_requested_date_with_the_lines_and_a_past_one_refused(ot) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 华兴 SKU-001 x10 交期 12-10")
    assert _orders(ot)[0][2] == date(2026, 12, 10)
    refused = text_of(chat.say("li", "下单 华兴 SKU-001 x10 交期 11-01"))  # today is 2026-11-23
    assert "2026年11月1日" in refused and "2027-11-01" in refused
    assert _count(ot) == 1


def test_past_dates_are_refused_on_every_path(ot) -> None:
    """Chat (外出, 交期) and forms (the order form's requested date): refused with the full date, nothing changed."""
    build_world(ot.sessions)
    chat = Chat(ot)
    away = text_of(chat.say("wang", "外出 至 11-01 转交 赵经理"))
    assert "2026年11月1日" in away and "2027-11-01" in away and "已设置" not in away
    form = _card(chat.say("li", "下单"))
    submit = button(form, "submit_order")
    with ot.sessions() as s:
        from domain.models import Customer, Product
        c1 = s.scalars(select(Customer.id).where(Customer.code == "C001")).one()
        p1 = s.scalars(select(Product.id).where(Product.sku == "SKU-001")).one()
    inputs = {"customer": str(c1), "product_1": str(p1), "qty_1": "10", "requested_date": "11-01"}
    refused = _card(chat.click("li", submit["token"], inputs))
    assert refused["kind"] == "error" and "2027-11-01" in text_of([{"card": refused}])
    assert refused["field_error"] == "requested_date" and _count(ot) == 0
    chat.click("li", submit["token"], {**inputs, "requested_date": "2026-12-01"})
    assert _orders(ot)[0][2] == date(2026, 12, 1)


def _shipped_on(chat: Chat, clock: Clock, when: datetime, text: str = "下单 华兴 SKU-001 x10") -> None:
    now = clock.current
    clock.current = when
    chat.say("li", text)
    chat.click("wang", button(chat.cards("wang", "approval_request")[-1], "approve")["token"])
    task = chat.cards("sun", "shipping_task")[-1]
    chat.click("sun", button(task, "ship")["token"], {"carrier": "顺丰", "tracking": "SF1234567890"})
    clock.current = now


def test_statements_by_period_and_the_default_period(ot, clock: Clock) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)

    def period(who: str, text: str) -> str:
        card = _card(chat.say(who, text))
        assert card["kind"] == "statement", card
        return next(f["value"] for f in card["fields"] if f["label"] in ("期间", "Period"))

    assert period("qian", "对账单 华兴 2026-11") == "2026年11月1日 – 2026年11月23日"  # to today, not the month's end
    assert period("qian", "对账单 华兴 上月") == "2026年10月1日 – 2026年10月31日"
    assert period("amy", "statement ACME last month") == "Oct 1, 2026 – Oct 31, 2026"
    # the default: the last full month and this month so far (nothing is open yet) …
    assert period("qian", "对账单 华兴") == "2026年10月1日 – 2026年11月23日"
    # … and further back when an older receivable is still open
    _shipped_on(chat, clock, datetime(2026, 8, 20, 2, 0, tzinfo=UTC))
    assert period("qian", "对账单 华兴") == "2026年8月20日 – 2026年11月23日"
    refused = text_of(chat.say("amy", "statement 华兴 last month"))  # not her customer: not even its name
    assert "No customer matches" in refused and "杭州" not in refused


def test_low_stock_on_demand_each_sees_their_own_warehouse(ot) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    assert "没有低于安全库存" in text_of(chat.say("li", "低库存"))
    chat.say("li", "下单 华兴 SKU-003 x8")  # 上海仓 10 → 2 available, safety stock 5
    chat.say("amy", "order ACME SKU-001 x40")  # 广州仓 50 → 10 available, safety stock 20
    everyone = _card(chat.say("li", "低库存"))
    assert everyone["kind"] == "low_stock"
    assert {(r[0], r[2], r[3]) for r in everyone["table"]["rows"]} == {("SKU-003", "上海仓", "2 桶"), ("SKU-001", "广州仓", "10 盒")}
    own = _card(chat.say("sun", "库存预警"))  # warehouse staff: their warehouse only
    assert [(r[0], r[2]) for r in own["table"]["rows"]] == [("SKU-003", "上海仓")]
    english = _card(chat.say("amy", "low stock"))
    assert english["title"] == "Low stock: 2 below safety stock"


def test_overdue_on_demand_respects_who_may_see_what(ot, clock: Clock) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    assert "没有逾期" in text_of(chat.say("qian", "逾期"))
    _shipped_on(chat, clock, datetime(2026, 9, 1, 2, 0, tzinfo=UTC))  # 30 days' terms: due 2026-10-01
    for who in ("qian", "wang", "li"):  # finance and managers see all; li is the order's sales
        card = _card(chat.say(who, "逾期"))
        assert card["kind"] == "reminder_digest" and "SO-20260901-0001" in text_of([{"card": card}]), who
    assert "No overdue" in text_of(chat.say("amy", "overdue"))  # not her order
    assert _card(chat.say("sun", "逾期"))["kind"] == "error"  # the warehouse has no business with money
    # a promised date in the past is refused from this card too
    promise = button(_card(chat.say("qian", "逾期")), "promise")
    assert "2027-11-01" in text_of(chat.click("qian", promise["token"], {"date": "11-01"}))


def test_greetings_answer_with_the_help_card(ot) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    zh = chat.say("li", "你好")
    assert "李四" in zh[0]["text"] and zh[0]["card"]["kind"] == "help"
    en = chat.say("amy", "hi")
    assert en[0]["text"].startswith("Hello, Amy Chen") and en[0]["card"]["title"] == "What I can do for you"


def test_half_understood_says_what_is_missing_and_the_example_works(ot) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    card = _card(chat.say("li", "下单 华兴 SKU-001"))
    assert card["kind"] == "partial"
    fields = {f["label"]: f["value"] for f in card["fields"]}
    assert "华兴" in fields["已看懂"] and "SKU-001" in fields["已看懂"] and "数量" in fields["还缺"]
    example = card["text"][0].removeprefix("例如：")
    assert example == "下单 华兴 SKU-001 x10" and _count(ot) == 0
    assert "SO-20261123-0001" in text_of(chat.say("li", example))
    english = _card(chat.say("amy", "paid"))
    assert english["kind"] == "partial" and english["text"][0].startswith("For example: paid SO-")


def test_a_choice_keeps_the_units_and_the_requested_date_typed(ot) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    # C001 and C002 both match "C00" for a manager (a sales person finds only their own customers)
    card = _card(chat.say("wang", "下单 C00 SKU-001 10盒 交期 12-10"))
    assert card["kind"] == "choices"
    pick = next(b for b in card["buttons"] if "C001" in b["label"])
    assert "SO-20261123-0001" in text_of(chat.click("wang", pick["token"]))
    assert _orders(ot) == [("SO-20261123-0001", "C001", date(2026, 12, 10), [("SKU-001", 10)])]


def test_the_new_cards_render_on_every_platform_and_documents_are_link_buttons_shown_once(ot, clock: Clock) -> None:
    """Statement, low stock, overdue, greeting and half-understood cards through the Slack (checked with slack_sdk's
    Block Kit models), WeCom and DingTalk renderers; a document's URL appears once, as a link button."""
    import json

    from slack_sdk.models.blocks import Block

    from adapters.dingtalk.render import card_markdown
    from adapters.slack.blocks import render_card
    from adapters.slack.validate import validate_message
    from adapters.wecom.render import render_markdown, render_template_card
    from bot.cards.model import Card

    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped_on(chat, clock, datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    chat.say("li", "下单 华兴 SKU-003 x8")
    cards = {}
    for who, text in (("qian", "对账单 华兴"), ("amy", "low stock"), ("qian", "逾期"), ("amy", "hi"), ("li", "下单 华兴 SKU-001")):
        cards[text] = Card.model_validate(_card(chat.say(who, text)))
    for text, card in cards.items():
        slack = render_card(card)
        assert validate_message(slack) == [], text
        assert [Block.parse(b).to_dict() for b in slack["blocks"]] == slack["blocks"], text  # slack_sdk reads them back
        assert card_markdown(card).text and render_markdown(card)
    statement = cards["对账单 华兴"]
    pdf, xlsx = statement.data["pdf"], statement.data["xlsx"]
    slack = json.dumps(render_card(statement))
    assert slack.count(pdf) == 1 and slack.count(xlsx) == 1
    links = [e for b in render_card(statement)["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {e["url"] for e in links} == {pdf, xlsx} and all(e["action_id"].startswith("otl_") for e in links)
    assert render_template_card(statement, "t1") is None  # WeCom: nothing to decide, so markdown with the links
    wecom = render_markdown(statement)
    assert wecom.count(pdf) == 1 and wecom.count(xlsx) == 1
    markdown = card_markdown(statement).text
    assert markdown.count(pdf) == 1 and markdown.count(xlsx) == 1
