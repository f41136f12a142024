"""A file's check is keyed on the event that brought the file (`event_key`): the check runs as a durable inbox job,
and a job run again after a crash finds the check it stored instead of making a second one.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_checks") as batch:
        batch.add_column(sa.Column("event_key", sa.String(300), nullable=True))
        batch.create_unique_constraint(op.f("uq_import_checks_event_key"), ["event_key"])


def downgrade() -> None:
    with op.batch_alter_table("import_checks") as batch:
        batch.drop_constraint(op.f("uq_import_checks_event_key"), type_="unique")
        batch.drop_column("event_key")
