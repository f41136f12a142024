"""Client-side token buckets (bot.ratelimit): shared through the database by every dispatcher process, so two
workers together keep to one rate; Slack's per-minute tiers allow a short burst, per-second limits pace."""

from __future__ import annotations

from typing import Any

from adapters.dingtalk.ratelimits import limits as dingtalk_limits
from adapters.slack.ratelimits import limits as slack_limits
from bot.ports import Delivery
from bot.ratelimit import RateBucket, RateLimiter, by_platform
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


def test_a_hold_keeps_the_methods_bucket_empty_for_its_time_and_leaves_a_members_own(engine: Any) -> None:
    """The platform refused for the method's rate (WeCom 45009: a minute): no token of that method for anyone until
    the hold ends, then the rate again; a member's own bucket is not the method's and is not held."""
    from adapters.wecom.ratelimits import limits as wecom_limits

    wall = Wall()
    sessions = make_session_factory(engine)
    a, b = (RateLimiter(sessions, by_platform({"wecom": wecom_limits(per_second=10, member_per_minute=60)}),
                        clock=wall, margin=1.0) for _ in range(2))
    to_group = Delivery(id=1, platform="wecom", recipient="chat1", recipient_kind="group", op="send")
    assert a.reserve(to_group) == 0
    a.hold(Delivery(id=2, platform="wecom", recipient="lisi", op="send"), 60)
    assert round(b.reserve(to_group), 6) == 60  # the other worker's next message/send waits the minute out
    wall.now += 60
    assert round(b.reserve(to_group), 6) == 0.1  # then the rate: its token above was taken at 60 s
    a.hold(to_group, 5)  # a shorter hold does not shorten one already there (none is) …
    wall.now += 100
    a.hold(to_group, 30)
    a.hold(to_group, 5)  # … and does not cut a longer one short
    assert round(a.reserve(to_group), 6) == 30
    with sessions() as s:  # lisi's own bucket (member_per_minute) was never held: one token used, none owed
        member = s.get(RateBucket, "wecom:member:lisi")
    assert member is None
