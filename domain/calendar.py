"""Business hours: how long something has waited in working time (work days, work start to end)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def business_hours_between(start: datetime, end: datetime, tz: ZoneInfo, work_days: list[int],
                           work_start: time, work_end: time) -> float:
    if end <= start:
        return 0.0
    s, e = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    day = s.date()
    while day <= e.date():
        if day.isoweekday() in work_days:
            open_ = datetime.combine(day, work_start, tz)
            close = datetime.combine(day, work_end, tz)
            lo, hi = max(open_, s), min(close, e)
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
        day += timedelta(days=1)
    return total


def is_work_day(d: datetime, tz: ZoneInfo, work_days: list[int]) -> bool:
    return d.astimezone(tz).isoweekday() in work_days
