"""The persistent business model: customers, products, stock, users, orders, approvals, fulfilment, audit.

SQLAlchemy 2 typed declarative models; the same schema on SQLite and PostgreSQL (Alembic migrations
under migrations/). Behaviour lives in the service modules, not here.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from domain.types import Money, Percent, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(StrEnum):
    SALES = "sales"
    SALES_MANAGER = "sales_manager"
    FINANCE = "finance"
    WAREHOUSE = "warehouse"
    ADMIN = "admin"


class OrderStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    CHAT = "chat"
    API = "api"
    IMPORT = "import"
    SANDBOX = "sandbox"


class StepStatus(StrEnum):
    WAITING = "waiting"  # an earlier step is still open
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class StepMode(StrEnum):
    ANY = "any"  # 或签
    ALL = "all"  # 会签


class AssignedVia(StrEnum):
    """How an approver came to hold a step."""

    RULE = "rule"  # the rule names their role or them
    DELEGATE = "delegate"  # standing in for an away approver (and eligible in their own right)
    ESCALATION = "escalation"  # the next level up, or an admin, because nobody else could decide


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


# ---------------------------------------------------------------- people
class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    roles_csv: Mapped[str] = mapped_column("roles", String(200), default="")
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    email: Mapped[str | None] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(32))
    away_until: Mapped[date | None] = mapped_column(Date)
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    manager: Mapped[User | None] = relationship(remote_side=[id], foreign_keys=[manager_id])
    delegate: Mapped[User | None] = relationship(remote_side=[id], foreign_keys=[delegate_id])
    identities: Mapped[list[PlatformIdentity]] = relationship(back_populates="user")

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles_csv.split(",") if r)

    @roles.setter
    def roles(self, value: set[Role] | frozenset[Role] | list[Role]) -> None:
        self.roles_csv = ",".join(sorted(Role(r).value for r in value))

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def is_away(self, today: date) -> bool:
        return self.away_until is not None and self.away_until >= today and self.delegate_id is not None


class PlatformIdentity(Base):
    """One person, reachable on several platforms: (platform, external id) → user."""

    __tablename__ = "platform_identities"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="platform_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    user: Mapped[User] = relationship(back_populates="identities")


# ---------------------------------------------------------------- master data
class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))  # shown to English readers when set
    province: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    tier: Mapped[str] = mapped_column(String(10), default="B")
    credit_limit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    sales_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    tax_title: Mapped[str] = mapped_column(String(200), default="")  # 开票抬头
    tax_id: Mapped[str] = mapped_column(String(32), default="")  # 纳税人识别号

    sales_user: Mapped[User | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.seq"
    )

    # The main contact (the first one) is what delivery notes and shipping tasks print.
    @property
    def contact_name(self) -> str:
        return self.contacts[0].name if self.contacts else ""

    @contact_name.setter
    def contact_name(self, value: str) -> None:
        self._main_contact().name = value

    @property
    def contact_phone(self) -> str:
        return self.contacts[0].phone if self.contacts else ""

    @contact_phone.setter
    def contact_phone(self, value: str) -> None:
        self._main_contact().phone = value

    def _main_contact(self) -> Contact:
        if not self.contacts:
            self.contacts.append(Contact(seq=1, name="", phone=""))
        return self.contacts[0]


class Contact(Base):
    """A person at a customer: who orders, who pays, who receives the goods."""

    __tablename__ = "customer_contacts"
    __table_args__ = (UniqueConstraint("customer_id", "seq", name="customer_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(50), default="")  # 采购 / 财务 / 收货 …

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))  # shown to English readers when set
    spec: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(20), default="个")
    list_price: Mapped[Decimal] = mapped_column(Money)
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # inactive: kept for history, not sold

    tier_prices: Mapped[list[TierPrice]] = relationship(cascade="all, delete-orphan")

    def price_for(self, tier: str) -> Decimal:
        for tp in self.tier_prices:
            if tp.tier == tier:
                return tp.price
        return self.list_price


class TierPrice(Base):
    __tablename__ = "product_tier_prices"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(10), primary_key=True)
    price: Mapped[Decimal] = mapped_column(Money)


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(50), default="")  # provinces it serves first, comma separated


class Stock(Base):
    __tablename__ = "stock"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "product_id", name="warehouse_product"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("on_hand >= reserved", name="available_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)  # changed only through domain.ledger (a movement each)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    low_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # available fell below safety stock; cleared on restock

    warehouse: Mapped[Warehouse] = relationship()
    product: Mapped[Product] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MovementKind(StrEnum):
    OPENING = "opening"  # 期初 (moving in from the old system)
    RECEIPT = "receipt"  # 入库
    SHIPMENT = "shipment"  # 出库 (a confirmed shipment)
    RETURN = "return"  # 退货入库
    ADJUSTMENT = "adjustment"  # 调整
    COUNT = "count"  # 盘点
    TRANSFER_OUT = "transfer_out"  # 调拨出
    TRANSFER_IN = "transfer_in"  # 调拨入


class StockMovement(Base):
    """Append-only: one row per change of a stock row's on-hand quantity; on_hand is the sum of its movements."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_stock", "stock_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stock_id: Mapped[int] = mapped_column(ForeignKey("stock.id"))
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)  # signed change of on hand
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(64), default="")  # order number, task, transfer, import file
    note: Mapped[str] = mapped_column(String(300), default="")  # why (备注)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()


