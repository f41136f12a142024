"""The typed intents a chat message is read into (bot.intents.parse); handlers receive them (bot.core.INTENTS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.messages import Message
from domain.parsing import Period


@dataclass(frozen=True, slots=True)
class ShowOrder:
    number: str


@dataclass(frozen=True, slots=True)
class MyOrders:
    pass


@dataclass(frozen=True, slots=True)
class MyApprovals:
    pass


@dataclass(frozen=True, slots=True)
class MyTasks:
    pass


@dataclass(frozen=True, slots=True)
class ShowCustomer:
    query: str


@dataclass(frozen=True, slots=True)
class ShowStock:
    query: str


@dataclass(frozen=True, slots=True)
class NewOrderForm:
    pass


@dataclass(frozen=True, slots=True)
class QuickOrder:
    customer_query: str
    lines: tuple[tuple[str, int], ...]  # (product query, quantity), in the order typed
    units: tuple[str, ...] = ()  # the unit typed per line ("" for none or a count word); () when none was typed
    requested: date | None = None  # 交期 / requested delivery date


@dataclass(frozen=True, slots=True)
class Nudge:
    number: str


@dataclass(frozen=True, slots=True)
class Approve:
    number: str


@dataclass(frozen=True, slots=True)
class Reject:
    number: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Cancel:
    number: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Away:
    until: date
    delegate_query: str | None


@dataclass(frozen=True, slots=True)
class Back:
    pass


@dataclass(frozen=True, slots=True)
class Ship:
    task_ref: str  # "T-12"
    carrier: str
    tracking: str
    quantities: dict[str, int] | None  # per-line quantities for a partial shipment; None = everything


@dataclass(frozen=True, slots=True)
class Claim:
    task_ref: str


@dataclass(frozen=True, slots=True)
class Payment:
    number: str
    amount: Decimal
    on: date | None
    method: str | None


@dataclass(frozen=True, slots=True)
class Statement:
    customer_query: str
    start: date | None
    end: date | None


@dataclass(frozen=True, slots=True)
class Report:
    kind: str  # summary | trend | products | regions | leaderboard | customers | ageing | approvals | fulfilment
    period: Period | None = None  # None: the report's own default (this month; ageing: today)
    option: str | None = None  # trend: day|week|month; products: amount|quantity; leaderboard: amount|collected|orders;
    # ageing: customer|sales


@dataclass(frozen=True, slots=True)
class SearchOrders:
    text: str  # a customer or a sales person, as typed ("" = any)
    statuses: tuple[str, ...] = ()  # OrderStatus values
    shipped: bool = False  # "shipped": has shipped; with a period, shipped in it
    amounts: tuple[tuple[str, Decimal], ...] = ()  # (">", Decimal("50000")), …
    period: Period | None = None


@dataclass(frozen=True, slots=True)
class LowStock:
    pass


@dataclass(frozen=True, slots=True)
class Overdue:
    pass


@dataclass(frozen=True, slots=True)
class Subscribe:
    digest: str  # daily | weekly (domain.subscriptions.DigestKind)
    subscribed: bool  # 订阅 / subscribe: True; 退订 / unsubscribe: False


@dataclass(frozen=True, slots=True)
class Subscriptions:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Greeting:
    pass


@dataclass(frozen=True, slots=True)
class Partial:
    """Half understood: what was read, what is missing, and a command that would work (translated by the bot)."""

    understood: Message
    missing: Message
    example: Message


@dataclass(frozen=True, slots=True)
class Unknown:
    text: str  # the normalised text


@dataclass(frozen=True, slots=True)
class Invalid:
    reason: Message  # translated for the reader by the bot (bot.i18n)


@dataclass(frozen=True, slots=True)
class Receive:
    sku: str
    quantity: int
    rest: str | None  # "[warehouse] [note]": the handler knows the warehouses


@dataclass(frozen=True, slots=True)
class Count:
    sku: str
    quantity: int  # what was counted (0 allowed)
    rest: str | None


@dataclass(frozen=True, slots=True)
class Transfer:
    sku: str
    quantity: int
    source: str
    target: str
    note: str | None


@dataclass(frozen=True, slots=True)
class ReceiptForm:
    pass


@dataclass(frozen=True, slots=True)
class CustomerForm:
    query: str | None  # the customer to edit; None: the form for a new one


@dataclass(frozen=True, slots=True)
class SaveCustomer:
    """新建客户 名称=… 信用额度=… / 修改客户 C001 账期=45: the fields as typed (read by the form's reader)."""

    query: str | None  # the customer to edit; None: a new one
    values: tuple[tuple[str, str], ...]  # (field, value as typed); "" clears a text field
    head: str = ""  # text before the first field of a new customer: its name


@dataclass(frozen=True, slots=True)
class ProductForm:
    query: str | None


@dataclass(frozen=True, slots=True)
class SaveProduct:
    query: str | None
    values: tuple[tuple[str, str], ...]
    head: str = ""  # text before the first field of a new product: its SKU


Intent = (
    ShowOrder | MyOrders | MyApprovals | MyTasks | ShowCustomer | ShowStock | NewOrderForm | QuickOrder
    | Nudge | Approve | Reject | Cancel | Away | Back | Ship | Claim | Payment | Statement | Report | SearchOrders
    | LowStock | Overdue | Subscribe | Subscriptions | Help | Greeting | Receive | Count | Transfer | ReceiptForm
    | CustomerForm | SaveCustomer | ProductForm | SaveProduct | Partial | Unknown | Invalid
)
