"""What people type, read strictly and within bounds: quantities, money, dates and periods.

Every number or date a person or a platform sends goes through here — chat commands, forms, the CLI, bank
statements and imports — so one input means the same thing everywhere. Each reader checks the text's length
and shape with a regular expression *before* converting it (`Decimal("1e600000")` or a 10,000-digit integer
must never reach arithmetic), refuses what is ambiguous (`12.000,50`, `1.9` boxes) with the reason in both
languages, and never rounds silently.

A date without a year means the nearest such day (`01-05` typed in late November is next January's, `12-30`
typed on 2 January last December's). That reading is never moved to fit: the caller says what range is
acceptable (`earliest` / `latest`), and a date outside it is refused with the full date to write instead
(`外出 至 11-01` on 2 December is refused, not read as next November).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from domain.errors import ValidationFailed
from domain.messages import N_, Message

QUANTITY_MAX = 1_000_000  # default bound; deployments set their own (Settings.max_quantity)
AMOUNT_MAX = Decimal("100000000.00")  # 一亿; Settings.max_amount
YEAR_MIN, YEAR_MAX = 2000, 2099
_TOKEN_MAX = 32  # no number or date anyone types is longer; longer text is refused before any regex runs


class InputRefused(ValidationFailed):
    """A number or date that cannot be read, or is out of bounds. Carries both languages and the field."""

    code = "invalid_input"


def _clean(text: str) -> str:
    # NFKC: full-width digits and signs (１２，０００．５０) become ASCII; spaces inside a number are typos.
    s = str(text)
    return (s if s.isascii() else unicodedata.normalize("NFKC", s)).strip().replace(" ", "")  # ASCII is NFKC already


def _too_long(raw: str, field: str | None) -> InputRefused:
    shown = raw[:20] + "…"
    return InputRefused("'{shown}' is too long to be a number or a date", shown=shown, field=field)


# ---------------------------------------------------------------- quantities

_INT = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?")


@dataclass(frozen=True)
class Limits:
    """The deployment's bounds (Settings.max_quantity / max_amount), handed to every reader that needs them."""

    max_quantity: int = QUANTITY_MAX
    max_amount: Decimal = AMOUNT_MAX


DEFAULT_LIMITS = Limits()


def quantity(text: str | int, *, maximum: int = QUANTITY_MAX, allow_zero: bool = False, field: str | None = None) -> int:
    """A positive whole number of units (or 0 with `allow_zero`: a line not shipped this time, a count, a safety
    stock), at most `maximum`: `10`, `1,000`, `１０`, `10.0` (Excel's habit)."""
    if isinstance(text, bool):
        raise TypeError("a quantity is not a bool")
    raw = str(text)
    s = _clean(raw)
    if len(s) > _TOKEN_MAX:
        raise _too_long(raw, field)
    m = _INT.fullmatch(s)
    if m is None:
        raise InputRefused("invalid quantity '{raw}': must be a positive whole number", raw=raw, field=field)
    if m["frac"] and m["frac"].strip("0"):
        raise InputRefused("invalid quantity '{raw}': must be a whole number", raw=raw, field=field)
    digits = m["int"].replace(",", "").lstrip("0") or "0"
    if len(digits) > len(str(maximum)) or int(digits) > maximum:
        raise InputRefused("quantity '{raw}' is above the limit of {maximum:,}", raw=raw, maximum=maximum, field=field)
    n = int(digits)
    if n <= 0 and not allow_zero:
        raise InputRefused("invalid quantity '{raw}': must be above 0", raw=raw, field=field)
    return n


# ---------------------------------------------------------------- money

# Thousands separators are commas in groups of three; the decimal separator is a dot. A number like
# `12.000,50` (European) or `12,5` reads differently in different countries: refused, never guessed.
_MONEY = re.compile(r"(?P<sign>[-+])?(?:¥|￥|\$|CNY|RMB|USD)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)"
                    r"(?:\.(?P<frac>\d+))?(?P<wan>万)?(?:元|块|CNY|RMB|USD)?", re.I)
