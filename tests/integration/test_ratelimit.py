"""Client-side token buckets (bot.ratelimit): shared through the database by every dispatcher process, so two
workers together keep to one rate; Slack's per-minute tiers allow a short burst, per-second limits pace."""

from __future__ import annotations

from typing import Any

from adapters.dingtalk.ratelimits import limits as dingtalk_limits
from adapters.slack.ratelimits import limits as slack_limits
from bot.ports import Delivery
from bot.ratelimit import RateLimiter, by_platform
from domain.db import make_session_factory


class Wall:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _post(n: int) -> Delivery:
    return Delivery(id=n, platform="slack", recipient=f"U{n}", op="send")


def test_two_workers_share_one_bucket_and_keep_to_the_rate(engine: Any) -> None:
    wall = Wall()
    limits = by_platform({"slack": slack_limits(post_per_second=20)})
    a, b = (RateLimiter(make_session_factory(engine), limits, clock=wall, margin=1.0) for _ in range(2))
    # 40 messages reserved at the same instant by two workers: the n-th may go n/20 s later, whoever took it
    waits = [(a if n % 2 else b).reserve(_post(n)) for n in range(40)]
    assert waits[0] == 0
    assert [round(w, 6) for w in waits] == [round(n / 20, 6) for n in range(40)]
    wall.now += 10  # idle: the bucket refills to one token, not ten seconds' worth (no burst for postMessage)
    assert a.reserve(_post(99)) == 0 and round(b.reserve(_post(100)), 6) == 0.05


def test_tiers_burst_then_pace_and_other_platforms_have_their_own(engine: Any) -> None:
    wall = Wall()
    lim = RateLimiter(make_session_factory(engine), by_platform({"slack": slack_limits(tier3_per_minute=60), "dingtalk": dingtalk_limits()}), clock=wall,
                      margin=1.0)
    update = Delivery(id=1, platform="slack", recipient="C1", op="update", ref="C1:1.0")
    waits = [lim.reserve(update) for _ in range(12)]
    assert waits[:10] == [0.0] * 10 and [round(w, 6) for w in waits[10:]] == [1.0, 2.0]  # burst of 10, then 1/s
    assert lim.reserve(Delivery(id=2, platform="dingtalk", recipient="u", op="send")) == 0
    assert lim.reserve(Delivery(id=3, platform="console", recipient="1", op="send")) == 0  # the sandbox: none
    # a Slack answer through a response_url is no Web API call
    assert lim.reserve(Delivery(id=4, platform="slack", recipient="C1", op="update", ref="C1:1.0",
                                extra={"response_url": "https://hooks.slack.com/x"})) == 0


def test_a_batch_reserves_in_one_go_and_what_waits_too_long_takes_no_token(engine: Any) -> None:
    wall = Wall()
    lim = RateLimiter(make_session_factory(engine), by_platform({"slack": slack_limits(post_per_second=10)}), clock=wall,
                      margin=1.0)
    waits = lim.reserve_many([_post(n) for n in range(5)], max_wait=0.25)
    assert [round(w, 6) for w in waits] == [0.0, 0.1, 0.2, 0.3, 0.3]  # the last two: over the limit, not taken
    assert round(lim.reserve(_post(9)), 6) == 0.3  # so the next one comes right after the three taken