# ---------------------------------------------------------------- orders
class OrderSequence(Base):
    """Per-prefix-and-day counter for order numbers; one atomic UPDATE … RETURNING per order."""

    __tablename__ = "order_sequences"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_sales_status", "sales_user_id", "status"),
        Index("ix_orders_customer_status", "customer_id", "status"),
        # The reports read a period's orders from these alone (index-only on PostgreSQL): everyone's by date, one
        # person's or team's by person then date, and the sales person of orders named by id (collections).
        Index("ix_orders_created_report", "created_at", "status", "id", "sales_user_id", "customer_id", "total"),
        Index("ix_orders_sales_created", "sales_user_id", "created_at", "status", "total"),
        Index("ix_orders_id_sales", "id", "sales_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    sales_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the sales owner
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who placed it (may differ from owner)
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.DRAFT.value, index=True)
    requested_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16), default=Channel.CHAT.value)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # ix_orders_created_report
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    sales_user: Mapped[User] = relationship(foreign_keys=[sales_user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.line_no"
    )
    steps: Mapped[list[ApprovalStep]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="ApprovalStep.seq"
    )
    reservations: Mapped[list[Reservation]] = relationship(back_populates="order")

    @property
    def state(self) -> OrderStatus:
        return OrderStatus(self.status)


class OrderLine(Base):
    __tablename__ = "order_lines"
    # An order's lines, and what the product ranking sums, from the index alone.
    __table_args__ = (Index("ix_order_lines_order_product", "order_id", "product_id", "quantity", "amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    list_price: Mapped[Decimal] = mapped_column(Money)
    discount_pct: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(Money)
    shipped_qty: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class Reservation(Base):
    """Stock held for one order line in one warehouse; `quantity` is what is still held."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    shipped: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="reservations")
    warehouse: Mapped[Warehouse] = relationship()
    line: Mapped[OrderLine] = relationship()


# ---------------------------------------------------------------- approvals
class ApprovalStep(Base):
    __tablename__ = "approval_steps"
    # An order's steps, and the times the approval reports read, from the index alone.
    __table_args__ = (Index("ix_approval_steps_order_times", "order_id", "seq", "opened_at", "decided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))  # shown to English readers when set
    reasons: Mapped[str] = mapped_column(String(300), default="")  # rule names (ids) that asked for this step
    # The human titles of those rules, as the rules file had them when the step opened: [{"zh": …, "en": …}]
    reason_titles: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(8), default=StepMode.ANY.value)
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.WAITING.value)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    # Who may decide it in their own right (from the rule); NULL on steps opened before revision 0003.
    approver_roles: Mapped[str | None] = mapped_column(String(200))
    approver_users: Mapped[str | None] = mapped_column(String(500))

    order: Mapped[Order] = relationship(back_populates="steps")
    decided_by: Mapped[User | None] = relationship()
    assignments: Mapped[list[ApprovalAssignment]] = relationship(
        back_populates="step", cascade="all, delete-orphan", order_by="ApprovalAssignment.id"
    )


class ApprovalAssignment(Base):
    """One approver of one step (after delegation: `user` acts, `on_behalf_of` was the rule's choice)."""

    __tablename__ = "approval_assignments"
    __table_args__ = (
        UniqueConstraint("step_id", "user_id", name="step_user"),
        Index("ix_assign_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("approval_steps.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.WAITING.value)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    via: Mapped[str | None] = mapped_column(String(12))  # AssignedVia; NULL before revision 0003

    step: Mapped[ApprovalStep] = relationship(back_populates="assignments")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])


# ---------------------------------------------------------------- fulfilment and receivables
class ShippingTask(Base):
    __tablename__ = "shipping_tasks"
    # An order's tasks, and what the lead-time report reads, from the index alone.
    __table_args__ = (Index("ix_shipping_tasks_order_times", "order_id", "warehouse_id", "status", "created_at",
                            "last_shipped_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.OPEN.value, index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its latest shipment (lead time)

    order: Mapped[Order] = relationship()
    warehouse: Mapped[Warehouse] = relationship()
    claimed_by: Mapped[User | None] = relationship()

    @property
    def ref(self) -> str:
        return f"T-{self.id}"


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("shipping_tasks.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    carrier: Mapped[str] = mapped_column(String(50))
    tracking_no: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shipped_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    lines: Mapped[list[ShipmentLine]] = relationship(cascade="all, delete-orphan")
    task: Mapped[ShippingTask] = relationship()


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    line: Mapped[OrderLine] = relationship()


class Receivable(Base):
    """Booked on a shipment, or an opening balance moved in from the old system (no order, its own reference)."""

    __tablename__ = "receivables"
    __table_args__ = (Index("ix_receivables_open_due", "settled", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), unique=True)
    reference: Mapped[str | None] = mapped_column(String(64), unique=True)  # opening balance: the old invoice number
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    due_date: Mapped[date] = mapped_column(Date)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    promised_date: Mapped[date | None] = mapped_column(Date)
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order | None] = relationship()
    customer: Mapped[Customer] = relationship()

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid

    @property
    def is_opening(self) -> bool:
        return self.order_id is None

    @property
    def label(self) -> str:
        """What people call it: the order number, or the old system's reference."""
        return self.order.number if self.order is not None else (self.reference or f"R-{self.id}")


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    receivable_id: Mapped[int | None] = mapped_column(ForeignKey("receivables.id"))  # a payment of an opening balance
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date] = mapped_column(Date, index=True)  # collections in a period (the leaderboard)
    method: Mapped[str] = mapped_column(String(40), default="")
    reference: Mapped[str | None] = mapped_column(String(128), unique=True)  # bank line key: one import, one effect
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- audit trail
class AuditEntry(Base):
    """Append-only: one row per change of an order (or other business object)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_order_at", "order_id", "id"), Index("ix_audit_subject", "subject", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    subject: Mapped[str | None] = mapped_column(String(80))  # another business object: "customer:17", "import:customers"
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    platform: Mapped[str] = mapped_column(String(20), default="system")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


# ---------------------------------------------------------------- digests
class UnknownPerson(Base):
    """Someone who wrote to the bot from an account no user is linked to. Admins get one card per person (when the
    row is made); `status` pending → linked (to `user_id`) or ignored, by `decided_by_id`."""

    __tablename__ = "unknown_people"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_unknown_people_account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(8))
    first_text: Mapped[str] = mapped_column(String(200), default="")
    messages: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DigestSubscription(Base):
    """Someone's own choice about a digest (daily | weekly): `subscribed` true or false. Without a row the default
    holds (domain.subscriptions: sales managers and admins receive both, everyone else neither)."""

    __tablename__ = "digest_subscriptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderDayVersion(Base):
    """How often the orders placed on one UTC date changed after that date had closed: bumped by a database trigger
    (migration 0014) on every insert, delete, or change of status, total, placing time or sales person of an order
    placed more than a day before. A sales-day total built at one version is stale once the version moves."""

    __tablename__ = "order_day_versions"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the UTC date of orders.created_at
    version: Mapped[int] = mapped_column(Integer)


class SalesDay(Base):
    """Sales amount and orders per local day (in `zone`) and sales person: what the trend and the leaderboard read
    for closed days instead of every order (domain.reports.rollup builds and checks them)."""

    __tablename__ = "sales_days"

    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sales_user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    orders: Mapped[int] = mapped_column(Integer)


class SalesDayBuild(Base):
    """A local day whose `sales_days` rows are built, and the sum of the order-day versions it was built from."""

    __tablename__ = "sales_day_builds"

    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
