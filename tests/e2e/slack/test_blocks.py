from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.blocks import (
    MAX_BLOCKS,
    escape,
    render_card,
    render_home,
    render_replies,
)
from adapters.slack.buttons import unpack_button_value
from adapters.slack.modals import build_modal, form_spec
from adapters.slack.validate import validate_message, validate_view
from bot.cards.model import Button, Card, Field, Input, LineTable, Option, Reply
from tests.e2e.slack.fakes import REJECT_TOKEN, all_cards, approval_card, form_card, order_card, shipping_card


def texts(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields", [])]
        out += [e.get("text", "") for e in b.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(out)


def test_every_card_kind_is_within_block_kit_limits() -> None:
    for card in all_cards():
        message = render_card(card)
        assert validate_message(message) == [], card.kind
        assert message["text"], card.kind
    assert validate_view(render_home(all_cards())) == []


def test_300_line_order_is_truncated_with_a_count() -> None:
    zh = render_card(order_card(300))
    assert validate_message(zh) == []
    assert len(zh["blocks"]) <= MAX_BLOCKS["message"]
    body = texts(zh["blocks"])
    assert "SKU-0000" in body and "SKU-0299" not in body
    shown = body.count("SKU-")
    assert f"…还有 {300 - shown} 行" in body
    assert "合计 ¥12,800.00" in body  # the total survives truncation
    en = texts(render_card(order_card(300, locale="en"))["blocks"])
    assert f"…and {300 - en.count('SKU-')} more lines" in en


def test_small_order_shows_every_line_and_no_more_marker() -> None:
    body = texts(render_card(order_card(3))["blocks"])
    assert body.count("SKU-") == 3 and "还有" not in body


def test_header_fields_and_mrkdwn_escaping() -> None:
    message = render_card(order_card())
    header = message["blocks"][0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    body = texts(message["blocks"][1:])
    assert "&lt;Huadong &amp; Co&gt;" in body and "<Huadong" not in body
    assert "&lt;不锈钢&gt;" in body
    assert "&lt;待审批&gt;" in message["text"]  # the fallback notification text is escaped too
    assert escape("a&b<c>d") == "a&amp;b&lt;c&gt;d"


def test_buttons_styles_confirm_ids_and_values() -> None:
    blocks = render_card(approval_card())["blocks"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 1
    approve, reject = actions[0]["elements"]
    assert approve["action_id"] == "ot_approve_0" and approve["value"] == "tok-approve-1"
    assert approve["style"] == "primary" and "confirm" not in approve
    assert reject["action_id"] == "ot_reject_1" and reject["style"] == "danger"
    assert reject["confirm"]["text"]["text"] == "确定驳回该订单？"
    assert reject["confirm"]["style"] == "danger"
    spec = unpack_button_value(reject["value"])  # a button with inputs carries its modal spec
    assert spec is not None and spec.token == REJECT_TOKEN and [i.name for i in spec.inputs] == ["reason"]
    assert unpack_button_value(approve["value"]) is None


def test_link_buttons_for_button_url_and_card_link() -> None:
    card = shipping_card()
    card.buttons.append(Button(action="pdf", label="发货单", token="-", url="https://erp.example/n.pdf"))
    elements = [e for b in render_card(card)["blocks"] if b["type"] == "actions" for e in b["elements"]]
    links = [e for e in elements if "url" in e]
    assert {e["url"] for e in links} == {"https://erp.example/n.pdf", card.link}
    assert all(e["action_id"].startswith("otl_") and "value" not in e for e in links)


def test_many_buttons_are_split_into_actions_blocks_of_25() -> None:
    card = Card(kind="list", title="t", buttons=[Button(action="x", label=str(i), token=str(i)) for i in range(60)])
    message = render_card(card)
    assert validate_message(message) == []
    assert [len(b["elements"]) for b in message["blocks"] if b["type"] == "actions"] == [25, 25, 10]


def test_pathological_card_keeps_header_and_buttons() -> None:
    card = Card(kind="info", title="x" * 400, text=[f"p{i}" for i in range(200)],
                fields=[Field(label="l", value="v" * 3000) for _ in range(25)],
                buttons=[Button(action="ok", label="好" * 100, token="t" * 1990)])
    message = render_card(card)
    assert validate_message(message) == []
    assert message["blocks"][0]["type"] == "header" and message["blocks"][-1]["type"] == "actions"
    assert "…还有" in texts(message["blocks"])


def test_oversized_modal_spec_falls_back_to_registry() -> None:
    inputs = [Input(name=f"qty:SKU-{i:04d}-{i * 7919 % 1000}", label=f"SKU {i} 数量 {i * 31 % 97}", kind="number")
              for i in range(120)]
    card = Card(kind="shipping_task", title="t", buttons=[Button(action="ship", label="发货", token="tok", inputs=inputs)])
    value = render_card(card)["blocks"][-1]["elements"][0]["value"]
    assert len(value) <= 2000
    spec = unpack_button_value(value)
    assert spec is not None and len(spec.inputs) == 120
    # a modal holds 100 inputs: refused outright rather than opened with 20 quantities silently missing
    with pytest.raises(ValueError, match="100 inputs"):
        build_modal(spec)
    spec.inputs[:] = spec.inputs[:100]
    assert validate_view(build_modal(spec)) == []


def test_form_card_renders_an_open_button_and_a_modal() -> None:
    card = form_card()
    button = render_card(card)["blocks"][-1]["elements"][0]
    spec = unpack_button_value(button["value"])
    assert spec is not None and spec.token == "tok-new-order"
    assert form_spec(card) == spec
    view = build_modal(spec)
    assert validate_view(view) == []
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert kinds == {"customer": "external_select", "product": "external_select", "qty": "number_input",
                     "note": "plain_text_input"}


def test_replies_are_combined_into_one_message() -> None:
    replies = [Reply(text="找到 2 个订单"), Reply(card=order_card()), Reply(card=order_card(300))]
    message = render_replies(replies)
    assert validate_message(message) == []
    assert message["text"].startswith("找到 2 个订单")
    assert any(b["type"] == "divider" for b in message["blocks"])


def test_home_with_many_cards_stays_under_100_blocks() -> None:
    view = render_home([approval_card(40) for _ in range(30)])
    assert validate_view(view) == [] and len(view["blocks"]) <= 100
    assert "…还有" in texts(view["blocks"][-1:])
    assert validate_view(render_home([])) == []


def test_validator_reports_violations() -> None:
    bad = {"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "x" * 200}}] * 51}
    errors = validate_message(bad)
    assert "missing fallback text" in errors
    assert any("51 blocks" in e for e in errors) and any("must be plain_text" in e for e in errors)
    dup = {"text": "t", "blocks": [{"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "a"}, "action_id": "a", "value": "v" * 2001},
        {"type": "button", "text": {"type": "plain_text", "text": "b"}, "action_id": "a"}]}]}
    errors = validate_message(dup)
    assert any("duplicate action_id" in e for e in errors) and any("value > 2000" in e for e in errors)


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@settings(max_examples=40, deadline=None)
@given(
    title=_text,
    fields=st.lists(st.tuples(_text, _text), max_size=30),
    rows=st.integers(0, 400),
    paragraphs=st.lists(st.text(max_size=5000), max_size=8),
    buttons=st.integers(0, 40),
    locale=st.sampled_from(["zh-CN", "en"]),
)
def test_any_card_renders_within_limits(title: str, fields: list, rows: int, paragraphs: list, buttons: int,
                                        locale: str) -> None:
    card = Card(
        kind="info", title=title, locale=locale, fields=[Field(label=a, value=b) for a, b in fields],
        table=LineTable(columns=["a", "b"], rows=[[f"row {i}", "x" * (i % 50)] for i in range(rows)]) if rows else None,
        text=paragraphs,
        buttons=[Button(action="a", label=f"b{i}", token=f"t{i}",
                        inputs=[Input(name="n", label="l", kind="select", options=[Option(value="v", label="l")])]
                        if i % 3 == 0 else []) for i in range(buttons)],
    )
    assert validate_message(render_card(card)) == []
