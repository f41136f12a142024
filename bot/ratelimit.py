"""Client-side rate limits: a token bucket per platform and API method (and per recipient where the platform limits
that), so the dispatcher sends at the documented rate instead of bouncing off 429s (or, on WeCom, having messages
silently dropped).

The buckets live in the database (`rate_buckets`), so every dispatcher process — several `ordertalk worker`s —
shares one bucket per key. `reserve` takes a token and returns how long to wait before using it (0 when one was
there); a caller that would wait longer than it wants gives the row back to the queue with that delay instead.
chat.postMessage and the per-second limits hold one token (pacing, no burst): a sliding one-second window of the
platform then never sees more than the rate; Slack's per-minute tiers allow a short burst. The bucket row is written before it is read, so it stays locked (PostgreSQL: the row; SQLite: the database) until
the token is taken: two processes never take the same one.

Rates (defaults in each adapter's settings, adapters/<platform>/settings.py; /work/shared/platforms):
- Slack: chat.postMessage has a special limit (about 1 per second per channel, bursts tolerated, plus a workspace
  limit of several hundred a minute): `slack_post_per_second`; chat.update Tier 3 (50+/min), views.publish Tier 4
  (100+/min).
- DingTalk: about 20 QPS per app per API (403 QpsLimitForAppkeyAndApi above it).
- WeCom: any single API 10,000/min per company; app messages to one member 30/min (beyond that silently
  dropped): 20/min per member, as the platform notes advise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Float, String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from bot.ports import Delivery
from domain.models import Base


class RateBucket(Base):
    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[float] = mapped_column(Float)  # epoch seconds of the last refill (wall clock: shared by processes)


T = TypeVar("T")


@dataclass(frozen=True)
class Limit:
    key: str
    per_second: float
    burst: float = 1.0  # tokens the bucket holds: 1 is pure pacing; Slack's tiers tolerate short bursts
    holds: bool = True  # a refusal for the method's rate holds this bucket (False: one recipient's own bucket)


Limits = Callable[[Delivery], list[Limit]]


def by_platform(table: Mapping[str, Limits]) -> Limits:
    """Which buckets a delivery draws from: each platform's adapter says so for its own API methods
    (adapters/<platform>/ratelimits.py); a platform with none in the table (the sandbox) is not limited."""

    def limits(d: Delivery) -> list[Limit]:
        found = table.get(d.platform)
        return found(d) if found is not None else []

    return limits


# Requests leave evenly spaced but do not arrive so (threads, the network): a little under the rate keeps a
# platform's sliding window from seeing one too many.
MARGIN = 0.95


class RateLimiter:
    def __init__(self, sessions: sessionmaker[Session], limits: Limits, clock: Callable[[], float] = time.time,
                 margin: float = MARGIN) -> None:
        self.sessions = sessions
        self.limits = limits
        self.clock = clock
        self.margin = margin

    def reserve(self, delivery: Delivery) -> float:
        """Take a token from each bucket the delivery draws from; seconds to wait before sending (the longest)."""
        return self.reserve_many([delivery])[0]

    def reserve_many(self, deliveries: list[Delivery], max_wait: float = float("inf")) -> list[float]:
        """`reserve` for a batch, in its order: one transaction per bucket, not per delivery. A delivery that would
        wait longer than `max_wait` takes no token from that bucket (it goes back to the queue; taking one would
        hold back everything after it for a send that is not made now)."""
        by_key: dict[str, tuple[Limit, list[int]]] = {}
        for n, d in enumerate(deliveries):
            for limit in self.limits(d):
                if limit.per_second > 0:
                    by_key.setdefault(limit.key, (Limit(limit.key, limit.per_second * self.margin, limit.burst), []))[1].append(n)
        times = [0.0] * len(deliveries)  # when each may go, on our clock
        for limit, members in by_key.values():
            for n, at in zip(members, self._take(limit, len(members), max_wait), strict=True):
                times[n] = max(times[n], at)
        # From now, after the commits: a wait taken from the moment the bucket was read would start late by the
        # time the transaction took, and two workers late by different amounts send closer than the rate allows.
        now = self.clock()
        return [max(0.0, at - now) for at in times]

    def hold(self, delivery: Delivery, seconds: float) -> None:
        """The platform refused `delivery` for its method's rate and said to wait `seconds`: the delivery's method
        buckets give no token until then, to any process, so the messages queued behind it wait their turn instead
        of each being sent into the same refusal (on WeCom, 45009 holds the method for a minute)."""
        for limit in self.limits(delivery):
            if limit.per_second > 0 and limit.holds:
                self._hold(Limit(limit.key, limit.per_second * self.margin, limit.burst), seconds)

    def _hold(self, limit: Limit, seconds: float) -> None:
        # the next token is due `seconds` from now: one token then, as many fewer now as refill meanwhile; a longer
        # hold already there stands
        held = 1.0 - seconds * limit.per_second
        self._in_bucket(limit, lambda tokens, now: (min(tokens, held), None))

    def _take(self, limit: Limit, count: int, max_wait: float) -> list[float]:
        """Take up to `count` tokens in turn; when each may be used (the n-th once n tokens have been refilled)."""
        def take(tokens: float, now: float) -> tuple[float, list[float]]:
            times = []
            for _ in range(count):
                wait = max(0.0, (1.0 - tokens) / limit.per_second)
                times.append(now + wait)
                if wait <= max_wait:
                    tokens -= 1.0  # else not taken: it goes back to the queue
            return tokens, times

        times = self._in_bucket(limit, take)
        return [self.clock()] * count if times is None else times

    def _in_bucket(self, limit: Limit, change: Callable[[float, float], tuple[float, T]]) -> T | None:
        """One transaction on the bucket's row: `change(tokens it holds now, now)` gives its new tokens and the
        answer. None when three tries each met another process creating the same bucket."""
        for _ in range(3):
            with self.sessions() as s:
                # Write first: the bucket row is then locked (PostgreSQL) or the database write-locked (SQLite,
                # where a read first would let two processes take the same token) until the commit.
                locked = s.execute(update(RateBucket).where(RateBucket.key == limit.key)
                                   .values(tokens=RateBucket.tokens).execution_options(synchronize_session=False))
                row = s.get(RateBucket, limit.key) if getattr(locked, "rowcount", 0) else None
                # The clock is read once the lock is held: read before, while another worker held it, the time
                # would be older than theirs, and the refill since would be counted twice.
                now = self.clock() if row is None else max(self.clock(), row.at)
                tokens = limit.burst if row is None else min(limit.burst, row.tokens + (now - row.at) * limit.per_second)
                tokens, answer = change(tokens, now)
                if row is None:
                    s.add(RateBucket(key=limit.key, tokens=tokens, at=now))
                    try:
                        s.commit()
                    except IntegrityError:
                        continue  # another process made it first: change theirs
                    return answer
                row.tokens, row.at = tokens, now
                s.commit()
                return answer
        return None


__all__ = ["MARGIN", "Limit", "Limits", "RateBucket", "RateLimiter", "by_platform"]
