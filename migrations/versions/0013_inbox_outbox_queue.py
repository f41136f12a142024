"""The durable inbox: every inbound event stored (with its dedup key) before it is acknowledged, processed from there.
The outbox only a queue: partial indexes of pending rows for the claim (no delivered row is read), delivered rows
prunable because card copies answer who holds a copy on their own (user_id, delivered_at; no foreign key to the
outbox row of the send). Token buckets per platform and API method, shared by every dispatcher process

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("conversation", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("key", name=op.f("uq_inbox_key")),
    )
    op.create_index("ix_inbox_pending", "inbox", ["id"], postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index("ix_inbox_pending_conversation", "inbox", ["conversation", "id"], postgresql_where=PENDING,
                    sqlite_where=PENDING)
    op.create_index("ix_inbox_processed", "inbox", ["processed_at"])

    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )

    with op.batch_alter_table("outbox") as b:
        b.drop_index("ix_outbox_due")
        b.drop_index("ix_outbox_conversation")
        b.drop_index("ix_outbox_card_key")
    op.create_index("ix_outbox_pending", "outbox", ["id"], postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index("ix_outbox_pending_conversation", "outbox", ["conversation", "id"], postgresql_where=PENDING,
                    sqlite_where=PENDING)
    op.create_index("ix_outbox_delivered", "outbox", ["delivered_at"])

    with op.batch_alter_table("card_copies") as b:
        b.drop_constraint("fk_card_copies_outbox_id_outbox", type_="foreignkey")
        b.alter_column("outbox_id", existing_type=sa.Integer(), nullable=True)
        b.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        b.add_column(sa.Column("delivered_at", UTCDateTime(), nullable=True))
        b.create_index("ix_card_copies_outbox_id", ["outbox_id"])
    # the copies so far are of delivered sends: whose they are is in the send's payload
    copies = sa.table("card_copies", sa.column("id", sa.Integer()), sa.column("outbox_id", sa.Integer()),
                      sa.column("created_at", UTCDateTime()), sa.column("user_id", sa.Integer()),
                      sa.column("delivered_at", UTCDateTime()))
    outbox = sa.table("outbox", sa.column("id", sa.Integer()), sa.column("payload", sa.JSON()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(copies.c.id, copies.c.created_at, outbox.c.payload)
                        .select_from(copies.outerjoin(outbox, outbox.c.id == copies.c.outbox_id))).all()
    for cid, created, payload in rows:
        user = (payload or {}).get("user_id") if isinstance(payload, dict) else None
        conn.execute(sa.update(copies).where(copies.c.id == cid).values(delivered_at=created, user_id=user))


def downgrade() -> None:
    with op.batch_alter_table("card_copies") as b:
        b.drop_index("ix_card_copies_outbox_id")
        b.drop_column("delivered_at")
        b.drop_column("user_id")
        b.alter_column("outbox_id", existing_type=sa.Integer(), nullable=False)
        b.create_foreign_key("fk_card_copies_outbox_id_outbox", "outbox", ["outbox_id"], ["id"])
    op.drop_table("rate_buckets")
    op.drop_index("ix_outbox_delivered", table_name="outbox")
    op.drop_index("ix_outbox_pending_conversation", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    with op.batch_alter_table("outbox") as b:
        b.create_index("ix_outbox_card_key", ["card_key"])
        b.create_index("ix_outbox_conversation", ["conversation", "id"])
        b.create_index("ix_outbox_due", ["status", "next_attempt_at"])
    op.drop_index("ix_inbox_processed", table_name="inbox")
    op.drop_index("ix_inbox_pending_conversation", table_name="inbox")
    op.drop_index("ix_inbox_pending", table_name="inbox")
    op.drop_table("inbox")
