"""Reading what people type into forms and commands, before anything reaches the database.

Numbers and dates go through domain.parsing (the one bounded reader) with the deployment's limits; free text is
checked against the length of the column it is stored in; ids are small ASCII integers. Each refusal is a
ValidationFailed naming the field, which the core shows on the form (a Slack modal keeps it open) or in chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

from bot.handlers.base import Turn
from domain import parsing
from domain.catalog import find_products
from domain.errors import ValidationFailed
from domain.messages import N_, Message
from domain.models import Product

MAX_ID_DIGITS = 9  # primary keys are 32-bit integers


def row_id(text: str | int) -> int | None:
    """A primary key typed or sent as text: ASCII digits that fit the column, else None (never an exception)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 0 < text < 10**MAX_ID_DIGITS else None
    s = str(text).strip()
    return int(s) if s.isascii() and s.isdecimal() and len(s) <= MAX_ID_DIGITS else None


def bounded(value: str, column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None], *, field: str,
            label: str) -> str:
    """`value` if it fits the column it will be stored in; refused with the limit otherwise. `label`: an N_ msgid."""
    kind = column.property.columns[0].type
    limit = kind.length if isinstance(kind, String) else None
    if limit is not None and len(value) > limit:
        raise ValidationFailed("The {what} can have at most {limit} characters (this one has {count})",
                               what=Message(label), limit=str(limit), count=str(len(value)), field=field)
    return value


class Form:
    """The inputs of one submitted form, read field by field."""

    def __init__(self, turn: Turn, inputs: Mapping[str, str]) -> None:
        self.turn = turn
        self.inputs = inputs

    def raw(self, name: str) -> str:
        return (self.inputs.get(name) or "").strip()

    def quantity(self, name: str, *, allow_zero: bool = False) -> int | None:
        """None when left blank."""
        text = self.raw(name)
        if not text:
            return None
        return parsing.quantity(text, maximum=self.turn.ctx.settings.max_quantity, allow_zero=allow_zero, field=name)

    def amount(self, name: str) -> Decimal:
        text = self.raw(name)
        if not text:
            raise ValidationFailed("Fill in the amount", field=name)
        return parsing.amount(text, maximum=self.turn.ctx.settings.max_amount, field=name)

    def date(self, name: str, *, earliest: date | None = None, latest: date | None = None,
             what: str = N_("the date")) -> date | None:
        """None when left blank. `what`: an N_ msgid naming the date in a refusal."""
        text = self.raw(name)
        if not text:
            return None
        return parsing.calendar_date(text, today=self.turn.ctx.today(), earliest=earliest, latest=latest, field=name,
                                     what=what)

    def text(self, name: str, column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
             label: str) -> str:
        return bounded(self.raw(name), column, field=name, label=label)

    def product_lines(self, count: int) -> list[tuple[Product, int]]:
        """The filled numbered lines (product_1 / qty_1 …) of an order or a goods receipt, as (product, quantity);
        the first bad one is refused with its field. A product is the id the type-ahead sent, or a code or name
        that finds exactly one."""
        s = self.turn.uow.session
        lines: list[tuple[Product, int]] = []
        for i in range(1, count + 1):
            pq, qty = self.raw(f"product_{i}"), self.quantity(f"qty_{i}")
            if not pq and qty is None:
                continue
            pid = row_id(pq)
            product = s.get(Product, pid) if pid is not None else None
            if product is None:
                found = find_products(s, pq) if pq else []
                if len(found) != 1:
                    raise ValidationFailed("Line {i}: pick one product", i=i, field=f"product_{i}")
                product = found[0]
            if qty is None:
                raise ValidationFailed("Line {i}: fill in the quantity", i=i, field=f"qty_{i}")
            lines.append((product, qty))
        if not lines:
            raise ValidationFailed("Fill in at least one product line", field="product_1")
        return lines
