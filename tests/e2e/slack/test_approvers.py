"""Separation of duties on Slack: the creator or sales owner of an order cannot decide it — by text, by a card, as
a delegate — an ineligible delegate is refused with who would be eligible, and a step whose only approver is the
creator escalates to the next level."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from domain.models import User
from tests.e2e.slack.harness import Posted, SlackDriver, dm_of, running
from tests.world import Clock

FIRST, SECOND, THIRD = (f"SO-20261123-000{n}" for n in (1, 2, 3))


@pytest.fixture
def sl(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[SlackDriver]:
    with running(engine, db_url, clock, tmp_path) as driver:
        yield driver


def told(sl: SlackDriver, who: str) -> str:
    return "\n".join(p.content for p in sl.answers(who))


def times_told(sl: SlackDriver, who: str, text: str) -> int:
    return sum(text in p.content for p in sl.answers(who))


def approve_buttons(posts: list[Posted]) -> list[dict]:
    return [b for p in posts for b in p.buttons() if str(b.get("action_id", "")).startswith("ot_approve_")]


def test_nobody_decides_an_order_they_created_or_own_on_slack(sl: SlackDriver) -> None:
    # the reported case: a manager names a sales person as delegate → refused, naming who could stand in
    sl.say("wang", "外出 至 12-05 转交 李四")
    assert "李四 不能代您审批" in told(sl, "wang") and "可以转交给：赵经理" in told(sl, "wang")

    # li's order: li cannot approve it from a copy of wang's card, nor by text
    sl.say("li", "下单 华兴 SKU-001 x10")
    wang_card = sl.card_to("wang", FIRST, "approve")
    copy = Posted(wang_card.method, dm_of("li"), "1795000600.000001", wang_card.text, wang_card.blocks)
    sl.click("li", copy, "approve")
    sl.say("li", f"同意 {FIRST}")
    assert times_told(sl, "li", "您创建并负责这张订单") == 2  # told why, both times
    assert sl.order(FIRST).status == "pending_approval" and sl.audit("approve") == []

    # as a delegate: wang away with zhao standing in; zhao's own order never becomes zhao's to decide
    sl.say("wang", "外出 至 12-05 转交 赵经理")
    sl.say("zhao", "下单 华兴 SKU-002 x1")
    assert approve_buttons(sl.posts_to("zhao", SECOND)) == []  # no approval card for zhao
    sl.card_to("wang", SECOND, "approve")  # wang keeps it, although away
    sl.say("zhao", f"同意 {SECOND}")
    assert "您创建并负责这张订单" in told(sl, "zhao") and sl.order(SECOND).status == "pending_approval"

    # a step whose only approver is its creator: one level up (wang's manager, the admin) instead
    with sl.ot.sessions() as s:
        s.get(User, sl.world["boss2"]).active = False
        s.commit()
    sl.say("wang", "下单 华兴 SKU-002 x2")
    admin_card = sl.card_to("admin", THIRD, "approve")
    assert "转到您" in admin_card.content
    sl.click("admin", admin_card, "approve")
    assert sl.order(THIRD).status == "approved"