_EURO = re.compile(r"\d{1,3}(?:\.\d{3})+,\d+|\d+,\d{1,2}")


def amount(text: str | Decimal | int, *, maximum: Decimal = AMOUNT_MAX, allow_zero: bool = False,
           field: str | None = None) -> Decimal:
    """Money with at most two decimals, above 0 (or 0 with `allow_zero`), at most `maximum`.

    `12000`, `12,000.50`, `¥12,000`, `12000元`, `1.2万` (= 12,000.00). Never NaN, Infinity or an exponent."""
    if isinstance(text, float | bool):
        raise TypeError("money is never a float")
    raw = str(text)
    s = _clean(raw)
    if len(s) > _TOKEN_MAX:
        raise _too_long(raw, field)
    m = _MONEY.fullmatch(s)
    if m is None:
        if _EURO.fullmatch(s):
            raise InputRefused("amount '{raw}' is ambiguous: use a dot for decimals and commas only for thousands, e.g. 12000.50", raw=raw, field=field)
        raise InputRefused("invalid amount '{raw}': write a number such as 12000 or 12,000.50", raw=raw, field=field)
    sign, whole, frac, wan = m.group("sign", "int", "frac", "wan")
    frac = frac or ""
    value = Decimal(whole.replace(",", "") + ("." + frac if frac else ""))
    if wan:
        value *= 10000
        exponent = value.normalize().as_tuple().exponent if value else 0
        value_frac = -exponent if isinstance(exponent, int) else 0  # decimals that matter after 万
    else:  # the same count without the arithmetic: the decimals written, less trailing zeros
        value_frac = len(frac.rstrip("0"))
    if value_frac > 2:
        raise InputRefused("amount '{raw}' has more than 2 decimals", raw=raw, field=field)
    if sign == "-" and value:
        raise InputRefused("amount '{raw}' cannot be negative", raw=raw, field=field)
    if value > maximum:
        raise InputRefused("amount '{raw}' is above the limit of {maximum:,.2f}", raw=raw, maximum=maximum, field=field)
    if value == 0 and not allow_zero:
        raise InputRefused("amount '{raw}' must be above 0", raw=raw, field=field)
    return value.quantize(_CENT)


_CENT = Decimal("0.01")


def percent(text: str | Decimal | int, *, field: str | None = None) -> Decimal:
    """A discount percentage 0 ≤ p < 100 with at most two decimals: `5`, `12.5`, `12.5%`."""
    raw = str(text)
    s = _clean(raw).removesuffix("%").removesuffix("％")
    if len(s) > _TOKEN_MAX:
        raise _too_long(raw, field)
    m = re.fullmatch(r"\d{1,2}(?:\.\d{1,2})?", s)
    if m is None:
        raise InputRefused("invalid discount '{raw}': write a percentage from 0 to 99.99", raw=raw, field=field)
    return Decimal(s).quantize(Decimal("0.01"))


# ---------------------------------------------------------------- dates

_MON = ("jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
        "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
DATE_FORMS = [re.compile(p, re.I) for p in (
    r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})",
    r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?",
    r"(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})",
    rf"(?P<mon>{_MON})\.?\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s*,?\s*(?P<y>\d{{4}}))?",
    rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*(?P<mon>{_MON})\.?(?:\s*,?\s*(?P<y>\d{{4}}))?",
)]
RELATIVE_DAYS = {
    "今天": 0, "今日": 0, "today": 0, "昨天": -1, "昨日": -1, "yesterday": -1, "前天": -2,
    "明天": 1, "明日": 1, "tomorrow": 1, "后天": 2,
}
# A regex fragment (no groups) that matches any date this module reads, for grammars that embed dates.
DATE_PATTERN = "(?:" + "|".join(
    [re.sub(r"\?P<\w+>", "", f.pattern) for f in DATE_FORMS]
    + [re.escape(w) for w in sorted(RELATIVE_DAYS, key=len, reverse=True)]) + ")"


