"""Periods as reports use them: the comparison period, the words a period is named by, and how it reads in both
languages (domain.parsing.period is the one reader; bot.i18n.Texts.period the one writer)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import texts
from domain.parsing import PERIOD_NAMES, Period, named_period, period, period_name
from domain.reports.window import Grain, bucket, buckets, grain_for, window

TODAY = date(2026, 11, 25)  # a Wednesday
ZH, EN = texts("zh-CN"), texts("en")


@pytest.mark.parametrize("typed, zh, en", [
    ("本月", "本月（2026年11月1日 – 25日）", "This month (Nov 1 – 25, 2026)"),
    ("this month", "本月（2026年11月1日 – 25日）", "This month (Nov 1 – 25, 2026)"),
    ("上月", "上月（2026年10月）", "Last month (October 2026)"),
    ("last month", "上月（2026年10月）", "Last month (October 2026)"),
    ("本周", "本周（2026年11月23日 – 25日）", "This week (Nov 23 – 25, 2026)"),
    ("上周", "上周（2026年11月16日 – 22日）", "Last week (Nov 16 – 22, 2026)"),
    ("今年", "今年（2026年1月1日 – 11月25日）", "This year (Jan 1 – Nov 25, 2026)"),
    ("近30天", "近30天（2026年10月27日 – 11月25日）", "Last 30 days (Oct 27 – Nov 25, 2026)"),
    ("last 7 days", "近7天（2026年11月19日 – 25日）", "Last 7 days (Nov 19 – 25, 2026)"),
    ("2026-11", "2026年11月", "November 2026"),
    ("2026Q3", "上季度（2026年第3季度）", "Last quarter (Q3 2026)"),
    ("2026Q2", "2026年第2季度", "Q2 2026"),
    ("2025年", "去年（2025年）", "Last year (2025)"),
    ("11-01 至 11-15", "2026年11月1日 – 15日", "Nov 1 – 15, 2026"),
    ("12-20 至 01-05", "2026年12月20日 – 2027年1月5日", "Dec 20, 2026 – Jan 5, 2027"),
    ("昨天", "昨天（2026年11月24日）", "Yesterday (Nov 24, 2026)"),
])
def test_a_period_reads_in_words_and_dates_in_both_languages(typed: str, zh: str, en: str) -> None:
    p = period(typed, today=TODAY)
    assert ZH.period(p, TODAY).replace("\u2009", " ") == zh
    assert EN.period(p, TODAY).replace("\u2009", " ") == en


def test_without_today_only_the_dates() -> None:
    assert EN.period(period("上月", today=TODAY)) == "October 2026"


def test_named_periods_round_trip() -> None:
    for name in PERIOD_NAMES:
        assert period_name(named_period(name, today=TODAY), today=TODAY) == name
    assert period_name(period("2026-11", today=TODAY), today=TODAY) is None  # the whole month, not "so far"
    with pytest.raises(ValueError):
        named_period("next_decade", today=TODAY)


def test_this_week_so_far_compares_with_the_same_weekdays_of_last_week() -> None:
    assert period("本周", today=TODAY).previous() == Period(date(2026, 11, 16), date(2026, 11, 18), "week")
    assert period("上周", today=TODAY).previous() == Period(date(2026, 11, 9), date(2026, 11, 15), "week")
    assert period("今年", today=TODAY).previous() == Period(date(2025, 1, 1), date(2025, 11, 25), "year")


def test_window_is_local_midnight_to_midnight_in_utc() -> None:
    lo, hi = window(period("上月", today=TODAY), ZoneInfo("Asia/Shanghai"))
    assert (lo, hi) == (datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 10, 31, 16, tzinfo=UTC))
    lo, hi = window(Period(date(2026, 3, 8), date(2026, 3, 8)), ZoneInfo("America/New_York"))  # a 23-hour day
    assert (hi - lo).total_seconds() == 23 * 3600


def test_trend_buckets() -> None:
    assert grain_for(period("本月", today=TODAY)) == Grain.DAY
    assert grain_for(period("2026Q3", today=TODAY)) == Grain.WEEK
    assert grain_for(period("今年", today=TODAY)) == Grain.MONTH
    assert bucket(date(2026, 11, 25), Grain.WEEK) == date(2026, 11, 23)
    assert buckets(period("2026Q3", today=TODAY), Grain.MONTH) == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
    weeks = buckets(period("上月", today=TODAY), Grain.WEEK)
    assert (weeks[0], weeks[-1], len(weeks)) == (date(2026, 9, 28), date(2026, 10, 26), 5)
    assert buckets(period("12-20 至 01-05", today=TODAY), Grain.MONTH) == [date(2026, 12, 1), date(2027, 1, 1)]
