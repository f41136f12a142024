"""Stored files (report charts and spreadsheets, addressed by key), saved order searches (their pages), and an index
on payments.paid_on (collections in a period)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_files",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("mime", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stored_files")),
    )
    op.create_index("ix_stored_files_created", "stored_files", ["created_at"])
    op.create_table(
        "order_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_order_searches_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_searches")),
    )
    op.create_index(op.f("ix_order_searches_user_id"), "order_searches", ["user_id"])
    op.create_index(op.f("ix_payments_paid_on"), "payments", ["paid_on"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_paid_on"), table_name="payments")
    op.drop_index(op.f("ix_order_searches_user_id"), table_name="order_searches")
    op.drop_table("order_searches")
    op.drop_index("ix_stored_files_created", table_name="stored_files")
    op.drop_table("stored_files")
