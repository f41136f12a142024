"""Approval steps: opening them from the rules, deciding them (或签 / 会签), listing what waits for whom.

Every decision first locks the order row, so two approvers clicking at the same moment are serialised:
the first decides, the second is told who decided and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from domain import lifecycle, recipients, stock
from domain.audit import Actor, record, refused, write_pending
from domain.eligibility import (
    ApproverSpec,
    active_users,
    conflict_reason,
    conflicted,
    escalation_targets,
    may_act,
)
from domain.errors import AlreadyDecided, NotFound, PermissionDenied, ValidationFailed
from domain.events import (
    ApprovalDecided,
    ApprovalNudged,
    ApprovalRequested,
    NoEligibleApprover,
    OrderApproved,
    OrderRejected,
)
from domain.fulfilment import create_tasks
from domain.messages import Message, Name
from domain.models import (
    ApprovalAssignment,
    ApprovalStep,
    AssignedVia,
    AuditEntry,
    Order,
    OrderStatus,
    StepMode,
    StepStatus,
    User,
)
from domain.rules import PlannedStep
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class Staffing:
    """One approver of a new step: who acts, for whom (an away approver), and how they came to hold it."""

    user: User
    on_behalf_of: User | None
    via: AssignedVia


def resolve_approvers(session: Session, spec: ApproverSpec, order: Order, today: date,
                      people: list[User] | None = None) -> list[Staffing]:
    """Who decides a step of `order` under `spec`. Never the order's creator or sales owner (separation of duties);
    an away approver is replaced by their delegate only when the delegate may decide it in their own right,
    otherwise the away approver keeps the step (reminders and escalation follow if they do not act)."""
    result: dict[int, Staffing] = {}
    for u in active_users(session) if people is None else people:
        if not spec.admits(u) or conflicted(order, u):
            continue
        acting = Staffing(u, None, AssignedVia.RULE)
        d = u.delegate
        if u.is_away(today) and d is not None and spec.admits(d) and may_act(order, d):
            acting = Staffing(d, u, AssignedVia.DELEGATE)
        known = result.get(acting.user.id)
        if known is None or acting.via == AssignedVia.DELEGATE:
            result[acting.user.id] = acting  # also standing in for someone: the audit trail says for whom
    return list(result.values())


def _escalated(session: Session, spec: ApproverSpec | None, order: Order, exclude: set[int],
               people: list[User] | None = None) -> list[Staffing]:
    """Nobody the rule names may decide: the next level up from the people it names, else an admin."""
    named = [u for u in (active_users(session) if people is None else people) if spec is not None and spec.admits(u)]
    return [Staffing(u, None, AssignedVia.ESCALATION) for u in escalation_targets(session, order, named, exclude)]


def open_steps(uow: UnitOfWork, order: Order, planned: list[PlannedStep], actor: Actor, today: date) -> None:
    people = active_users(uow.session)  # once for every step
    for seq, p in enumerate(planned, start=1):
        spec = ApproverSpec.of(p.roles, p.users)
        staff = resolve_approvers(uow.session, spec, order, today, people) or _escalated(uow.session, spec, order, set(), people)
        # the step is made whole (its assignments with their people) before it joins the session: no loads, one flush
        uow.session.add(ApprovalStep(order=order, seq=seq, name=p.name, name_en=p.name_en, mode=p.mode, reasons=",".join(p.reasons),
                     reason_titles=[t.model_dump() for t in p.reason_titles],
                     approver_roles=spec.roles_csv, approver_users=spec.users_csv,
                     assignments=[ApprovalAssignment(user=a.user, via=a.via.value, on_behalf_of=a.on_behalf_of)
                                  for a in staff]))
    _activate_next(uow, order, actor)


def _activate_next(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    waiting = [s for s in order.steps if s.status in (None, StepStatus.WAITING.value)]
    if not waiting:
        lifecycle.transition(uow, order, OrderStatus.APPROVED, actor, "approved")
        uow.emit(OrderApproved(order.id))
        create_tasks(uow, order, actor)  # approval hands the order to the warehouses
        return
    step = waiting[0]
    for later in waiting[1:]:
        later.status = StepStatus.WAITING.value
    step.status = StepStatus.PENDING.value
    step.opened_at = uow.now()
    for a in step.assignments:
        a.status = StepStatus.PENDING.value
    if not step.assignments:
        # Truly nobody may decide it (no admin is free of the order either): it waits, and admins are told so.
        record(uow, order, actor, "no_eligible_approver", step=step.name)
        uow.session.flush()  # the event names the step by id
        uow.emit(NoEligibleApprover(order.id, step.id))
        return
    record(uow, order, actor, "approval_requested", step=step.name, approvers=",".join(a.user.display_name for a in step.assignments))
    uow.session.flush()  # the event names the step by id
    uow.emit(ApprovalRequested(order.id, step.id, tuple(a.user_id for a in step.assignments)))


def decide(
    uow: UnitOfWork, step_id: int, user: User, approve: bool, actor: Actor, reason: str | None = None
) -> ApprovalStep:
    # Lock the step's order first. Then read it afresh with all its steps, their assignments and people, and its
    # reservations, in one more statement: another approver may have decided a moment ago. (On PostgreSQL a locking
    # statement that waited re-reads only the locked row; rows it joins would still be the ones from before the wait.)
    order_id = uow.session.scalar(
        select(Order.id).join(ApprovalStep, ApprovalStep.order_id == Order.id).where(ApprovalStep.id == step_id)
        .with_for_update(of=Order))
    if order_id is None:
        raise NotFound("No such approval")
    order = uow.session.scalars(
        select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
        .options(joinedload(Order.steps).joinedload(ApprovalStep.assignments).joinedload(ApprovalAssignment.user),
                 joinedload(Order.reservations),  # what the shipping tasks are made from, should this approve it
                 # who is told of the decision and what the message names: read here, not lazily one by one
                 joinedload(Order.sales_user).joinedload(User.identities), joinedload(Order.customer))
    ).unique().one()
    step = next(s for s in order.steps if s.id == step_id)
    if step.status != StepStatus.PENDING.value:
        raise _already(step, order)
    mine = next((a for a in step.assignments if a.user_id == user.id), None)
    refusal = _not_eligible(order, step, user, mine)
    if refusal is not None or mine is None:
        denied = (PermissionDenied("You cannot decide order {number}: {why}", number=order.number, why=refusal)
                  if refusal is not None else
                  PermissionDenied("You are not an approver of '{name}' and cannot decide order {number}",
                                   name=Name.of(step), number=order.number))
        # the refusal itself is part of the audit trail: the caller's error path records it after the rollback
        raise refused(denied, order, actor, action_tried="approve" if approve else "reject", step=step.name,
                      why=str(refusal) if refusal else "not an approver of this step")
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
                a.decided_at = now  # closed for them (and written with the decider's row in one batch)
    order.version += 1
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


def _not_eligible(order: Order, step: ApprovalStep, user: User, mine: ApprovalAssignment | None) -> Message | None:
    """Why `user` may not decide now, or None. The same rule as at step creation: separation of duties for
    everyone, assigned or not; eligibility in their own right for those who hold the step by rule or delegation (an
    assignment made before the rule was kept, or roles changed since, does not carry a decision)."""
    if conflicted(order, user):
        return Message("{reason}, and nobody approves their own order", {"reason": conflict_reason(order, user)})
    if not user.active:
        return Message("your account is inactive")
    spec = ApproverSpec.of_step(step)
    if mine is not None and spec is not None and mine.via != AssignedVia.ESCALATION.value and not spec.admits(user):
        return Message("you are not entitled to decide '{name}' in your own right (its role, or named in the rule)",
                       {"name": Name.of(step)})
    return None


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


def steps_to_watch(session: Session) -> list[ApprovalStep]:
    """Every pending step, oldest first, with its order, assignments and their people (the reminder scan)."""
    return list(session.scalars(
        select(ApprovalStep).where(ApprovalStep.status == StepStatus.PENDING.value).order_by(ApprovalStep.id)
        .options(joinedload(ApprovalStep.order), selectinload(ApprovalStep.assignments).joinedload(ApprovalAssignment.user))))


def remind(uow: UnitOfWork, step: ApprovalStep, actor: Actor) -> tuple[int, ...]:
    """A step has waited long: its active approvers are reminded (once per step: the caller keeps the key)."""
    people = tuple(u.id for u in recipients.approvers(step))
    record(uow, step.order, actor, "reminder", step=step.name)
    uow.emit(ApprovalNudged(step.order_id, step.id, None, people, kind="reminder"))
    return people


def last_nudge_at(session: Session, order_id: int) -> datetime | None:
    write_pending(session)
    return session.scalar(
        select(AuditEntry.at).where(AuditEntry.order_id == order_id, AuditEntry.action == "nudge")
        .order_by(AuditEntry.id.desc()).limit(1)
    )


def nudge(uow: UnitOfWork, order: Order, by: User, actor: Actor, min_interval_minutes: int) -> ApprovalStep:
    """催办: remind the pending approvers — at most once per interval per order."""
    step = current_step(order)
    if step is None:
        raise ValidationFailed("Order {number} has no pending approval", number=order.number)
    last = last_nudge_at(uow.session, order.id)
    if last is not None and uow.now() - last < timedelta(minutes=min_interval_minutes):
        wait = int((last + timedelta(minutes=min_interval_minutes) - uow.now()).total_seconds() // 60) + 1
        raise ValidationFailed("Already nudged recently; try again in {wait} min", wait=wait)
    approvers = recipients.approvers(step)
    record(uow, order, actor, "nudge", step=step.name, approvers=",".join(u.display_name for u in approvers))
    uow.emit(ApprovalNudged(order.id, step.id, by.id, tuple(u.id for u in approvers)))
    return step


def escalate(uow: UnitOfWork, step: ApprovalStep, actor: Actor, today: date) -> tuple[int, ...]:
    """Pending too long: for each pending approver, the first manager up their chain who may act on this order joins
    the step and can decide it; a step nobody holds goes to whoever may decide it now (see `restaff`)."""
    order = step.order
    pending = [a.user for a in step.assignments if a.status == StepStatus.PENDING.value]
    if not pending:
        return restaff(uow, step, actor, today)
    present = {a.user_id for a in step.assignments}
    added = []
    for boss in escalation_targets(uow.session, order, pending, present):
        step.assignments.append(ApprovalAssignment(user_id=boss.id, status=StepStatus.PENDING.value,
                                                   via=AssignedVia.ESCALATION.value))
        present.add(boss.id)
        added.append(boss.id)
    uow.session.flush()
    record(uow, order, actor, "escalation", step=step.name, to=",".join(str(i) for i in added))
    uow.emit(ApprovalNudged(order.id, step.id, None, (), tuple(added), kind="escalation"))
    return tuple(added)


def restaff(uow: UnitOfWork, step: ApprovalStep, actor: Actor, today: date) -> tuple[int, ...]:
    """A pending step nobody may decide (see `_activate_next`): look again — an admin may have fixed roles or
    people since — and hand it to whoever may decide it now, by the rule or by escalation."""
    order = step.order
    if step.status != StepStatus.PENDING.value or any(a.status == StepStatus.PENDING.value for a in step.assignments):
        return ()
    spec = ApproverSpec.of_step(step)
    present = {a.user_id for a in step.assignments}
    staff = [a for a in (resolve_approvers(uow.session, spec, order, today) if spec else [])
             if a.user.id not in present] or _escalated(uow.session, spec, order, present)
    for a in staff:
        step.assignments.append(ApprovalAssignment(user_id=a.user.id, status=StepStatus.PENDING.value, via=a.via.value,
                                                   on_behalf_of_id=a.on_behalf_of.id if a.on_behalf_of else None))
    if not staff:
        return ()
    uow.session.flush()
    record(uow, order, actor, "approval_requested", step=step.name,
           approvers=",".join(a.user.display_name for a in staff))
    uow.emit(ApprovalRequested(order.id, step.id, tuple(a.user.id for a in staff)))
    return tuple(a.user.id for a in staff)
