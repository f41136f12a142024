"""Who may see and do what. Plain functions over users and orders."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import Session

from domain.models import Customer, Order, Receivable, Reservation, Role, ShippingTask, User

SEE_ALL = (Role.ADMIN, Role.SALES_MANAGER, Role.FINANCE)


def sees_prices(user: User) -> bool:
    """Warehouse staff handle goods, not money: no prices unless they also hold another role."""
    return bool(user.roles - {Role.WAREHOUSE})


def may_override_price(user: User) -> bool:
    return user.has_role(Role.SALES_MANAGER, Role.ADMIN)


def may_view_order(session: Session, user: User, order: Order) -> bool:
    if user.has_role(*SEE_ALL):
        return True
    return bool(session.scalar(select(exists().where(Order.id == order.id, orders_visible_to(user)))))


def orders_visible_to(user: User) -> ColumnElement[bool]:
    """Which orders a person may see, as a query condition (may_view_order asks it for one order, searches for many):
    managers, finance and admins every order; a sales person the orders they own and their customers' orders;
    warehouse staff the orders with stock held or a shipping task in their warehouse."""
    if user.has_role(*SEE_ALL):
        return true()
    seen: list[ColumnElement[bool]] = []
    if user.has_role(Role.SALES):
        seen.append(Order.sales_user_id == user.id)
        seen.append(exists().where(Customer.id == Order.customer_id, Customer.sales_user_id == user.id))
    if user.has_role(Role.WAREHOUSE) and user.warehouse_id is not None:
        seen.append(exists().where(Reservation.order_id == Order.id, Reservation.warehouse_id == user.warehouse_id))
        seen.append(exists().where(ShippingTask.order_id == Order.id, ShippingTask.warehouse_id == user.warehouse_id))
    return or_(*seen) if seen else false()


def may_view_customer(user: User, customer: Customer) -> bool:
    """Managers, finance and admins see every customer; a sales person their own; the warehouse none."""
    return user.has_role(*SEE_ALL) or (user.has_role(Role.SALES) and customer.sales_user_id == user.id)


def customers_visible_to(user: User) -> ColumnElement[bool]:
    """may_view_customer as a query condition, for searches that must not list what the asker may not see."""
    if user.has_role(*SEE_ALL):
        return true()
    return Customer.sales_user_id == user.id if user.has_role(Role.SALES) else false()


def may_chase_receivable(user: User, receivable: Receivable) -> bool:
    """Promise dates and snoozes: managers, finance and admins on any receivable; a sales person on those of their
    orders, and on an opening balance (no order) of their customer."""
    owner = receivable.order.sales_user_id if receivable.order is not None else receivable.customer.sales_user_id
    return user.has_role(*SEE_ALL) or owner == user.id


def sees_all_receivables(user: User) -> bool:
    """Overdue lists and digests: managers, finance and admins see everyone's; a sales person their own."""
    return user.has_role(*SEE_ALL)


def may_see_receivables(user: User) -> bool:
    return user.has_role(*SEE_ALL, Role.SALES)


def may_order_for_any_customer(user: User) -> bool:
    """Sales managers and admins place orders for any customer; a sales person for their own customers."""
    return user.has_role(Role.SALES_MANAGER, Role.ADMIN)


def may_create_orders(user: User) -> bool:
    return user.has_role(Role.SALES, Role.SALES_MANAGER, Role.ADMIN)


def may_cancel(user: User, order: Order) -> bool:
    return user.has_role(Role.SALES_MANAGER, Role.ADMIN) or order.sales_user_id == user.id


def may_record_payment(user: User) -> bool:
    return user.has_role(Role.FINANCE, Role.ADMIN)


def may_move_stock(user: User, warehouse_id: int) -> bool:
    """Receipts, counts and transfers: admins anywhere, warehouse staff in their own warehouse."""
    return user.has_role(Role.ADMIN) or (user.has_role(Role.WAREHOUSE) and user.warehouse_id == warehouse_id)


def may_import(user: User) -> bool:
    """Moving master data, stock, people and balances in from files is an admin's job."""
    return user.has_role(Role.ADMIN)


def may_link_people(user: User) -> bool:
    """Linking a chat account to a user decides who acts as that user: an admin's job."""
    return user.has_role(Role.ADMIN)


def may_create_customers(user: User) -> bool:
    """Sales people create customers that are their own; sales managers and admins any customer."""
    return user.has_role(Role.SALES, Role.SALES_MANAGER, Role.ADMIN)


def may_edit_customer(user: User, customer: Customer) -> bool:
    """Sales managers and admins edit every customer; a sales person their own (not its credit terms)."""
    return user.has_role(Role.SALES_MANAGER, Role.ADMIN) or (user.has_role(Role.SALES) and customer.sales_user_id == user.id)


def may_set_credit_terms(user: User) -> bool:
    """A customer's credit limit, payment terms and tier (which selects its prices): sales managers and admins."""
    return user.has_role(Role.SALES_MANAGER, Role.ADMIN)


def may_edit_products(user: User) -> bool:
    """Products and their prices: admins."""
    return user.has_role(Role.ADMIN)
