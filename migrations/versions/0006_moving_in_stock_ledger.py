"""Moving in and the stock ledger: customer contacts and tax details, inactive products, users' mobile numbers,
stock movements and the low-stock state, opening-balance receivables (no order), master-data audit subjects

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_customer_contacts_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_contacts")),
        sa.UniqueConstraint("customer_id", "seq", name="customer_seq"),
    )
    op.create_index(op.f("ix_customer_contacts_customer_id"), "customer_contacts", ["customer_id"])
    # The one contact a customer had becomes its main contact.
    op.execute("INSERT INTO customer_contacts (customer_id, seq, name, phone, email, role) "
               "SELECT id, 1, contact_name, contact_phone, '', '' FROM customers "
               "WHERE contact_name <> '' OR contact_phone <> ''")
    with op.batch_alter_table("customers") as b:
        b.drop_column("contact_name")
        b.drop_column("contact_phone")
        b.add_column(sa.Column("tax_title", sa.String(length=200), nullable=False, server_default=""))
        b.add_column(sa.Column("tax_id", sa.String(length=32), nullable=False, server_default=""))
    with op.batch_alter_table("products") as b:
        b.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("mobile", sa.String(length=32), nullable=True))
    with op.batch_alter_table("stock") as b:
        b.add_column(sa.Column("low_since", domain.types.UTCDateTime(timezone=True), nullable=True))

    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stock_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("on_hand_after", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", domain.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["stock_id"], ["stock.id"], name=op.f("fk_stock_movements_stock_id_stock")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_stock_movements_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    op.create_index("ix_stock_movements_stock", "stock_movements", ["stock_id", "id"])
    # Stock that exists already is its own opening balance, so on hand equals the sum of movements from here on.
    op.execute("INSERT INTO stock_movements (stock_id, kind, quantity, on_hand_after, reference, note, at) "
               "SELECT id, 'opening', on_hand, on_hand, '', '', CURRENT_TIMESTAMP FROM stock WHERE on_hand <> 0")

    with op.batch_alter_table("receivables") as b:
        b.alter_column("order_id", existing_type=sa.Integer(), nullable=True)
        b.alter_column("shipment_id", existing_type=sa.Integer(), nullable=True)
        b.add_column(sa.Column("reference", sa.String(length=64), nullable=True))
        b.create_unique_constraint(op.f("uq_receivables_reference"), ["reference"])
    with op.batch_alter_table("payments") as b:
        b.alter_column("order_id", existing_type=sa.Integer(), nullable=True)
        b.add_column(sa.Column("receivable_id", sa.Integer(), nullable=True))
        b.create_foreign_key(op.f("fk_payments_receivable_id_receivables"), "receivables", ["receivable_id"], ["id"])
    with op.batch_alter_table("audit_log") as b:
        b.add_column(sa.Column("subject", sa.String(length=80), nullable=True))
        b.create_index("ix_audit_subject", ["subject", "id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as b:
        b.drop_index("ix_audit_subject")
        b.drop_column("subject")
    op.execute("DELETE FROM payments WHERE order_id IS NULL")
    with op.batch_alter_table("payments") as b:
        b.drop_constraint(op.f("fk_payments_receivable_id_receivables"), type_="foreignkey")
        b.drop_column("receivable_id")
        b.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
    op.execute("DELETE FROM receivables WHERE order_id IS NULL")
    with op.batch_alter_table("receivables") as b:
        b.drop_constraint(op.f("uq_receivables_reference"), type_="unique")
        b.drop_column("reference")
        b.alter_column("shipment_id", existing_type=sa.Integer(), nullable=False)
        b.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_stock_movements_stock", table_name="stock_movements")
    op.drop_table("stock_movements")
    with op.batch_alter_table("stock") as b:
        b.drop_column("low_since")
    with op.batch_alter_table("users") as b:
        b.drop_column("mobile")
    with op.batch_alter_table("products") as b:
        b.drop_column("active")
    with op.batch_alter_table("customers") as b:
        b.drop_column("tax_id")
        b.drop_column("tax_title")
        b.add_column(sa.Column("contact_name", sa.String(length=100), nullable=False, server_default=""))
        b.add_column(sa.Column("contact_phone", sa.String(length=50), nullable=False, server_default=""))
    op.execute("UPDATE customers SET contact_name = (SELECT name FROM customer_contacts c WHERE c.customer_id = customers.id "
               "AND c.seq = 1), contact_phone = (SELECT phone FROM customer_contacts c WHERE c.customer_id = customers.id "
               "AND c.seq = 1) WHERE EXISTS (SELECT 1 FROM customer_contacts c WHERE c.customer_id = customers.id AND c.seq = 1)")
    op.drop_index(op.f("ix_customer_contacts_customer_id"), table_name="customer_contacts")
    op.drop_table("customer_contacts")
