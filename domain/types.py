"""Column types that behave the same on SQLite and PostgreSQL.

Money is stored as integer minor units (fen / cents): exact on every database, and SUM() stays exact even
on SQLite, which has no decimal type. Python code only ever sees `Decimal`.
Datetimes are stored in UTC and always come back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """Round to fen with the rounding accountants expect (half up), never via float."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class Money(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(money(value) * 100)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)


class Percent(TypeDecorator[Decimal]):
    """A percentage with two decimals (12.50 %), stored as basis points."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP) * 100)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC datetimes only")
        value = value.astimezone(UTC)
        # SQLite keeps no offset: store naive UTC text so ordering and comparisons stay right.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
