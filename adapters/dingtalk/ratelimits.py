"""DingTalk's API rate, as buckets for the dispatcher's client-side rate limit (bot/ratelimit.py)."""

from __future__ import annotations

from bot.ports import Delivery
from bot.ratelimit import Limit, Limits


def limits(per_second: float = 20.0) -> Limits:
    """One bucket per operation (card send, card update, robot message), each at the app's QPS."""

    def of(d: Delivery) -> list[Limit]:
        return [Limit(f"dingtalk:{d.op}", per_second)]

    return of