def _date_refused(raw: str, field: str | None) -> InputRefused:
    return InputRefused("cannot read the date '{raw}'; write it as 2026-12-01, 12-01, Dec 1 or yesterday", raw=raw, field=field)


def calendar_date(text: str | date | int, *, today: date, earliest: date | None = None, latest: date | None = None,
                  field: str | None = None, what: str = N_("the date"), sheet: bool = False) -> date:
    """A date a person typed. Without a year, the nearest such day to `today`; outside [earliest, latest] it is
    refused with the reason (and, for a year-less date, the full date that would have fitted).

    `sheet=True` also reads what spreadsheets hold: a date cell, an Excel serial number (46000, also as text),
    a compact 20261120 and a date with a midnight time (2026/11/20 00:00:00)."""
    if isinstance(text, datetime):
        text = text.date()
    if isinstance(text, date):
        _bounded(text, text.isoformat(), True, earliest, latest, field, what)
        return text
    raw = str(text)
    s = unicodedata.normalize("NFKC", raw).strip()
    if len(s) > _TOKEN_MAX:
        raise _too_long(raw, field)
    if sheet:
        found_in_sheet = _sheet_date(s)
        if found_in_sheet is not None:
            _bounded(found_in_sheet, raw, True, earliest, latest, field, what)
            return found_in_sheet
    if s.lower() in RELATIVE_DAYS:
        found = today + timedelta(days=RELATIVE_DAYS[s.lower()])
        year_given = True
    else:
        m = next((m for f in DATE_FORMS if (m := f.fullmatch(s))), None)
        if m is None:
            raise _date_refused(raw, field)
        g = m.groupdict()
        month = int(g["m"]) if g.get("m") else _MONTHS[g["mon"][:3].lower()]
        year_given = bool(g.get("y"))
        if year_given:
            year = int(g["y"])
            if not (YEAR_MIN <= year <= YEAR_MAX):
                raise InputRefused("{what} {raw} has a year outside {first}–{last}", what=Message(what), raw=raw,
                                   first=str(YEAR_MIN), last=str(YEAR_MAX), field=field)
            try:
                found = date(year, month, int(g["d"]))
            except ValueError:
                raise _date_refused(raw, field) from None
        else:
            candidates = [d for y in (today.year - 1, today.year, today.year + 1)
                          if (d := _valid(y, month, int(g["d"]))) is not None]
            if not candidates:
                raise _date_refused(raw, field)
            found = min(candidates, key=lambda d: abs((d - today).days))
    _bounded(found, raw, year_given, earliest, latest, field, what)
    return found


def _bounded(found: date, raw: str, year_given: bool, earliest: date | None, latest: date | None,
             field: str | None, what: str) -> None:
    if earliest is not None and found < earliest:
        hint: Message | str = ""
        if not year_given:
            nxt = _same_day(found, found.year + 1)  # the reading was the nearest day; the next one may be meant
            if nxt is not None and (latest is None or nxt <= latest) and nxt >= earliest:
                hint = Message("; if you mean next year, write {date}", {"date": nxt.isoformat()})
        raise InputRefused("{what} {date} is before {earliest}{hint}", what=Message(what), date=found, earliest=earliest,
                           hint=hint, field=field)
    if latest is not None and found > latest:
        hint = ""
        if not year_given:
            prev = _same_day(found, found.year - 1)
            if prev is not None and (earliest is None or prev >= earliest) and prev <= latest:
                hint = Message("; if you mean last year, write {date}", {"date": prev.isoformat()})
        raise InputRefused("{what} {date} is after {latest}{hint}", what=Message(what), date=found, latest=latest,
                           hint=hint, field=field)


_SERIAL = re.compile(r"(?P<n>\d{5})(?:\.0+)?")
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_MIDNIGHT = re.compile(r"(?P<date>.+?)[ T]0?0:00(?::00(?:\.0+)?)?")
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 in Excel's (Lotus-compatible) count


