"""Report speed over a million orders: the columns each report reads are in one index (index-only scans on
PostgreSQL), replacing the single-column indexes they extend; and a shipping task's latest shipment time
(`last_shipped_at`, filled from its shipments), so the lead time needs no lookup per task

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, old single-column index, new index, its columns)
REPLACED = [
    ("orders", "ix_orders_created_at", "ix_orders_created_report",
     ["created_at", "status", "id", "sales_user_id", "customer_id", "total"]),
    ("order_lines", "ix_order_lines_order_id", "ix_order_lines_order_product", ["order_id", "product_id", "quantity", "amount"]),
    ("approval_steps", "ix_approval_steps_order_id", "ix_approval_steps_order_times",
     ["order_id", "seq", "opened_at", "decided_at"]),
    ("shipping_tasks", "ix_shipping_tasks_order_id", "ix_shipping_tasks_order_times",
     ["order_id", "warehouse_id", "status", "created_at", "last_shipped_at"]),
]
ADDED = [
    ("orders", "ix_orders_sales_created", ["sales_user_id", "created_at", "status", "total"]),
    ("orders", "ix_orders_id_sales", ["id", "sales_user_id"]),
]


def upgrade() -> None:
    with op.batch_alter_table("shipping_tasks") as t:
        t.add_column(sa.Column("last_shipped_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE shipping_tasks SET last_shipped_at = "
               "(SELECT max(s.shipped_at) FROM shipments s WHERE s.task_id = shipping_tasks.id) "
               "WHERE EXISTS (SELECT 1 FROM shipments s WHERE s.task_id = shipping_tasks.id)")
    for table, old, new, columns in REPLACED:
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)
    for table, name, columns in ADDED:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for table, name, _ in ADDED:
        op.drop_index(name, table_name=table)
    for table, old, new, columns in REPLACED:
        op.create_index(old, table, columns[:1])
        op.drop_index(new, table_name=table)
    with op.batch_alter_table("shipping_tasks") as t:
        t.drop_column("last_shipped_at")
