"""Approving, rejecting, nudging and cancelling — by card button or by text command."""

from __future__ import annotations

from datetime import timedelta

from bot.cards.approvals import REJECT_PRESETS, approval_list_card, approval_request_card
from bot.cards.model import Reply
from bot.handlers.base import Turn
from bot.records import PendingPrompt
from bot.tokens import ActionToken
from domain import approvals, fulfilment, orders
from domain.errors import NotFound
from domain.models import ApprovalStep, Order, OrderStatus
from domain.permissions import may_view_order

FULL_CARDS_UP_TO = 3  # more pending approvals than this come as one compact list


def my_approvals(turn: Turn) -> list[Reply]:
    items = approvals.pending_for(turn.uow.session, turn.user.id)
    if not items:
        return turn.text("Nothing waits for your approval 👍")
    if len(items) <= FULL_CARDS_UP_TO:
        return [Reply(card=approval_request_card(i.order, i.step, turn.viewer)) for i in items]
    return [Reply(card=approval_list_card(items, turn.viewer))]


def open_approval(turn: Turn, step_id: int) -> list[Reply]:
    """A list card's decide button: the full approval card of that order, to approve or reject from."""
    step = turn.uow.session.get(ApprovalStep, step_id)
    if step is None:
        raise NotFound("No such approval")
    if step.status != "pending" or not any(a.user_id == turn.user.id and a.status == "pending" for a in step.assignments):
        return turn.error(
            "Order {number} no longer waits for your approval", number=step.order.number)
    return [Reply(card=approval_request_card(step.order, step, turn.viewer))]


def _step_of(turn: Turn, number: str) -> ApprovalStep:
    order = orders.get_order(turn.uow.session, number)
    step = approvals.current_step(order)
    if step is None:
        # No open step: let decide() explain who decided it and when.
        decided = [s for s in order.steps if s.decided_at is not None]
        if decided:
            return decided[-1]
        raise NotFound("Order {number} has no open approval", number=order.number)
    return step


def decide(turn: Turn, step_id: int, approve: bool, reason: str | None) -> list[Reply]:
    step = approvals.decide(turn.uow, step_id, turn.user, approve, turn.actor, reason)
    order = step.order
    v = turn.viewer
    if approve:
        return turn.text("Approved order {number} ({total})", number=order.number, total=v.money(order.total))
    return turn.text("Rejected order {number}. Reason: {reason}", number=order.number, reason=reason)


def approve_by_text(turn: Turn, number: str) -> list[Reply]:
    return decide(turn, _step_of(turn, number).id, True, None)


def reject_by_text(turn: Turn, number: str, reason: str | None) -> list[Reply]:
    if not reason:
        return turn.error("Add a reason: reject {number} <reason>", field="reason", number=number)
    return decide(turn, _step_of(turn, number).id, False, reason)


def reject_action(turn: Turn, step_id: int, preset: str, typed: str | None) -> list[Reply]:
    """The reject button: a typed reason (Slack modal, sandbox form), a preset (WeCom), or 'other' → ask."""
    if typed and typed.strip():
        return decide(turn, step_id, False, typed.strip())
    labels = {code: turn.t(msgid) for code, msgid in REJECT_PRESETS if code != "other"}
    if preset in labels:
        return decide(turn, step_id, False, labels[preset])
    step = turn.uow.session.get(ApprovalStep, step_id)
    if step is None:
        raise NotFound("No such approval")
    if step.status != "pending" or not any(a.user_id == turn.user.id and a.status == "pending" for a in step.assignments):
        return decide(turn, step_id, False, "-")  # decide() refuses with the precise reason
    s = turn.uow.session
    prompt = s.get(PendingPrompt, turn.user.id) or PendingPrompt(user_id=turn.user.id)
    prompt.kind = "reject_reason"
    prompt.token = turn.ctx.signer.sign(ActionToken("reject", step_id))
    prompt.expires_at = turn.uow.now() + timedelta(minutes=30)
    s.add(prompt)
    return turn.text("Reply with your reason for rejecting {number} (within 30 minutes).", number=step.order.number)


def nudge(turn: Turn, order: Order) -> list[Reply]:
    if not may_view_order(turn.uow.session, turn.user, order):
        return turn.error("You may not nudge order {number}", number=order.number)
    step = approvals.nudge(turn.uow, order, turn.user, turn.actor, turn.ctx.settings.nudge_interval_minutes)
    names = "、".join(u.display_name for u in approvals.pending_approvers(step))
    return turn.text("Nudged {names}", names=names)


def nudge_by_text(turn: Turn, number: str) -> list[Reply]:
    return nudge(turn, orders.get_order(turn.uow.session, number))


def cancel(turn: Turn, number: str, reason: str | None) -> list[Reply]:
    order = orders.get_order(turn.uow.session, number)
    if order.status == OrderStatus.PARTIALLY_SHIPPED.value:
        # What left the warehouse cannot be cancelled: cancelling now means "the rest will not ship".
        fulfilment.cancel_rest(turn.uow, order, turn.user, turn.actor)
        return turn.text("The unshipped rest of {number} is cancelled and its stock released; what shipped is still billed.", number=order.number)
    order = orders.cancel_order(turn.uow, turn.user, number, reason, turn.actor)
    return turn.text("Order {number} is cancelled; its stock was released.", number=order.number)
