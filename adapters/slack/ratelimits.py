"""Slack's Web API tiers, as buckets for the dispatcher's client-side rate limit (bot/ratelimit.py)."""

from __future__ import annotations

from bot.ports import Delivery
from bot.ratelimit import Limit, Limits


def limits(post_per_second: float = 10.0, tier3_per_minute: float = 50.0, tier4_per_minute: float = 100.0) -> Limits:
    """chat.postMessage is paced at the configured rate; chat.update (Tier 3) and views.publish (Tier 4) tolerate a
    short burst."""

    def of(d: Delivery) -> list[Limit]:
        if d.op == "home":
            return [Limit("slack:views.publish", tier4_per_minute / 60, 10)]
        if d.extra.get("response_url"):
            return []  # a response_url post is not a Web API method (5 per URL; the deliverer keeps to it)
        if d.op == "update" and d.ref:
            return [Limit("slack:chat.update", tier3_per_minute / 60, 10)]
        return [Limit("slack:chat.postMessage", post_per_second)]

    return of
