from __future__ import annotations

import re
from typing import Any

import pytest

from adapters.wecom.render import (
    RenderError,
    new_task_id,
    render_markdown,
    render_template_card,
    render_text,
    render_update_card,
)
from bot.cards.model import Button, Card, Preset
from tests.e2e.wecom.cards import approval_decided, approval_request, order_status, shipping_task

TASK_RE = re.compile(r"^[0-9A-Za-z_@-]{1,128}$")


def check_card_rules(card: dict[str, Any]) -> None:
    """The hard rules (and our display limits) of a button_interaction card, wecom.md §4.4."""
    assert card["card_type"] == "button_interaction"
    assert TASK_RE.match(card["task_id"]) and len(card["task_id"].encode()) <= 128
    assert len(card["main_title"]["title"]) <= 36
    assert len(card["main_title"].get("desc", "")) <= 44
    assert len(card.get("sub_title_text", "")) <= 160
    assert len(card["source"]["desc"]) <= 20
    rows = card.get("horizontal_content_list", [])
    assert len(rows) <= 6
    for row in rows:
        assert 1 <= len(row["keyname"]) <= 5 and len(row["value"]) <= 30
    buttons = card["button_list"]
    assert 1 <= len(buttons) <= 6
    keys = [b["key"] for b in buttons if b.get("type", 0) == 0]
    assert len(keys) == len(set(keys))
    for b in buttons:
        assert b["style"] in (1, 2, 3, 4) and len(b["text"]) <= (20 if "replace_text" in card else 10)
        assert b.get("type", 0) == 1 or 0 < len(b["key"].encode()) <= 1024


def test_task_ids_are_unique_and_legal() -> None:
    ids = {new_task_id(7, 1) for _ in range(100)}
    assert len(ids) == 100 and all(TASK_RE.match(i) for i in ids)


def test_approval_card() -> None:
    card = render_template_card(approval_request(n_fields=7), "ot-1-1-abc")
    assert card is not None
    check_card_rules(card)
    assert [(b["text"], b["key"]) for b in card["button_list"]] == [
        ("同意", "tA.approve"),
        ("价格过低", "tA.rej.price"),
        ("信用不足", "tA.rej.credit"),
        ("其他原因", "tA.rej.other"),
    ]
    assert card["button_list"][0]["style"] == 1
    assert card["main_title"]["title"].endswith("…")
    assert [r["keyname"] for r in card["horizontal_content_list"]][:4] == ["销售", "折扣", "账期", "信用额度"]
    assert "仓库: 华东一仓" in card["sub_title_text"]  # the 7th field overflows into the sub text


def test_more_than_six_buttons_are_capped() -> None:
    presets = [Preset(label=f"理由{i}", token=f"t.r{i}") for i in range(8)]
    card = approval_request().model_copy(
        update={
            "buttons": [
                Button(action="approve", label="同意", token="t.a", command="同意 SO-42"),
                Button(
                    action="reject", label="驳回", token="t.r", presets=presets, command="驳回 SO-42 理由"
                ),
            ]
        }
    )
    out = render_template_card(card, "ot-1-1-x")
    assert out is not None
    check_card_rules(out)
    assert "驳回 SO-42 理由" in out["sub_title_text"]  # what did not fit is offered as a text command


def test_input_button_becomes_command_note() -> None:
    card = render_template_card(shipping_task(), "ot-2-1-abc")
    assert card is not None
    check_card_rules(card)
    assert [b["key"] for b in card["button_list"]] == ["tS.claim"]
    assert "发货 T-12 顺丰 SF123" in card["sub_title_text"]


def test_command_note_survives_long_text() -> None:
    card = shipping_task().model_copy(update={"text": ["很长的说明" * 100]})
    out = render_template_card(card, "ot-2-1-abc")
    assert out is not None
    check_card_rules(out)
    assert out["sub_title_text"].endswith("请发送「发货 T-12 顺丰 SF123」")


def test_only_input_buttons_render_as_markdown() -> None:
    card = shipping_task()
    card = card.model_copy(update={"buttons": card.buttons[1:]})
    assert render_template_card(card, "ot-3-1-abc") is None
    assert "发货 T-12 顺丰 SF123" in render_markdown(card)


def test_bad_task_id_and_token() -> None:
    with pytest.raises(RenderError):
        render_template_card(approval_request(), "bad task id!")
    card = approval_request().model_copy(
        update={"buttons": [Button(action="a", label="x", token="k" * 2000)]}
    )
    with pytest.raises(RenderError):
        render_template_card(card, "ot-1-1-a")


def test_update_card_greys_buttons_and_keeps_task_id() -> None:
    card = render_update_card(approval_decided(), "ot-1-1-abc")
    check_card_rules(card)
    assert card["task_id"] == "ot-1-1-abc"
    assert card["replace_text"] == card["button_list"][0]["text"] == "已同意 · 王经理 · 14:03"  # the verdict
    assert card["main_title"] == {"title": "订单 SO-20240518-0042 审批", "desc": "已同意 · 王经理 · 14:03"}
    assert card["source"]["desc_color"] == 3  # green for a success tone


def test_update_card_label_falls_back_to_subtitle_then_default() -> None:
    claimed = shipping_task().model_copy(
        update={"subtitle": "李四 已领取", "buttons": shipping_task().buttons[1:]}
    )
    card = render_update_card(claimed, "ot-2-1-abc")
    assert card["replace_text"] == "李四 已领取"
    assert "发货 T-12 顺丰 SF123" in card["sub_title_text"]  # the remaining typed action is still explained
    bare = Card(kind="info", title="x", data={"status": "approved"})  # machine status is never shown
    assert render_update_card(bare, "ot-3-1-a")["replace_text"] == "已处理"


def test_update_card_keeps_new_buttons() -> None:
    claimed = shipping_task().model_copy(
        update={
            "buttons": shipping_task().buttons[1:]
            + [Button(action="cancel", label="放弃", token="tS.cancel")]
        }
    )
    card = render_update_card(claimed, "ot-2-1-abc")
    check_card_rules(card)
    assert "replace_text" not in card and card["button_list"][0]["key"] == "tS.cancel"


def test_markdown_escapes_and_links() -> None:
    md = render_markdown(order_status())
    assert md.startswith('### <font color="info">订单 SO-20240518-0042</font>')
    assert "[x](http://evil)" not in md and "［x］" in md  # user text cannot make links or colours
    assert '<font color="warning">' not in md
    assert "[查看详情](https://erp.example/so/42)" in md


def test_markdown_truncates_with_note() -> None:
    md = render_markdown(order_status(lines=500))
    assert len(md.encode()) <= 2048
    assert re.search(r"…还有 \d+ 行$", md)
    en = render_markdown(order_status(lines=500).model_copy(update={"locale": "en"}))
    assert re.search(r"…and \d+ more lines$", en)


def test_text_limit() -> None:
    assert len(render_text("订单\n" * 2000).encode()) <= 2048


def test_english_card() -> None:
    card = Card(
        kind="approval_request",
        locale="en",
        title="Order SO-1 needs approval",
        buttons=[Button(action="approve", label="Approve", token="t.a")],
        link="https://x.example",
    )
    out = render_template_card(card, "ot-9-1-a")
    assert out is not None
    check_card_rules(out)
    assert out["source"]["desc"] == "OrderTalk" and out["horizontal_content_list"][0]["keyname"] == "Link"
