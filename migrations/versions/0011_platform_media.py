"""Platform media: the id WeCom or DingTalk gave a stored file (a report's chart) we uploaded, with its expiry, so a
chart sent to several people is uploaded once while the platform keeps it

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_media",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("file_key", sa.String(length=80), nullable=False),
        sa.Column("media_id", sa.String(length=300), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "file_key", name=op.f("pk_platform_media")),
    )
    op.create_index(op.f("ix_platform_media_expires_at"), "platform_media", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_platform_media_expires_at"), table_name="platform_media")
    op.drop_table("platform_media")
