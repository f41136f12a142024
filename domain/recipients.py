"""Who is told: the named recipient queries that notifications, jobs and the dispatcher ask. Active users only —
a deactivated account gets no task card, reminder, alert or approval request."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, joinedload

from domain.models import ApprovalStep, Role, StepStatus, User


def _with_role(session: Session, role: Role, *where: ColumnElement[bool]) -> list[User]:
    # roles are a comma-separated column: narrow in SQL, decide on the parsed set (no "admin" inside another name)
    # with their accounts: the outbox addresses each of them (bot.outbox), in this statement rather than one each
    q = (select(User).where(User.active.is_(True), User.roles_csv.contains(role.value), *where).order_by(User.id)
         .options(joinedload(User.identities)))
    return [u for u in session.scalars(q).unique() if u.has_role(role)]


def warehouse_staff(session: Session, warehouse_id: int) -> list[User]:
    """The active warehouse staff of one warehouse (task cards, late-task reminders, low-stock alerts)."""
    return _with_role(session, Role.WAREHOUSE, User.warehouse_id == warehouse_id)


def admins(session: Session) -> list[User]:
    """The active admins (steps nobody may decide, deliveries that failed for good, long-overdue receivables)."""
    return _with_role(session, Role.ADMIN)


def approvers(step: ApprovalStep) -> list[User]:
    """Who holds `step` and has still to decide it, active accounts only (requests, nudges, reminders)."""
    return [a.user for a in step.assignments if a.status == StepStatus.PENDING.value and a.user.active]


def stock_watchers(session: Session, warehouse_id: int) -> list[User]:
    """Who hears that stock runs low in a warehouse: its staff and the admins, each once."""
    people = {u.id: u for u in admins(session) + warehouse_staff(session, warehouse_id)}
    return [people[k] for k in sorted(people)]
