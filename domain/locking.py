"""Row locks that serialise the commands on one order: every decision, claim, shipment, payment and cancellation
locks the order row first, so two people acting at the same moment are served one after the other."""

from __future__ import annotations

from sqlalchemy import select

from domain.errors import NotFound
from domain.models import Order
from domain.uow import UnitOfWork


def lock_order(uow: UnitOfWork, order_id: int) -> Order:
    """The order, locked for the rest of the transaction and read afresh (another writer may just have changed it)."""
    order = uow.session.scalars(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if order is None:
        raise NotFound("No such order")
    return order
