"""Who sees which figures, decided once: every report asks `scope_for(viewer)` and filters by the answer.

- finance and admins: everything;
- sales managers: their team — the people whose manager they are (users.manager_id), their people's people, and
  themselves;
- sales people: their own figures (orders they own as sales person, receivables of those orders or, for an
  opening balance without an order, of their customers);
- warehouse staff: their warehouse's figures and no money — orders with a shipping task there, quantities that
  warehouse ships, its lead times. Reports that are only money (leaderboard, top customers, ageing) and the
  approval report are not theirs.

Someone with several roles gets the widest of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from domain.errors import PermissionDenied
from domain.models import Order, Role, ShippingTask, User


class ScopeKind(StrEnum):
    ALL = "all"
    TEAM = "team"
    OWN = "own"
    WAREHOUSE = "warehouse"


class ReportKind(StrEnum):
    TREND = "trend"
    PRODUCTS = "products"
    REGIONS = "regions"
    LEADERBOARD = "leaderboard"
    CUSTOMERS = "customers"
    AGEING = "ageing"
    APPROVALS = "approvals"
    FULFILMENT = "fulfilment"


# What warehouse staff may ask for: figures about goods and their warehouse, shown without money.
WAREHOUSE_REPORTS = frozenset({ReportKind.TREND, ReportKind.PRODUCTS, ReportKind.REGIONS, ReportKind.FULFILMENT})


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    user_ids: frozenset[int] = frozenset()  # TEAM / OWN: the sales people whose figures count
    warehouse_id: int | None = None  # WAREHOUSE
    owner_id: int | None = None  # the manager (TEAM) or sales person (OWN) the scope belongs to

    @property
    def money(self) -> bool:
        """Whether the figures may show money (warehouse staff see quantities and counts only)."""
        return self.kind != ScopeKind.WAREHOUSE

    @property
    def key(self) -> str:
        """Names the scope in cache keys: two viewers with the same key see the same figures."""
        if self.kind == ScopeKind.ALL:
            return "all"
        if self.kind == ScopeKind.WAREHOUSE:
            return f"warehouse:{self.warehouse_id}"
        return f"{self.kind.value}:" + ",".join(str(i) for i in sorted(self.user_ids))

    def allows(self, report: ReportKind) -> bool:
        return self.kind != ScopeKind.WAREHOUSE or report in WAREHOUSE_REPORTS

    def require(self, report: ReportKind) -> None:
        if not self.allows(report):
            raise PermissionDenied("Warehouse staff see the trend in orders, the product ranking by quantity, regions "
                                   "and fulfilment lead time; this report is for sales, managers and finance")

    def people(self, column: InstrumentedAttribute[int] | ColumnElement[int]) -> ColumnElement[bool]:
        """A condition on a sales-person column: true for the people whose figures this scope shows."""
        if self.kind in (ScopeKind.TEAM, ScopeKind.OWN):
            return column.in_(sorted(self.user_ids))
        return true()

    def orders(self) -> ColumnElement[bool]:
        """A condition on `Order`: the orders whose figures this scope shows."""
        if self.kind == ScopeKind.WAREHOUSE:
            return exists().where(ShippingTask.order_id == Order.id, ShippingTask.warehouse_id == self.warehouse_id)
        return self.people(Order.sales_user_id)


def team_of(session: Session, manager_id: int) -> frozenset[int]:
    """The manager and everyone below them through users.manager_id (however deep; a loop in the data stops)."""
    below: dict[int, list[int]] = {}
    for uid, mid in session.execute(select(User.id, User.manager_id).where(User.manager_id.is_not(None))):
        if mid is not None:
            below.setdefault(mid, []).append(uid)
    team, todo = {manager_id}, [manager_id]
    while todo:
        for uid in below.get(todo.pop(), []):
            if uid not in team:
                team.add(uid)
                todo.append(uid)
    return frozenset(team)


def scope_for(session: Session, user: User) -> Scope:
    if user.has_role(Role.ADMIN, Role.FINANCE):
        return Scope(ScopeKind.ALL)
    if user.has_role(Role.SALES_MANAGER):
        return Scope(ScopeKind.TEAM, team_of(session, user.id), owner_id=user.id)
    if user.has_role(Role.SALES):
        return Scope(ScopeKind.OWN, frozenset({user.id}), owner_id=user.id)
    if user.has_role(Role.WAREHOUSE):
        if user.warehouse_id is None:
            raise PermissionDenied("You are not assigned to a warehouse yet; ask an admin")
        return Scope(ScopeKind.WAREHOUSE, warehouse_id=user.warehouse_id)
    raise PermissionDenied("Reports are for sales, managers, finance and warehouse staff")