def _sheet_date(s: str) -> date | None:
    """Dates as spreadsheets store them; None when `s` is none of those shapes (the typed forms are tried next)."""
    if m := _SERIAL.fullmatch(s):
        found = _EXCEL_EPOCH + timedelta(days=int(m["n"]))
        return found if YEAR_MIN <= found.year <= YEAR_MAX else None
    if m := _COMPACT.fullmatch(s):
        return _valid(int(m["y"]), int(m["m"]), int(m["d"]))
    if m := _MIDNIGHT.fullmatch(s):
        inner = m["date"].strip()
        d = next((mm for f in DATE_FORMS[:2] if (mm := f.fullmatch(inner))), None)
        if d is not None and d["y"]:
            return _valid(int(d["y"]), int(d["m"]), int(d["d"]))
    return None


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _same_day(d: date, year: int) -> date | None:
    try:
        return d.replace(year=year)
    except ValueError:  # 29 February
        return None


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """Inclusive dates. `previous()` is the period a report compares with: the month, quarter, week or year
    before for calendar periods, else the same number of days just before."""

    start: date
    end: date
    unit: str = "days"  # days | week | month | quarter | year

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        # A whole month (quarter) compares with the whole one before; month-to-date with as many days of the last.
        if self.unit == "month":
            start = _add_months(self.start, -1)
            whole = self.end == _month_end(self.start)
            return Period(start, _month_end(start) if whole else min(_month_end(start), start + (self.end - self.start)),
                          "month")
        if self.unit == "quarter":
            start = _add_months(self.start, -3)
            last = _add_months(start, 3) - timedelta(days=1)
            whole = self.end == _add_months(self.start, 3) - timedelta(days=1)
            return Period(start, last if whole else min(last, start + (self.end - self.start)), "quarter")
        if self.unit == "year":
            start = self.start.replace(year=self.start.year - 1)
            return Period(start, _same_day(self.end, self.end.year - 1) or self.end.replace(day=28, year=self.end.year - 1),
                          "year")
        if self.unit == "week":  # this week so far compares with the same weekdays of the week before
            return Period(self.start - timedelta(days=7), self.end - timedelta(days=7), "week")
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.unit)


def _month_end(d: date) -> date:
    return _add_months(d.replace(day=1), 1) - timedelta(days=1)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


_RANGE_SEP = r"\s*(?:~|～|至|到|to|-|–|—)\s*"
_LAST_N = re.compile(r"(?:近|最近|过去)\s*(?P<n>\d{1,3})\s*(?P<u>天|日|周|个月|月)|(?:last|past)\s*(?P<n2>\d{1,3})\s*"
                     r"(?P<u2>days?|weeks?|months?)", re.I)
_MONTH = re.compile(r"(?P<y>\d{4})\s*(?:-|/|年)\s*(?P<m>\d{1,2})\s*月?|(?P<m2>\d{1,2})\s*月(?:份)?", re.I)
_QUARTER = re.compile(r"(?P<y>\d{4})\s*(?:年\s*)?(?:q|第)\s*(?P<q>[1-4])\s*(?:季度?)?|(?:q|第)(?P<q2>[1-4])(?:季度?)?", re.I)
_WORDS: dict[str, str] = {
    "本月": "this_month", "这个月": "this_month", "当月": "this_month", "this month": "this_month", "mtd": "this_month",
    "上月": "last_month", "上个月": "last_month", "last month": "last_month", "previous month": "last_month",
    "本周": "this_week", "这周": "this_week", "this week": "this_week",
    "上周": "last_week", "上个星期": "last_week", "last week": "last_week", "previous week": "last_week",
    "今年": "this_year", "本年": "this_year", "this year": "this_year", "ytd": "this_year",
    "去年": "last_year", "last year": "last_year",
    "本季度": "this_quarter", "本季": "this_quarter", "this quarter": "this_quarter",
    "上季度": "last_quarter", "上季": "last_quarter", "last quarter": "last_quarter",
    "今天": "today", "today": "today", "昨天": "yesterday", "yesterday": "yesterday",
}
PERIOD_WORDS = tuple(_WORDS)


