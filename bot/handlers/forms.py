"""What form cards share: the numbered product lines (product_1 / qty_1 …) of an order or a goods receipt."""

from __future__ import annotations

from bot.handlers.base import Turn
from domain import parsing
from domain.catalog import find_products
from domain.errors import ValidationFailed
from domain.models import Product


def product_lines(turn: Turn, inputs: dict[str, str], count: int) -> list[tuple[Product, int]]:
    """The filled lines as (product, quantity); the first bad one is refused (ValidationFailed, with its field). A
    product is the id the type-ahead sent, or a code or name that finds exactly one; a quantity is read by
    domain.parsing."""
    s = turn.uow.session
    lines: list[tuple[Product, int]] = []
    for i in range(1, count + 1):
        pq, qs = (inputs.get(f"product_{i}") or "").strip(), (inputs.get(f"qty_{i}") or "").strip()
        if not pq and not qs:
            continue
        product = s.get(Product, int(pq)) if pq.isdigit() else None
        if product is None:
            found = find_products(s, pq) if pq else []
            if len(found) != 1:
                raise ValidationFailed("Line {i}: pick one product", i=i, field=f"product_{i}")
            product = found[0]
        try:
            qty = parsing.quantity(qs, field=f"qty_{i}")
        except parsing.InputRefused as e:
            raise ValidationFailed("Line {i}: {reason}", i=i, reason=e.message, field=f"qty_{i}") from None
        lines.append((product, qty))
    if not lines:
        raise ValidationFailed("Fill in at least one product line", field="product_1")
    return lines
