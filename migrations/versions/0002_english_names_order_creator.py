"""English names for products and customers; who created an order (separation of duties)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products") as b:
        b.add_column(sa.Column("name_en", sa.String(length=200), nullable=True))
    with op.batch_alter_table("customers") as b:
        b.add_column(sa.Column("name_en", sa.String(length=200), nullable=True))
    with op.batch_alter_table("orders") as b:
        b.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        b.create_foreign_key(op.f("fk_orders_created_by_id_users"), "users", ["created_by_id"], ["id"])
    # Orders so far were placed by their sales owner.
    op.execute("UPDATE orders SET created_by_id = sales_user_id WHERE created_by_id IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("orders") as b:
        b.drop_constraint(op.f("fk_orders_created_by_id_users"), type_="foreignkey")
        b.drop_column("created_by_id")
    with op.batch_alter_table("customers") as b:
        b.drop_column("name_en")
    with op.batch_alter_table("products") as b:
        b.drop_column("name_en")