def period(text: str, *, today: date, field: str | None = None) -> Period:
    """本月 / 上月 / 本周 / 上周 / 今年 / 近30天 / 2026-11 / 2026Q3 / 11-01 至 11-15, and the English words."""
    raw = str(text)
    s = " ".join(unicodedata.normalize("NFKC", raw).strip().lower().split())
    if len(s) > 2 * _TOKEN_MAX + 8:
        raise _too_long(raw, field)
    word = _WORDS.get(s)
    if word is not None:
        return _named(word, today)
    if m := _LAST_N.fullmatch(s):
        n, unit = int(m["n"] or m["n2"]), (m["u"] or m["u2"])
        if n == 0:
            raise _period_refused(raw, field)
        if unit in ("周",) or unit.startswith("week"):
            days = 7 * n
        elif unit in ("个月", "月") or unit.startswith("month"):
            start = _add_months(today.replace(day=1), -n)
            start = _same_day_in_month(today, start)
            return Period(start + timedelta(days=1), today, "days")
        else:
            days = n
        return Period(today - timedelta(days=days - 1), today, "days")
    if m := _QUARTER.fullmatch(s):
        year = int(m["y"]) if m["y"] else today.year
        q = int(m["q"] or m["q2"])
        if not (YEAR_MIN <= year <= YEAR_MAX):
            raise _period_refused(raw, field)
        start = date(year, 3 * q - 2, 1)
        return Period(start, _add_months(start, 3) - timedelta(days=1), "quarter")
    if m := _MONTH.fullmatch(s):
        year = int(m["y"]) if m["y"] else today.year
        month = int(m["m"] or m["m2"])
        if not (1 <= month <= 12 and YEAR_MIN <= year <= YEAR_MAX):
            raise _period_refused(raw, field)
        start = date(year, month, 1)
        return Period(start, _month_end(start), "month")
    if re.fullmatch(r"\d{4}\s*年?", s):
        year = int(s[:4])
        if not (YEAR_MIN <= year <= YEAR_MAX):
            raise _period_refused(raw, field)
        return Period(date(year, 1, 1), date(year, 12, 31), "year")
    parts = re.fullmatch(rf"(?:from\s+|从\s*)?(?P<a>{DATE_PATTERN}){_RANGE_SEP}(?P<b>{DATE_PATTERN})", s, re.I)
    if parts is None:
        parts = re.fullmatch(rf"(?P<a>{DATE_PATTERN})\s+(?P<b>{DATE_PATTERN})", s, re.I)
    if parts is not None:
        start = calendar_date(parts["a"], today=today, field=field)
        end = calendar_date(parts["b"], today=today, field=field)
        if end < start and not re.search(r"\d{4}", parts["b"]):
            end = _same_day(end, start.year) or end  # "12-20 至 01-05" is typed within one season…
            if end < start:
                end = _same_day(end, start.year + 1) or end  # …and only then crosses New Year, as written
        if end < start:
            raise InputRefused("the end date {end} is before the start date {start}", end=end, start=start,
                               field=field)
        return Period(start, end, "days")
    if re.fullmatch(DATE_PATTERN, s, re.I):
        d = calendar_date(s, today=today, field=field)
        return Period(d, d, "days")
    raise _period_refused(raw, field)


def _same_day_in_month(today: date, month_start: date) -> date:
    day = min(today.day, _month_end(month_start).day)
    return month_start.replace(day=day)


