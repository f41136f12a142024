"""Approval steps keep their name in English too, and the titles of the rules that asked for them

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_steps") as b:
        b.add_column(sa.Column("name_en", sa.String(length=100), nullable=True))
        b.add_column(sa.Column("reason_titles", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_steps") as b:
        b.drop_column("reason_titles")
        b.drop_column("name_en")
