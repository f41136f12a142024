"""Business hours: how long something has waited in working time (work days, work start to end), and the work
calendar (work days, public holidays, make-up days) that says on which days the digests go out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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


@dataclass(frozen=True)
class WorkCalendar:
    """Which local dates are work days: the ISO weekdays worked (Settings.work_days), less the public holidays, plus
    the make-up days (调休: a weekend day worked in exchange for a bridge day off). Dates are local calendar days."""

    work_days: frozenset[int]
    holidays: frozenset[date] = frozenset()
    make_up_days: frozenset[date] = frozenset()

    def is_work_day(self, d: date) -> bool:
        if d in self.make_up_days:
            return True
        return d.isoweekday() in self.work_days and d not in self.holidays

    def previous_work_day(self, d: date) -> date | None:
        """The last work day before `d` (within a month back: a calendar without work days has none)."""
        for back in range(1, 32):
            day = d - timedelta(days=back)
            if self.is_work_day(day):
                return day
        return None

    def first_work_day_of_week(self, d: date) -> date | None:
        """The first work day of the ISO week holding `d` (Monday, or later when Monday is a holiday)."""
        monday = d - timedelta(days=d.weekday())
        return next((day for day in (monday + timedelta(days=i) for i in range(7)) if self.is_work_day(day)), None)
