from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from adapters.dingtalk import templates
from adapters.dingtalk.render import (
    DTMD_SEND,
    MAX_MD_CHARS,
    NotRenderable,
    card_markdown,
    card_params,
    md_escape,
    template_for,
    text_markdown,
)
from bot.cards.model import Button, Card, Field, Input, Option

from .conftest import adapter_settings, approval_card, shipping_card


def test_template_choice() -> None:
    s = adapter_settings(dingtalk_card_template_approval="appr.schema", dingtalk_card_template_task="task.schema")
    assert template_for(approval_card(), s) == "appr.schema"
    assert template_for(approval_card(decided=True), s) == "appr.schema"
    assert template_for(Card(kind="reminder_digest", title="t"), s) == "appr.schema"
    assert template_for(shipping_card(), s) == "task.schema"
    assert template_for(Card(kind="order_status", title="t"), s) is None
    assert template_for(approval_card(), adapter_settings()) is None


def test_approval_params_all_strings_with_tokens() -> None:
    params = card_params(approval_card())
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    assert params["title"] == "折扣审批：SO-20261122-0007"
    assert json.loads(params["fields"]) == [{"label": "客户", "value": "华强电子"},
                                            {"label": "合计", "value": "¥12,800.00"}]
    assert json.loads(params["lines"])[0] == {"text": "A-0 | 10 | ¥800.00"}
    assert (params["btn1_token"], params["btn2_token"]) == ("tok-approve-0007", "tok-reject-0007")
    assert params["btn2_input"] == "reason" and params["btn3_visible"] == "false"
    assert params["has_actions"] == "true" and params["processing"] == "false"


def test_decided_card_clears_every_button_slot() -> None:
    params = card_params(approval_card(decided=True))
    assert params["has_actions"] == "false"
    assert all(params[f"btn{i}_visible"] == "false" and params[f"btn{i}_token"] == "" for i in (1, 2, 3))


@pytest.mark.parametrize("name,card", [("approval.json", approval_card()), ("task.json", shipping_card())])
def test_params_match_shipped_template_contract(name: str, card: Card) -> None:
    declared = templates.variable_names(name)
    assert set(card_params(card)) == declared
    assert set(templates.load(name)["sample_cardParamMap"]) == declared


def test_values_capped_at_1kb_with_more_marker() -> None:
    params = card_params(approval_card(rows=200))
    assert all(len(v.encode()) <= 1000 for v in params.values())
    lines = json.loads(params["lines"])
    assert lines[-1]["text"].startswith("…还有 ") and lines[-1]["text"].endswith(" 行")
    en = approval_card(rows=200).model_copy(update={"locale": "en"})
    assert json.loads(card_params(en)["lines"])[-1]["text"].endswith("more lines")


def test_too_many_buttons_not_renderable() -> None:
    card = Card(kind="shipping_task", title="t", buttons=[Button(action="a", label=str(i), token="t") for i in range(4)])
    with pytest.raises(NotRenderable):
        card_params(card)


def test_markdown_dtmd_links() -> None:
    md = card_markdown(approval_card())
    assert md.title == "折扣审批：SO-20261122-0007"
    assert "### 折扣审批：SO-20261122-0007" in md.text
    assert "- 客户：华强电子" in md.text
    link = DTMD_SEND + "%E5%90%8C%E6%84%8F%20SO-20261122-0007"
    assert f"[同意]({link})" in md.text
    assert unquote(link.removeprefix(DTMD_SEND)) == "同意 SO-20261122-0007"
    assert "tok-approve" not in md.text  # tokens never leak into chat text


def test_markdown_truncates_long_tables_and_keeps_buttons() -> None:
    md = card_markdown(approval_card(rows=50))
    assert "…还有 30 行" in md.text
    long = Card(kind="info", title="t", text=["很长的一段话" * 40] * 40,
                buttons=[Button(action="x", label="帮助", token="t", command="帮助")])
    text = card_markdown(long).text
    assert len(text) <= MAX_MD_CHARS and "…还有 " in text and "dtmd://" in text


def test_markdown_escapes_user_text() -> None:
    card = Card(kind="info", title="*粗体* [链接](http://x)", fields=[Field(label="# 标题", value="`code`")])
    text = card_markdown(card).text
    assert "*粗体*" not in text and "[链接](http" not in text and "`code`" not in text
    assert md_escape("# x") == "\u200b# x"  # a zero-width space stops the heading, the text reads the same
    assert md_escape("SO-20261122-0007") == "SO-20261122-0007"


def test_text_markdown() -> None:
    md = text_markdown("已发货\n物流单号 SF123")
    assert md.title == "已发货" and "物流单号 SF123" in md.text


def ship_button(lines: int) -> Button:
    inputs = [Input(name="carrier", label="快递公司", kind="select", options=[Option(value="顺丰", label="顺丰")]),
              Input(name="tracking", label="物流单号")]
    inputs += [Input(name=f"qty_{i}", label=f"A-{i} 发货数量", kind="number", initial="10", required=False)
               for i in range(lines)]
    return Button(action="ship", label="确认发货", token="tok-ship", inputs=inputs,
                  command="发货 T-1 顺丰 SF0000000000")


def test_multi_input_button_form_fits_and_keeps_required_inputs() -> None:
    small = json.loads(card_params(Card(kind="shipping_task", title="t", buttons=[ship_button(2)]))["btn1_inputs"])
    assert [x["name"] for x in small] == ["carrier", "tracking", "qty_0", "qty_1"]
    assert small[0]["options"] == ["顺丰"] and small[2]["required"] == "false"
    big = card_params(Card(kind="shipping_task", title="t", buttons=[ship_button(40)]))["btn1_inputs"]
    assert len(big.encode()) <= 1000 and [x["name"] for x in json.loads(big)] == ["carrier", "tracking"]


def test_markdown_commands_needing_input_are_not_one_click_links() -> None:
    text = card_markdown(Card(kind="shipping_task", title="t", buttons=[ship_button(1)])).text
    assert "dtmd://" not in text
    assert "确认发货：回复「发货 T-1 顺丰 SF0000000000」" in text
    md = card_markdown(approval_card()).text
    assert "驳回：回复「驳回 SO-20261122-0007」" in md and md.count("dtmd://") == 1
