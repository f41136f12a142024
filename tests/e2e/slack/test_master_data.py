"""Master data on Slack, end to end: the customer card and its Edit button, the customer form as a modal (checked
with slack_sdk's own View and Block models and the Block Kit limits), field errors shown on the modal with nothing
written, and `/order new customer` opening the form directly."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import Engine, select

from adapters.slack.validate import validate_message, validate_view
from domain.models import AuditEntry, Customer
from tests.e2e.slack.harness import WAREHOUSE_CHANNEL, SlackDriver, running
from tests.world import Clock


@pytest.fixture
def sl(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[SlackDriver]:
    with running(engine, db_url, clock, tmp_path, slack_warehouse_channel=WAREHOUSE_CHANNEL) as driver:
        yield driver


def slack_checks(view_or_message: dict[str, Any], *, view: bool) -> None:
    """Our limits and slack_sdk's: its models must read every block back to the same JSON."""
    assert (validate_view(view_or_message) if view else validate_message(view_or_message)) == []
    assert [Block.parse(b).to_dict() for b in view_or_message["blocks"]] == view_or_message["blocks"]
    if view:
        View(**view_or_message).validate_json()


def customer(sl: SlackDriver, code: str) -> Customer:
    with sl.ot.sessions() as s:
        c = s.scalars(select(Customer).where(Customer.code == code)).one()
        _ = c.contacts, c.sales_user
        s.expunge_all()
        return c


def test_edit_a_customer_from_its_card_through_the_modal(sl: SlackDriver) -> None:
    sl.say("wang", "客户 华兴")
    [card] = [p for p in sl.posts_to("wang", "C001") if p.buttons()]
    slack_checks(card.message, view=False)
    assert "信用额度" in card.content and "¥200,000.00" in card.content and "陈先生" in card.content
    sl.click("wang", card, "edit_customer")
    [form] = [p for p in sl.answers("wang") if any(str(b.get("action_id")).startswith("ot_save_customer_")
                                                   for b in p.buttons())]  # answered to the clicker
    slack_checks(form.message, view=False)
    view = sl.open_modal("wang", form, "save_customer")
    slack_checks(view, view=True)
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks["credit_limit"]["type"] == "number_input" and blocks["credit_limit"]["initial_value"] == "200000.00"
    assert blocks["tier"]["initial_option"]["value"] == "A" and blocks["name"]["initial_value"] == "杭州华兴电子有限公司"

    audit_before = len(sl.audit("customer_updated"))
    resp = sl.submit("wang", view, {"credit_limit": "12,5", "payment_terms_days": "400"})
    errors = resp.get_json()
    assert errors["response_action"] == "errors" and set(errors["errors"]) == {"credit_limit", "payment_terms_days"}
    assert "12,5" in errors["errors"]["credit_limit"]
    assert customer(sl, "C001").credit_limit == Decimal("200000.00") and len(sl.audit("customer_updated")) == audit_before

    resp = sl.submit("wang", {**view, "id": "V0SECOND"}, {"credit_limit": "300000", "payment_terms_days": "45",
                                                          "contact2_name": "王会计"})
    assert resp.get_data() == b""  # a plain ack closes the modal
    sl.drain()
    c = customer(sl, "C001")
    assert (c.credit_limit, c.payment_terms_days, [k.name for k in c.contacts]) == (Decimal("300000.00"), 45,
                                                                                 ["陈先生", "王会计"])
    [entry] = sl.audit("customer_updated")[audit_before:]
    assert entry.platform == "slack" and entry.details["credit_limit"] == "200000.00 → 300000.00"
    answer = [p for p in sl.answers("wang") if "已保存客户" in p.content]
    assert answer and "¥200,000.00 → ¥300,000.00" in answer[-1].content
    slack_checks(answer[-1].message, view=False)


def test_slash_command_opens_the_new_customer_form_and_sales_own_what_they_create(sl: SlackDriver) -> None:
    body, _ = sl.command_body("li", "new customer")
    n, opened = sl.calls.finished, len(sl.fake.of("views.open"))
    assert sl.post_form(body).status_code == 200
    sl.calls.wait(n + 1)
    view = {**sl.fake.wait_for("views.open", opened + 1)[opened].args["view"], "id": "V0NEWCUST"}
    slack_checks(view, view=True)
    names = [b["block_id"] for b in view["blocks"]]
    assert "code" in names and "credit_limit" not in names and "sales" not in names  # li sets no credit terms
    with sl.ot.sessions() as s:
        before = s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    sl.submit("li", view, {"name": "宁波新材料", "contact_name": "赵女士", "contact_phone": "13700000003"})
    sl.drain()
    c = customer(sl, "C003")
    assert (c.name, c.sales_user.username, c.credit_limit, c.contact_name) == ("宁波新材料", "li", Decimal("0.00"), "赵女士")
    with sl.ot.sessions() as s:
        created = s.scalars(select(AuditEntry).where(AuditEntry.id > before, AuditEntry.action == "customer_created")).one()
        assert created.platform == "slack" and created.subject == f"customer:{c.id}"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_master_data_form_is_a_valid_modal(ot, locale: str) -> None:  # type: ignore[no-untyped-def]
    from adapters.slack.blocks import render_card
    from adapters.slack.modals import build_modal, form_spec
    from bot.cards.model import Card
    from domain.models import User
    from tests.sandbox import Chat
    from tests.world import build_world

    build_world(ot.sessions)
    with ot.sessions() as s:
        for u in s.scalars(select(User)):
            u.locale = locale
        s.commit()
    chat = Chat(ot)
    asked = [("wang", "new customer"), ("wang", "edit customer C001"), ("li", "edit customer C001"), ("li", "新建客户"),
             ("admin", "new product"), ("admin", "edit product SKU-001")]
    for who, text in asked:
        card = Card.model_validate(chat.say(who, text)[0]["card"])
        spec = form_spec(card)
        assert spec is not None, (who, text)
        slack_checks(build_modal(spec), view=True)
        slack_checks(render_card(card), view=False)  # the form card itself, where no modal can open
