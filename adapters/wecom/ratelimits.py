"""WeCom's API rates, as buckets for the dispatcher's client-side rate limit (bot/ratelimit.py)."""

from __future__ import annotations

from bot.ports import Delivery
from bot.ratelimit import Limit, Limits


def limits(per_second: float = 150.0, member_per_minute: float = 20.0) -> Limits:
    """Per operation at the app's rate, and per member for messages to a person: WeCom drops what goes above 30 a
    minute to one member without an error, so a member's bucket stays well below that."""

    def of(d: Delivery) -> list[Limit]:
        found = [Limit(f"wecom:{d.op}", per_second)]
        if d.op == "send" and d.recipient_kind == "user":
            found.append(Limit(f"wecom:member:{d.recipient}", member_per_minute / 60, 5, holds=False))
        return found

    return of
