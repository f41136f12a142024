"""Approval steps: opening them from the rules, deciding them (或签 / 会签), listing what waits for whom.

Every decision first locks the order row, so two approvers clicking at the same moment are serialised:
the first decides, the second is told who decided and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from domain import lifecycle, stock
from domain.audit import Actor, record
from domain.errors import AlreadyDecided, NotFound, PermissionDenied, ValidationFailed
from domain.events import ApprovalDecided, ApprovalRequested, OrderApproved, OrderRejected
from domain.messages import Name
from domain.models import (
    ApprovalAssignment,
    ApprovalStep,
    Order,
    OrderStatus,
    StepMode,
    StepStatus,
    User,
)
from domain.rules import PlannedStep
from domain.uow import UnitOfWork


def resolve_approvers(session: Session, planned: PlannedStep, requester_id: int, today: date) -> list[tuple[User, User | None]]:
    """(acting user, on behalf of) pairs; away users are replaced by their delegate."""
    users = [u for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))]
    chosen = [u for u in users if (u.roles & set(planned.roles)) or u.username in planned.users]
    if len(chosen) > 1:  # nobody approves their own order, unless nobody else could
        chosen = [u for u in chosen if u.id != requester_id] or chosen
    result: dict[int, tuple[User, User | None]] = {}
    for u in chosen:
        acting, behalf = u, None
        if u.is_away(today) and u.delegate is not None:
            acting, behalf = u.delegate, u
        result.setdefault(acting.id, (acting, behalf))
    return list(result.values())


def open_steps(uow: UnitOfWork, order: Order, planned: list[PlannedStep], actor: Actor, today: date) -> None:
    for seq, p in enumerate(planned, start=1):
        step = ApprovalStep(order=order, seq=seq, name=p.name, name_en=p.name_en, mode=p.mode, reasons=",".join(p.reasons),
                            reason_titles=[t.model_dump() for t in p.reason_titles])
        uow.session.add(step)
        for acting, behalf in resolve_approvers(uow.session, p, order.sales_user_id, today):
            step.assignments.append(ApprovalAssignment(user_id=acting.id, on_behalf_of_id=behalf.id if behalf else None))
        if not step.assignments:
            raise ValidationFailed(
                "Approval step '{name}' has no approver; an admin must check the rules and roles",
                name=Name(p.name, p.name_en))
    uow.session.flush()
    _activate_next(uow, order, actor)


def _activate_next(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    waiting = [s for s in order.steps if s.status == StepStatus.WAITING.value]
    if not waiting:
        lifecycle.transition(uow, order, OrderStatus.APPROVED, actor, "approved")
        uow.emit(OrderApproved(order.id))
        from domain.fulfilment import create_tasks  # approval hands the order to the warehouses

        create_tasks(uow, order, actor)
        return
    step = waiting[0]
    step.status = StepStatus.PENDING.value
    step.opened_at = uow.now()
    for a in step.assignments:
        a.status = StepStatus.PENDING.value
    uow.session.flush()
    record(uow, order, actor, "approval_requested", step=step.name, approvers=",".join(a.user.display_name for a in step.assignments))
    uow.emit(ApprovalRequested(order.id, step.id, tuple(a.user_id for a in step.assignments)))


def lock_order(uow: UnitOfWork, order_id: int) -> Order:
    order = uow.session.scalars(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if order is None:
        raise NotFound("No such order")
    return order


def decide(
    uow: UnitOfWork, step_id: int, user: User, approve: bool, actor: Actor, reason: str | None = None
) -> ApprovalStep:
    step = uow.session.get(ApprovalStep, step_id)
    if step is None:
        raise NotFound("No such approval")
    order = lock_order(uow, step.order_id)
    # Re-read the step and all its assignments in one go now that the order is locked: another approver may have
    # decided between our first read and the lock.
    step = uow.session.scalars(
        select(ApprovalStep).where(ApprovalStep.id == step_id)
        .options(selectinload(ApprovalStep.assignments).joinedload(ApprovalAssignment.user))
        .execution_options(populate_existing=True)
    ).one()
    if step.status != StepStatus.PENDING.value:
        raise _already(step, order)
    mine = next((a for a in step.assignments if a.user_id == user.id), None)
    if mine is None:
        record(uow, order, actor, "refused", action_tried="approve" if approve else "reject", step=step.name,
               why="not an approver of this step")
        uow.commit()  # the refusal itself is part of the audit trail
        raise PermissionDenied(
            "You are not an approver of '{name}' and cannot decide order {number}", name=Name.of(step), number=order.number)
    if mine.status != StepStatus.PENDING.value:
        raise AlreadyDecided("You already decided order {number} ({decision}); waiting for the other approvers",
                             number=order.number, decision=StepStatus(mine.status))
    if not approve and not (reason or "").strip():
        raise ValidationFailed("A rejection needs a reason", field="reason")
    now = uow.now()
    mine.status = StepStatus.APPROVED.value if approve else StepStatus.REJECTED.value
    mine.decided_at = now
    mine.comment = reason
    closed = (not approve) or step.mode == StepMode.ANY.value or all(
        a.status == StepStatus.APPROVED.value for a in step.assignments
    )
    record(uow, order, actor, "approve" if approve else "reject", step=step.name, reason=reason or "",
           on_behalf_of=mine.on_behalf_of.display_name if mine.on_behalf_of else "")
    if closed:
        step.status = StepStatus.APPROVED.value if approve else StepStatus.REJECTED.value
        step.decided_at = now
        step.decided_by_id = user.id
        step.reason = reason
        for a in step.assignments:
            if a.status == StepStatus.PENDING.value:
                a.status = StepStatus.CANCELLED.value  # 或签: the others no longer need to act
    order.version += 1
    uow.session.flush()
    uow.emit(ApprovalDecided(order.id, step.id, user.id, approve, closed, reason))
    if not closed:
        return step
    if approve:
        _activate_next(uow, order, actor)
    else:
        for s in order.steps:
            if s.status == StepStatus.WAITING.value:
                s.status = StepStatus.CANCELLED.value
        lifecycle.transition(uow, order, OrderStatus.REJECTED, actor, "rejected", reason=reason or "")
        stock.release(uow, order)
        uow.emit(OrderRejected(order.id, step.id, user.id, reason or ""))
    return step


def _already(step: ApprovalStep, order: Order) -> AlreadyDecided:
    who = step.decided_by.display_name if step.decided_by else "—"
    at = step.decided_at  # a datetime: the reader sees it in the configured zone and their format
    if step.status == StepStatus.APPROVED.value:
        return AlreadyDecided("Order {number} was already approved by {by} at {at}", number=order.number, by=who, at=at)
    if step.status == StepStatus.REJECTED.value:
        return AlreadyDecided("Order {number} was already rejected by {by} at {at}", number=order.number, by=who, at=at)
    return AlreadyDecided("This approval is closed (order {number} is {status})", number=order.number, status=order.state)


def cancel_open_steps(order: Order) -> None:
    for s in order.steps:
        if s.status in (StepStatus.WAITING.value, StepStatus.PENDING.value):
            s.status = StepStatus.CANCELLED.value
            for a in s.assignments:
                if a.status in (StepStatus.WAITING.value, StepStatus.PENDING.value):
                    a.status = StepStatus.CANCELLED.value


@dataclass(frozen=True)
class PendingItem:
    step: ApprovalStep
    order: Order


def pending_for(session: Session, user_id: int) -> list[PendingItem]:
    rows = session.execute(
        select(ApprovalStep, Order)
        .join(ApprovalAssignment, ApprovalAssignment.step_id == ApprovalStep.id)
        .join(Order, Order.id == ApprovalStep.order_id)
        .where(ApprovalAssignment.user_id == user_id, ApprovalAssignment.status == StepStatus.PENDING.value)
        .order_by(ApprovalStep.opened_at, ApprovalStep.id)  # the id keeps steps opened in one instant in order
        .options(selectinload(Order.lines))
    ).all()
    return [PendingItem(step, order) for step, order in rows]


def current_step(order: Order) -> ApprovalStep | None:
    return next((s for s in order.steps if s.status == StepStatus.PENDING.value), None)


def pending_approvers(step: ApprovalStep) -> list[User]:
    return [a.user for a in step.assignments if a.status == StepStatus.PENDING.value]


def last_nudge_at(session: Session, order_id: int):  # type: ignore[no-untyped-def]
    from domain.models import AuditEntry

    return session.scalar(
        select(AuditEntry.at).where(AuditEntry.order_id == order_id, AuditEntry.action == "nudge")
        .order_by(AuditEntry.id.desc()).limit(1)
    )


def nudge(uow: UnitOfWork, order: Order, by: User, actor: Actor, min_interval_minutes: int) -> ApprovalStep:
    """催办: remind the pending approvers — at most once per interval per order."""
    from datetime import timedelta

    from domain.events import ApprovalNudged

    step = current_step(order)
    if step is None:
        raise ValidationFailed("Order {number} has no pending approval", number=order.number)
    last = last_nudge_at(uow.session, order.id)
    if last is not None and uow.now() - last < timedelta(minutes=min_interval_minutes):
        wait = int((last + timedelta(minutes=min_interval_minutes) - uow.now()).total_seconds() // 60) + 1
        raise ValidationFailed("Already nudged recently; try again in {wait} min", wait=wait)
    approvers = pending_approvers(step)
    record(uow, order, actor, "nudge", step=step.name, approvers=",".join(u.display_name for u in approvers))
    uow.emit(ApprovalNudged(order.id, step.id, by.id, tuple(u.id for u in approvers)))
    return step


def escalate(uow: UnitOfWork, step: ApprovalStep, actor: Actor) -> tuple[int, ...]:
    """Pending too long: each pending approver's manager joins the step and can decide it."""
    from domain.events import ApprovalNudged

    added = []
    present = {a.user_id for a in step.assignments}
    for a in list(step.assignments):
        if a.status != StepStatus.PENDING.value or a.user.manager_id is None:
            continue
        mid = a.user.manager_id
        if mid not in present:
            step.assignments.append(ApprovalAssignment(user_id=mid, status=StepStatus.PENDING.value))
            present.add(mid)
            added.append(mid)
    uow.session.flush()
    order = step.order
    record(uow, order, actor, "escalation", step=step.name, to=",".join(str(i) for i in added))
    uow.emit(ApprovalNudged(order.id, step.id, None, (), tuple(added), kind="escalation"))
    return tuple(added)
