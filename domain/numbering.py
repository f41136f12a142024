"""Order numbers SO-YYYYMMDD-NNNN: one atomic counter row per prefix and day.

One INSERT … ON CONFLICT DO UPDATE … RETURNING creates the day's row at 1 or increments it, under the row lock
(PostgreSQL) or the write lock (SQLite), so two transactions can never get the same number.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain.models import OrderSequence


def next_order_number(session: Session, prefix: str, day: date) -> str:
    key = f"{prefix}-{day:%Y%m%d}"
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(OrderSequence).values(key=key, last=1)
    n = session.execute(
        stmt.on_conflict_do_update(index_elements=[OrderSequence.key], set_={"last": OrderSequence.last + 1})
        .returning(OrderSequence.last)
    ).scalar_one()
    return f"{key}-{n:04d}"
