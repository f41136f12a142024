"""Typed, immutable input for the document renderers and the bank-statement import.

Everything here is plain data: the caller (a handler, a job) loads it from wherever it lives and
passes it in; the renderers never touch a database. Money and quantities are ``Decimal`` — a float
is refused with a ``TypeError`` so no binary rounding can sneak into a document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

CENT = Decimal("0.01")


def _decimal(owner: object, name: str, *, non_negative: bool = False) -> None:
    """Check/normalise a Decimal attribute of a frozen dataclass (int and str are accepted)."""
    value = getattr(owner, name)
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{type(owner).__name__}.{name} must be Decimal, not {type(value).__name__}")
    if isinstance(value, int | str):
        value = Decimal(value)
        object.__setattr__(owner, name, value)
    if not isinstance(value, Decimal):
        raise TypeError(f"{type(owner).__name__}.{name} must be Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{type(owner).__name__}.{name} must be a finite number, got {value}")
    if non_negative and value < 0:
        raise ValueError(f"{type(owner).__name__}.{name} must not be negative, got {value}")


def _tuple(owner: object, name: str) -> None:
    value = getattr(owner, name)
    if not isinstance(value, tuple):
        object.__setattr__(owner, name, tuple(value))


# --------------------------------------------------------------------------- shared


@dataclass(frozen=True, slots=True)
class Customer:
    """客户. ``code`` is the 客户编码."""

    name: str
    code: str
    address: str = ""
    contact: str = ""
    phone: str = ""


# --------------------------------------------------------------------------- 发货单 delivery note


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    """One line of a delivery note. No price on purpose: the note travels with the goods."""

    sku: str
    name: str
    spec: str
    unit: str
    quantity: Decimal

    def __post_init__(self) -> None:
        _decimal(self, "quantity", non_negative=True)


@dataclass(frozen=True, slots=True)
class DeliveryNote:
    """发货单 / 出库单 for one shipment of one order from one warehouse."""

    company_name: str
    note_number: str
    order_number: str
    customer: Customer
    warehouse: str
    ship_date: date
    carrier: str
    tracking_number: str
    lines: tuple[DeliveryLine, ...]
    remarks: str = ""

    def __post_init__(self) -> None:
        _tuple(self, "lines")
        if not self.lines:
            raise ValueError("a delivery note needs at least one line")


# --------------------------------------------------------------------------- 对账单 statement of account


class EntryType(StrEnum):
    ORDER = "order"  # 订单 — usually a debit (amount the customer owes)
    SHIPMENT = "shipment"  # 发货 — a debit when receivables are booked on shipment
    PAYMENT = "payment"  # 收款 — a credit
    RETURN = "return"  # 退货 — a credit
    ADJUSTMENT = "adjustment"  # 调整 — either side
    OPENING = "opening"  # 期初应收 — a debit moved in from the old system


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One movement on the customer's account. ``debit`` raises what the customer owes
    (orders/shipments), ``credit`` lowers it (payments, returns)."""

    entry_date: date
    type: EntryType
    reference: str
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    memo: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", EntryType(self.type))
        _decimal(self, "debit", non_negative=True)
        _decimal(self, "credit", non_negative=True)


@dataclass(frozen=True, slots=True)
class OpenReceivable:
    """An open 应收款 item as of the statement's end date: what is still unpaid and when it was due."""

    reference: str
    due_date: date
    amount: Decimal
    issue_date: date | None = None

    def __post_init__(self) -> None:
        _decimal(self, "amount")


@dataclass(frozen=True, slots=True)
class Statement:
    """对账单 for one customer and period [period_start, period_end] (both inclusive).

    ``entries`` are the movements inside the period (they are shown sorted by date, stable);
    ``open_items`` are the receivables still open at ``period_end`` and feed the 账龄 ageing.
    """

    company_name: str
    customer: Customer
    period_start: date
    period_end: date
    opening_balance: Decimal
    entries: tuple[StatementEntry, ...] = ()
    open_items: tuple[OpenReceivable, ...] = ()
    currency_symbol: str = "¥"

    def __post_init__(self) -> None:
        _decimal(self, "opening_balance")
        _tuple(self, "entries")
        _tuple(self, "open_items")
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        outside = [e.reference for e in self.entries if not self.period_start <= e.entry_date <= self.period_end]
        if outside:
            raise ValueError(f"entries outside the statement period: {', '.join(outside)}")


# --------------------------------------------------------------------------- bank statement import


@dataclass(frozen=True, slots=True)
class BankLine:
    """One incoming payment (贷方 / 收入) read from a bank statement. ``row`` is the 1-based row in the
    source file, so a person can find it again."""

    row: int
    txn_date: date
    amount: Decimal
    payer: str = ""
    memo: str = ""

    def __post_init__(self) -> None:
        _decimal(self, "amount")


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open order the customer still has to pay: (order_number, customer_name, customer_code, open_amount)."""

    order_number: str
    customer_name: str
    customer_code: str
    open_amount: Decimal

    def __post_init__(self) -> None:
        _decimal(self, "open_amount")


class MatchMethod(StrEnum):
    ORDER_NUMBER = "order_number"  # the memo names the order
    CUSTOMER_AMOUNT = "customer_amount"  # the payer is a known customer with exactly one item of that amount


class UnmatchedReason(StrEnum):
    OVERPAYMENT = "overpayment"  # names an open order but pays more than is open on it
    AMBIGUOUS = "ambiguous"  # several candidates; a person must decide
    NO_MATCH = "no_match"  # no candidate at all


@dataclass(frozen=True, slots=True)
class Match:
    """``amount`` of bank ``line`` applied to ``order_number``. ``partial`` when the order stays open."""

    line: BankLine
    order_number: str
    amount: Decimal
    method: MatchMethod
    open_before: Decimal
    partial: bool


@dataclass(frozen=True, slots=True)
class Unmatched:
    line: BankLine
    reason: UnmatchedReason
    detail: str
    candidates: tuple[str, ...] = ()  # order numbers a person might pick from


@dataclass(frozen=True, slots=True)
class MatchResult:
    matched: tuple[Match, ...] = ()
    unmatched: tuple[Unmatched, ...] = ()

    @property
    def problems(self) -> tuple[Unmatched, ...]:
        """Lines that look wrong rather than merely unknown (currently: overpayments)."""
        return tuple(u for u in self.unmatched if u.reason is UnmatchedReason.OVERPAYMENT)


__all__ = [
    "CENT",
    "BankLine",
    "Customer",
    "DeliveryLine",
    "DeliveryNote",
    "EntryType",
    "Match",
    "MatchMethod",
    "MatchResult",
    "OpenItem",
    "OpenReceivable",
    "Statement",
    "StatementEntry",
    "Unmatched",
    "UnmatchedReason",
]
