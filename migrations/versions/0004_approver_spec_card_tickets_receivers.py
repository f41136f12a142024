"""Who may decide a step (its approver roles/users, and how each approver got it); the latest single-use update
ticket per card copy (WeCom ResponseCode, Slack response_url); how this deployment receives platform callbacks

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_steps") as b:
        # NULL on steps opened before this revision: their approvers are only held to separation of duties
        b.add_column(sa.Column("approver_roles", sa.String(length=200), nullable=True))
        b.add_column(sa.Column("approver_users", sa.String(length=500), nullable=True))
    with op.batch_alter_table("approval_assignments") as b:
        b.add_column(sa.Column("via", sa.String(length=12), nullable=True))
    with op.batch_alter_table("card_copies") as b:
        b.add_column(sa.Column("handle", sa.String(length=160), nullable=True))
        b.add_column(sa.Column("ticket", sa.Text(), nullable=True))
        b.add_column(sa.Column("ticket_at", domain.types.UTCDateTime(timezone=True), nullable=True))
        b.create_index("ix_card_copies_handle", ["platform", "handle"], unique=False)
    op.create_table(
        "receivers",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", domain.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("platform", name=op.f("pk_receivers")),
    )


def downgrade() -> None:
    op.drop_table("receivers")
    with op.batch_alter_table("card_copies") as b:
        b.drop_index("ix_card_copies_handle")
        b.drop_column("ticket_at")
        b.drop_column("ticket")
        b.drop_column("handle")
    with op.batch_alter_table("approval_assignments") as b:
        b.drop_column("via")
    with op.batch_alter_table("approval_steps") as b:
        b.drop_column("approver_users")
        b.drop_column("approver_roles")
