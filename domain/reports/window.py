"""Periods as the reports use them: UTC bounds of local days, and the buckets of a trend."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.models import OrderStatus
from domain.parsing import Period

# Orders that count as sales (see domain.reports): approved or beyond.
SALE_STATUSES: tuple[str, ...] = (OrderStatus.APPROVED.value, OrderStatus.PARTIALLY_SHIPPED.value,
                                  OrderStatus.SHIPPED.value, OrderStatus.COMPLETED.value)


def window(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC: from local midnight of the first day to local midnight after the last."""
    lo = datetime.combine(period.start, time(0), tz).astimezone(UTC)
    hi = datetime.combine(period.end + timedelta(days=1), time(0), tz).astimezone(UTC)
    return lo, hi


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def grain_for(period: Period) -> Grain:
    """Days up to a month and a half, weeks up to about a quarter, months beyond: 7 to 45 points on a chart."""
    if period.days <= 45:
        return Grain.DAY
    if period.days <= 100:
        return Grain.WEEK
    return Grain.MONTH


def bucket(d: date, grain: Grain) -> date:
    """The first day of the bucket holding `d` (weeks start on Monday)."""
    if grain == Grain.DAY:
        return d
    if grain == Grain.WEEK:
        return d - timedelta(days=d.weekday())
    return d.replace(day=1)


def buckets(period: Period, grain: Grain) -> list[date]:
    """Every bucket the period touches, in order, empty ones included."""
    out: list[date] = []
    d = period.start
    while d <= period.end:
        b = bucket(d, grain)
        if not out or out[-1] != b:
            out.append(b)
        d = (b + timedelta(days=1)) if grain == Grain.DAY else (
            b + timedelta(days=7) if grain == Grain.WEEK else date(b.year + b.month // 12, b.month % 12 + 1, 1))
    return out
