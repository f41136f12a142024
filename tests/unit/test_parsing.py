"""The one bounded reader of numbers and dates people type."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.parsing import InputRefused, Period, amount, calendar_date, percent, period, quantity
from tests.bounded import within
from tests.i18n import en, zh

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("text, expected", [
    ("10", 10), ("1,000", 1000), ("１０", 10), ("10.0", 10), (" 7 ", 7), ("1000000", 1_000_000), (25, 25),
])
def test_quantities_read(text: str, expected: int) -> None:
    assert quantity(text) == expected


@pytest.mark.parametrize("text, says", [
    ("1.9", "whole number"), ("0.5", "whole number"), ("0", "above 0"), ("-3", "positive"), ("1e10", "positive"),
    ("99999999999", "limit"), ("1000001", "limit"), ("NaN", "positive"), ("Infinity", "positive"), ("1,00", "positive"),
    ("9" * 40, "too long"), ("", "positive"), ("十", "positive"),
])
def test_quantities_refused_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(InputRefused) as e:
        quantity(text, field="qty")
    assert says in en(e.value) and zh(e.value) and e.value.details["field"] == "qty"


def test_zero_quantity_only_when_allowed() -> None:
    assert quantity("0", allow_zero=True, field="qty_1") == 0
    with pytest.raises(InputRefused):
        quantity("-0", allow_zero=True)


def test_quantity_maximum_is_the_callers() -> None:
    assert quantity("50", maximum=50) == 50
    with pytest.raises(InputRefused):
        quantity("51", maximum=50)


@pytest.mark.parametrize("text, expected", [
    ("12000", "12000.00"), ("12,000.50", "12000.50"), ("¥12,000", "12000.00"), ("12000元", "12000.00"),
    ("1.2万", "12000.00"), ("０.５", "0.50"), ("100.10", "100.10"), ("100.000", "100.00"), ("RMB 88", "88.00"),
])
def test_amounts_read(text: str, expected: str) -> None:
    assert amount(text) == Decimal(expected)


@pytest.mark.parametrize("text, says", [
    ("12.000,50", "ambiguous"), ("12,5", "ambiguous"), ("100.129", "2 decimals"), ("NaN", "write a number"),
    ("sNaN", "write a number"), ("Infinity", "write a number"), ("-Infinity", "write a number"),
    ("1e100000", "write a number"), ("1e600000", "write a number"), ("-5", "negative"), ("0", "above 0"),
    ("100000000.01", "limit"), ("1" * 40, "too long"), ("12,00", "ambiguous"),
])
def test_amounts_refused_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(InputRefused) as e:
        amount(text)
    assert says in en(e.value), en(e.value)
    assert zh(e.value)


def test_zero_amount_only_when_allowed() -> None:
    assert amount("0", allow_zero=True) == Decimal("0.00")


def test_money_is_never_a_float() -> None:
    with pytest.raises(TypeError):
        amount(1.5)  # type: ignore[arg-type]


@given(st.text(max_size=60))
@settings(max_examples=400, deadline=None)
def test_no_text_is_slow_or_crashes(text: str) -> None:
    def read_all() -> None:
        for read in (quantity, amount, percent, lambda t: calendar_date(t, today=TODAY), lambda t: period(t, today=TODAY)):
            try:
                read(text)
            except InputRefused:
                pass

    within(read_all, cpu=0.5)


def test_percent() -> None:
    assert percent("12.5%") == Decimal("12.50")
    for bad in ("100", "-1", "12.345", "NaN"):
        with pytest.raises(InputRefused):
            percent(bad)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-20", date(2026, 11, 20)), ("11-20", date(2026, 11, 20)), ("11/20", date(2026, 11, 20)),
    ("11月20日", date(2026, 11, 20)), ("2026年11月20号", date(2026, 11, 20)), ("Nov 20", date(2026, 11, 20)),
    ("20 Nov 2026", date(2026, 11, 20)), ("昨天", date(2026, 12, 1)), ("yesterday", date(2026, 12, 1)),
    ("前天", date(2026, 11, 30)), ("today", TODAY), ("明天", date(2026, 12, 3)),
])
def test_dates_read(text: str, expected: date) -> None:
    assert calendar_date(text, today=TODAY) == expected


def test_a_past_date_is_refused_never_moved_to_next_year() -> None:
    with pytest.raises(InputRefused) as e:
        calendar_date("11-01", today=TODAY, earliest=TODAY)
    assert "Nov 1, 2026" in en(e.value) and "2027-11-01" in en(e.value)  # says what to write if next year was meant
    assert calendar_date("2027-11-01", today=TODAY, earliest=TODAY) == date(2027, 11, 1)


def test_a_date_without_year_is_the_nearest_such_day() -> None:
    assert calendar_date("12-30", today=date(2027, 1, 2), latest=date(2027, 1, 2)) == date(2026, 12, 30)
    assert calendar_date("01-05", today=date(2026, 11, 22), earliest=date(2026, 11, 22)) == date(2027, 1, 5)


def test_a_future_payment_date_is_refused() -> None:
    with pytest.raises(InputRefused) as e:
        calendar_date("12-05", today=TODAY, latest=TODAY)
    assert "Dec 5, 2026" in en(e.value) and "2025-12-05" in en(e.value)


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "2026-02-30", "13-01", "Smarch 3", "2026-1-1-1"])
def test_dates_refused(text: str) -> None:
    with pytest.raises(InputRefused):
        calendar_date(text, today=TODAY)


@pytest.mark.parametrize("text, start, end", [
    ("本月", date(2026, 12, 1), TODAY), ("this month", date(2026, 12, 1), TODAY),
    ("上月", date(2026, 11, 1), date(2026, 11, 30)), ("last month", date(2026, 11, 1), date(2026, 11, 30)),
    ("本周", date(2026, 11, 30), TODAY), ("上周", date(2026, 11, 23), date(2026, 11, 29)),
    ("今年", date(2026, 1, 1), TODAY), ("近30天", date(2026, 11, 3), TODAY), ("last 30 days", date(2026, 11, 3), TODAY),
    ("2026-11", date(2026, 11, 1), date(2026, 11, 30)), ("2026年11月", date(2026, 11, 1), date(2026, 11, 30)),
    ("2026Q3", date(2026, 7, 1), date(2026, 9, 30)), ("2026 q3", date(2026, 7, 1), date(2026, 9, 30)),
    ("11-01 至 11-15", date(2026, 11, 1), date(2026, 11, 15)), ("11-01 to 11-15", date(2026, 11, 1), date(2026, 11, 15)),
    ("2026-10-01 2026-10-31", date(2026, 10, 1), date(2026, 10, 31)), ("昨天", date(2026, 12, 1), date(2026, 12, 1)),
    ("12-20 至 01-05", date(2026, 12, 20), date(2027, 1, 5)),
])
def test_periods(text: str, start: date, end: date) -> None:
    p = period(text, today=TODAY)
    assert (p.start, p.end) == (start, end)


def test_previous_periods_compare_like_with_like() -> None:
    assert period("上月", today=TODAY).previous() == Period(date(2026, 10, 1), date(2026, 10, 31), "month")
    assert period("本月", today=TODAY).previous() == Period(date(2026, 11, 1), date(2026, 11, 2), "month")
    assert period("2026Q3", today=TODAY).previous() == Period(date(2026, 4, 1), date(2026, 6, 30), "quarter")
    assert period("近30天", today=TODAY).previous() == Period(date(2026, 10, 4), date(2026, 11, 2), "days")


@pytest.mark.parametrize("text", ["someday", "2026-13", "0001-01-01 9999-12-31", "11-15 至 2026-11-01", "近0天",
                                  "0000q1", "9999Q4", "1999 q2"])
def test_periods_refused(text: str) -> None:
    with pytest.raises(InputRefused):
        period(text, today=TODAY)


# ---------------------------------------------------------------- spreadsheet cells (Excel's habits)

from datetime import datetime  # noqa: E402

from domain.parsing import cell_text, text, yes_no  # noqa: E402


@pytest.mark.parametrize("value, shown", [
    (35.5, "35.5"), (12000.0, "12000"), (0.1 + 0.2, "0.3"), (1e16, "10000000000000000"), (46000, "46000"),
    (True, "TRUE"), (None, ""), (date(2026, 11, 20), "2026-11-20"), ("  SKU-001 ", "  SKU-001 "),
])
def test_cell_text_shows_what_excel_shows(value: object, shown: str) -> None:
    assert cell_text(value) == shown


@pytest.mark.parametrize("cell, expected", [
    ("12,000 ", Decimal("12000.00")), (" 1,234.50", Decimal("1234.50")), ("１２０００", Decimal("12000.00")),
    (12000.5, Decimal("12000.50")), (35.5, Decimal("35.50")), (0.1 + 0.2, Decimal("0.30")), ("\u00a0120\u00a0", Decimal("120.00")),
])
def test_numbers_stored_as_text_or_floats_read_as_money(cell: object, expected: Decimal) -> None:
    assert amount(cell_text(cell)) == expected


def test_a_count_may_be_zero_only_when_asked() -> None:
    assert quantity("0", allow_zero=True) == 0
    assert quantity(cell_text(3000.0), allow_zero=True) == 3000
    with pytest.raises(InputRefused):
        quantity("0")


@pytest.mark.parametrize("cell, expected", [
    (46000, date(2025, 12, 9)), ("46000", date(2025, 12, 9)), (46000.0, date(2025, 12, 9)), ("20261120", date(2026, 11, 20)),
    ("2026/11/20 00:00:00", date(2026, 11, 20)), (datetime(2026, 11, 20, 0, 0), date(2026, 11, 20)),
    (date(2026, 11, 20), date(2026, 11, 20)), ("2026年11月20日", date(2026, 11, 20)), (" 2026-11-20 ", date(2026, 11, 20)),
])
def test_sheet_dates(cell: object, expected: date) -> None:
    assert calendar_date(cell_text(cell) if not isinstance(cell, date) else cell, today=TODAY, sheet=True) == expected


def test_serials_are_only_read_from_sheets_and_bounded() -> None:
    with pytest.raises(InputRefused):
        calendar_date("46000", today=TODAY)  # typed in chat, five digits are not a date
    with pytest.raises(InputRefused):
        calendar_date("10000", today=TODAY, sheet=True)  # 1927: outside the years we accept
    with pytest.raises(InputRefused) as e:
        calendar_date(date(2027, 1, 1), today=TODAY, latest=TODAY, field="due")
    assert e.value.details["field"] == "due"


def test_text_cleans_full_width_and_spaces_and_refuses_what_cannot_be_stored() -> None:
    assert text("  ＡＢＣ　贸易  有限公司 ", maximum=50) == "ABC 贸易 有限公司"
    assert text(1001.0, maximum=10) == "1001"  # a code Excel turned into a number
    with pytest.raises(InputRefused) as e:
        text("x" * 21, maximum=20, field="name", what="Customer name")
    assert "Customer name is longer than 20" in en(e.value) and "客户名称最多 20" in zh(e.value) and e.value.details["field"] == "name"
    with pytest.raises(InputRefused):
        text("a\x00b", maximum=20)
    with pytest.raises(InputRefused):
        text("   ", maximum=20, required=True)


@pytest.mark.parametrize("cell, expected", [("是", True), ("否", False), ("Y", True), ("no", False), (True, True), (0, False),
                                            ("TRUE", True), (" 停用 ", False)])
def test_yes_no(cell: object, expected: bool) -> None:
    assert yes_no(cell) is expected


def test_yes_no_refuses_anything_else() -> None:
    with pytest.raises(InputRefused):
        yes_no("maybe")