def _named(word: str, today: date) -> Period:
    if word == "today":
        return Period(today, today, "days")
    if word == "yesterday":
        return Period(today - timedelta(days=1), today - timedelta(days=1), "days")
    if word == "this_month":
        return Period(today.replace(day=1), today, "month")
    if word == "last_month":
        start = _add_months(today.replace(day=1), -1)
        return Period(start, _month_end(start), "month")
    if word in ("this_week", "last_week"):
        monday = today - timedelta(days=today.weekday())
        if word == "this_week":
            return Period(monday, today, "week")
        return Period(monday - timedelta(days=7), monday - timedelta(days=1), "week")
    if word in ("this_quarter", "last_quarter"):
        start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        if word == "this_quarter":
            return Period(start, today, "quarter")
        prev = _add_months(start, -3)
        return Period(prev, start - timedelta(days=1), "quarter")
    if word == "this_year":
        return Period(date(today.year, 1, 1), today, "year")
    return Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), "year")  # last_year


PERIOD_NAMES = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month", "this_quarter",
                "last_quarter", "this_year", "last_year")


def named_period(name: str, *, today: date) -> Period:
    """The period a word names as of `today`: named_period("this_month", today=…)."""
    if name not in PERIOD_NAMES:
        raise ValueError(f"no period named {name!r}")
    return _named(name, today)


def period_name(p: Period, *, today: date) -> str | None:
    """The word for this period as of `today` ("last_month"), if one names exactly these days."""
    return next((n for n in PERIOD_NAMES if _named(n, today) == p), None)


def _period_refused(raw: str, field: str | None) -> InputRefused:
    return InputRefused("cannot read the period '{raw}'; try this month, last month, this week, last 30 days, 2026-11, 2026Q3 or 11-01 to 11-15", raw=raw, field=field)



# ---------------------------------------------------------------- spreadsheet cells
# A cell arrives as str, int, float, bool, date or datetime (or "" when empty). `cell_text` turns it into the text a
# person would see, which the readers above then read like anything typed: one meaning for one input everywhere.

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cell_text(value: object) -> str:
    """What a cell shows: a float as its shortest decimal (Excel stores 35.5 as a float; no binary tail, no
    exponent), an integral float without `.0`, a date as ISO, booleans as TRUE/FALSE, None as ""."""
    if type(value) is str:  # most cells: checked first, an import reads millions of them
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        text = format(value, ".15g")  # Excel shows 15 significant digits: 0.1+0.2 is 0.3
        if "e" in text:  # no exponent: 1e-05 is 0.00001 (without one, "g" already is the plain decimal)
            text = format(Decimal(text), "f")
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_THE_VALUE = N_("the value")


def text(value: object, *, maximum: int, field: str | None = None, required: bool = False,
         what: str | Message = _THE_VALUE) -> str:
    """A name, code or address from a cell or a form: NFKC (full-width letters, digits and spaces become
    ordinary ones), inner whitespace collapsed, trimmed; control characters and over-long text refused. `what`:
    the field's label (a msgid, or a Message with its parameters)."""
    what = Message(what) if isinstance(what, str) else what
    raw = cell_text(value)
    s = " ".join((raw if raw.isascii() else unicodedata.normalize("NFKC", raw)).split())
    if not raw.isprintable() and _CONTROL.search(raw):  # control characters are never printable: most text skips the search
        raise InputRefused("{what} contains control characters", what=what, field=field)
    if len(s) > maximum:
        raise InputRefused("{what} is longer than {maximum} characters ({length})", what=what, maximum=maximum,
                           length=len(s), field=field)
    if required and not s:
        raise InputRefused("{what} is required", what=what, field=field)
    return s


_YES = {"是", "有", "启用", "在售", "y", "yes", "true", "1", "√", "✓", "active", "on"}
_NO = {"否", "无", "停用", "停售", "n", "no", "false", "0", "×", "✗", "inactive", "off"}


def yes_no(value: object, *, field: str | None = None) -> bool:
    """是/否, Y/N, yes/no, TRUE/FALSE (a checkbox cell), 1/0."""
    s = unicodedata.normalize("NFKC", cell_text(value)).strip().lower()
    if s in _YES:
        return True
    if s in _NO:
        return False
    raise InputRefused("'{value}' is not yes or no", value=cell_text(value)[:20], field=field)
