"""Every /order usage the Slack manifest and the Slack README advertise, typed as advertised, in a channel the bot is
not in: each is understood and answered (and /order new opens the form)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.e2e.slack.harness import SlackDriver, running
from tests.usage_hints import fill, manifest_hints, readme_commands, understood
from tests.world import Clock

NUMBER = "SO-20261123-0001"


@pytest.fixture
def sl(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[SlackDriver]:
    with running(engine, db_url, clock, tmp_path) as driver:
        yield driver


def test_every_advertised_order_command_is_understood(sl: SlackDriver) -> None:
    hints = manifest_hints()
    assert hints == ["status SO-20261122-0007", "new", "help"]
    readme = [c.removeprefix("/order ") for c in readme_commands("slack", r"/order [^…]+")]
    assert {"status SO-20261122-0007", "new", "help", "pending", "tasks"} <= set(readme)
    sl.say("li", "下单 华兴 SKU-001 x10")
    sl.click("wang", sl.card_to("wang", NUMBER, "approve"), "approve")
    sl.say("li", "下单 华兴 SKU-002 x1")  # something pending for wang
    expected = {"status": NUMBER, "help": "我能帮您做什么", "pending": "待审批", "tasks": "发货任务"}
    who = {"pending": "wang", "tasks": "sun"}
    for hint in dict.fromkeys(hints + readme):
        word = hint.split()[0]
        if word == "new":
            opened = len(sl.fake.of("views.open"))
            body, _ = sl.command_body("li", hint)
            n = sl.calls.finished
            assert sl.post_form(body).status_code == 200
            sl.calls.wait(n + 1)
            view = sl.fake.wait_for("views.open", opened + 1)[opened].args["view"]
            assert {"customer", "product_1", "qty_1"} <= {b["block_id"] for b in view["blocks"]}, hint
            continue
        answer = sl.command(who.get(word, "li"), fill(hint, NUMBER))
        assert understood(answer.content) and expected[word] in answer.content, (hint, answer.content[:300])
