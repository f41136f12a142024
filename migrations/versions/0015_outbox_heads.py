"""The head of every conversation with pending outbox rows, and when it can be claimed (`due`: its next attempt, or
its lease's end while one holds it). The claim reads the first `batch` due heads from one index and nothing else, so
it costs the same with 10 or 100,000 rows pending: before, it walked the pending rows by id and rejected every row
behind a head in flight or in backoff (a few big conversations behind leased heads: the whole backlog per claim).

Kept by triggers, so every write counts (the ORM's, a bulk insert's, a hand-typed UPDATE's): a row entering the
queue becomes its conversation's head unless an older one is; the head leaving it (delivered, failed, deleted)
hands over to the next pending row of the conversation; a head's attempt time or lease moves its `due`.
On PostgreSQL an insert takes the head row's lock (ON CONFLICT DO UPDATE locks even when its WHERE is false), so a
head handing over waits for a concurrent insert into the same conversation to commit and then sees its row.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.types import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_FUNCTION = """
CREATE FUNCTION ot_outbox_heads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.status = 'pending' AND (TG_OP = 'DELETE' OR NEW.status <> 'pending') THEN
    DELETE FROM outbox_heads WHERE conversation = OLD.conversation AND outbox_id = OLD.id;
    IF FOUND THEN  -- a fresh snapshot: an insert that held the head row has committed, its row is seen
      INSERT INTO outbox_heads (conversation, outbox_id, due)
      SELECT conversation, id, GREATEST(next_attempt_at, COALESCE(lease_until, next_attempt_at)) FROM outbox
      WHERE conversation = OLD.conversation AND status = 'pending' ORDER BY id LIMIT 1
      ON CONFLICT (conversation) DO UPDATE SET outbox_id = EXCLUDED.outbox_id, due = EXCLUDED.due
      WHERE EXCLUDED.outbox_id < outbox_heads.outbox_id;
    END IF;
  ELSIF TG_OP <> 'DELETE' AND NEW.status = 'pending' AND (TG_OP = 'INSERT' OR OLD.status <> 'pending') THEN
    INSERT INTO outbox_heads (conversation, outbox_id, due)
    VALUES (NEW.conversation, NEW.id, GREATEST(NEW.next_attempt_at, COALESCE(NEW.lease_until, NEW.next_attempt_at)))
    ON CONFLICT (conversation) DO UPDATE SET outbox_id = EXCLUDED.outbox_id, due = EXCLUDED.due
    WHERE EXCLUDED.outbox_id < outbox_heads.outbox_id;
  ELSIF TG_OP = 'UPDATE' AND NEW.status = 'pending' AND (NEW.next_attempt_at IS DISTINCT FROM OLD.next_attempt_at
                                                         OR NEW.lease_until IS DISTINCT FROM OLD.lease_until) THEN
    UPDATE outbox_heads SET due = GREATEST(NEW.next_attempt_at, COALESCE(NEW.lease_until, NEW.next_attempt_at))
    WHERE conversation = NEW.conversation AND outbox_id = NEW.id;
  END IF;
  RETURN NULL;
END $$"""


def _sqlite_due(row: str) -> str:
    return f"max({row}.next_attempt_at, coalesce({row}.lease_until, {row}.next_attempt_at))"


def _sqlite_enter(row: str) -> str:
    return (f"INSERT INTO outbox_heads (conversation, outbox_id, due) VALUES ({row}.conversation, {row}.id, "
            f"{_sqlite_due(row)}) ON CONFLICT (conversation) DO UPDATE SET outbox_id = excluded.outbox_id, "
            f"due = excluded.due WHERE excluded.outbox_id < outbox_heads.outbox_id")


def _sqlite_hand_over() -> str:
    return ("DELETE FROM outbox_heads WHERE conversation = OLD.conversation AND outbox_id = OLD.id; "
            "INSERT OR IGNORE INTO outbox_heads (conversation, outbox_id, due) "
            f"SELECT conversation, id, {_sqlite_due('outbox')} FROM outbox WHERE id = "
            "(SELECT min(id) FROM outbox WHERE conversation = OLD.conversation AND status = 'pending')")


_WAS_HEAD = ("EXISTS (SELECT 1 FROM outbox_heads WHERE conversation = OLD.conversation AND outbox_id = OLD.id)")

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER outbox_heads_inserted AFTER INSERT ON outbox WHEN NEW.status = 'pending' "
    f"BEGIN {_sqlite_enter('NEW')}; END",
    f"CREATE TRIGGER outbox_heads_entered AFTER UPDATE OF status ON outbox "
    f"WHEN NEW.status = 'pending' AND OLD.status <> 'pending' BEGIN {_sqlite_enter('NEW')}; END",
    f"CREATE TRIGGER outbox_heads_left AFTER UPDATE OF status ON outbox "
    f"WHEN OLD.status = 'pending' AND NEW.status <> 'pending' AND {_WAS_HEAD} BEGIN {_sqlite_hand_over()}; END",
    f"CREATE TRIGGER outbox_heads_deleted AFTER DELETE ON outbox "
    f"WHEN OLD.status = 'pending' AND {_WAS_HEAD} BEGIN {_sqlite_hand_over()}; END",
    "CREATE TRIGGER outbox_heads_due AFTER UPDATE OF next_attempt_at, lease_until ON outbox "
    "WHEN NEW.status = 'pending' AND OLD.status = 'pending' "
    f"BEGIN UPDATE outbox_heads SET due = {_sqlite_due('NEW')} "
    "WHERE conversation = NEW.conversation AND outbox_id = NEW.id; END",
]
SQLITE_NAMES = ["outbox_heads_inserted", "outbox_heads_entered", "outbox_heads_left", "outbox_heads_deleted",
                "outbox_heads_due"]


def upgrade() -> None:
    op.create_table(
        "outbox_heads",
        sa.Column("conversation", sa.String(length=160), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation", name=op.f("pk_outbox_heads")),
    )
    op.create_index("ix_outbox_heads_due", "outbox_heads", ["due", "outbox_id"])
    op.execute("INSERT INTO outbox_heads (conversation, outbox_id, due) "
               "SELECT o.conversation, o.id, CASE WHEN o.lease_until > o.next_attempt_at THEN o.lease_until "
               "ELSE o.next_attempt_at END FROM outbox o WHERE o.id IN "
               "(SELECT min(id) FROM outbox WHERE status = 'pending' GROUP BY conversation)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER outbox_heads AFTER INSERT OR DELETE OR UPDATE OF status, next_attempt_at, "
                   "lease_until ON outbox FOR EACH ROW EXECUTE FUNCTION ot_outbox_heads()")
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER outbox_heads ON outbox")
        op.execute("DROP FUNCTION ot_outbox_heads()")
    else:
        for name in SQLITE_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_index("ix_outbox_heads_due", table_name="outbox_heads")
    op.drop_table("outbox_heads")
