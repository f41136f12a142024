"""Sales per local day and sales person for closed days (the trend and the leaderboard read these instead of every
order: a year is ~70,000 rows, not ~500,000 orders), and the per-UTC-date versions that tell a built day is stale.
The versions are bumped by a trigger, so every write to an old order counts — the ORM's, a bulk import's, a
hand-typed UPDATE's. Orders placed within the last day never touch a version row: placing and approving today's
orders stays free of it, and the reports read those days live.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = "status, total, created_at, sales_user_id"

PG_FUNCTION = """
CREATE FUNCTION ot_order_day_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.created_at < now() - interval '1 day' THEN
    INSERT INTO order_day_versions (day, version) VALUES ((OLD.created_at AT TIME ZONE 'UTC')::date, 1)
    ON CONFLICT (day) DO UPDATE SET version = order_day_versions.version + 1;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.created_at < now() - interval '1 day' THEN
    INSERT INTO order_day_versions (day, version) VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, 1)
    ON CONFLICT (day) DO UPDATE SET version = order_day_versions.version + 1;
  END IF;
  RETURN NULL;
END $$"""


def _sqlite_bump(row: str) -> str:
    return (f"INSERT INTO order_day_versions (day, version) VALUES (date({row}.created_at), 1) "
            f"ON CONFLICT (day) DO UPDATE SET version = version + 1")


def _sqlite_old(row: str) -> str:
    return f"julianday({row}.created_at) < julianday('now') - 1"


SQLITE_TRIGGERS = [
    f"CREATE TRIGGER orders_day_inserted AFTER INSERT ON orders WHEN {_sqlite_old('NEW')} "
    f"BEGIN {_sqlite_bump('NEW')}; END",
    f"CREATE TRIGGER orders_day_deleted AFTER DELETE ON orders WHEN {_sqlite_old('OLD')} "
    f"BEGIN {_sqlite_bump('OLD')}; END",
    f"CREATE TRIGGER orders_day_updated_old AFTER UPDATE OF {WATCHED} ON orders WHEN {_sqlite_old('OLD')} "
    f"BEGIN {_sqlite_bump('OLD')}; END",
    f"CREATE TRIGGER orders_day_updated_new AFTER UPDATE OF {WATCHED} ON orders WHEN {_sqlite_old('NEW')} "
    f"BEGIN {_sqlite_bump('NEW')}; END",
]


def upgrade() -> None:
    op.create_table(
        "order_day_versions",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_order_day_versions")),
    )
    op.create_table(
        "sales_days",
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sales_user_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("zone", "day", "sales_user_id", name=op.f("pk_sales_days")),
    )
    op.create_table(
        "sales_day_builds",
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("zone", "day", name=op.f("pk_sales_day_builds")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(f"CREATE TRIGGER orders_day_touched AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON orders "
                   "FOR EACH ROW EXECUTE FUNCTION ot_order_day_touched()")
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER orders_day_touched ON orders")
        op.execute("DROP FUNCTION ot_order_day_touched()")
    else:
        for name in ("orders_day_inserted", "orders_day_deleted", "orders_day_updated_old", "orders_day_updated_new"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("sales_day_builds")
    op.drop_table("sales_days")
    op.drop_table("order_day_versions")
