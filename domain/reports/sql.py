"""The SQL expressions every report shares: a money sum, and the two that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import Date, Float, func, literal_column, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from domain.types import Money


def money_sum(expr: Any) -> Any:
    """A SUM over a money column, read back as Decimal (the column holds fen); 0 over no rows."""
    return type_coerce(func.coalesce(func.sum(expr), 0), Money)


_ZONE = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")


class local_date(FunctionElement[date]):  # noqa: N801 - reads like the SQL function it is
    """The calendar date of a UTC timestamp column in a time zone (an IANA name, checked, rendered as a literal so
    the same expression can be grouped by)."""

    type = Date()
    inherit_cache = True
    name = "local_date"

    def __init__(self, column: Any, zone: str) -> None:
        if not _ZONE.fullmatch(zone):
            raise ValueError(f"not a time zone name: {zone!r}")
        super().__init__(column, literal_column(f"'{zone}'"))  # a literal is part of the statement's cache key


@compiles(local_date, "postgresql")
def _local_date_pg(element: local_date, compiler: Any, **kw: Any) -> str:
    column, zone = element.clauses
    return f"CAST(timezone({compiler.process(zone, **kw)}, {compiler.process(column, **kw)}) AS DATE)"


@compiles(local_date)
def _local_date_sqlite(element: local_date, compiler: Any, **kw: Any) -> str:
    column, zone = element.clauses  # ot_local_date is registered on every SQLite connection (domain.db)
    return f"ot_local_date({compiler.process(column, **kw)}, {compiler.process(zone, **kw)})"


class seconds_between(FunctionElement[float]):  # noqa: N801
    """later - earlier in seconds, for two timestamp columns."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = element.clauses
    return f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"


@compiles(seconds_between)
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = element.clauses
    return f"((julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)})) * 86400.0)"
