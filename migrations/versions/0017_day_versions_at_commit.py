"""PostgreSQL: the per-day version bump of migration 0014 runs at commit (a deferred constraint trigger) instead of
at the UPDATE.

Every change to an order placed more than a day before bumps one row per UTC date; at the UPDATE, that row stayed
locked until the transaction ended, so all decisions on orders of one day queued behind each other for the whole of
each one's transaction (notifications and cards included): bench.interactive on orders of a past day decided 9–16
clicks/s, with decisions cut at the 1.2 s statement limit while they waited for it. Bumped at commit, the row is held
only while the transaction commits. Other transactions see the bump exactly when they see the order's change (the
same commit), so the staleness check of domain.reports.rollup reads what it read before. SQLite is unchanged (one
writer at a time there anyway).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = "status, total, created_at, sales_user_id"  # as in 0014


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER orders_day_touched ON orders")
    op.execute(f"CREATE CONSTRAINT TRIGGER orders_day_touched AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON orders "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ot_order_day_touched()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER orders_day_touched ON orders")
    op.execute(f"CREATE TRIGGER orders_day_touched AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON orders "
               "FOR EACH ROW EXECUTE FUNCTION ot_order_day_touched()")
