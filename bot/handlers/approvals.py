"""Approving, rejecting, nudging and cancelling — by card button or by text command."""

from __future__ import annotations

import re
from datetime import timedelta

from bot import intents as it
from bot import state
from bot.cards.approvals import REJECT_PRESETS, approval_list_card, approval_request_card, reject_confirm_card
from bot.cards.model import Reply
from bot.handlers.base import Turn
from bot.records import PendingPrompt
from bot.tokens import ActionToken
from domain import approvals, fulfilment, orders
from domain.catalog import find_customers, find_products
from domain.errors import NotFound
from domain.models import ApprovalStep, Order, OrderStatus
from domain.permissions import customers_visible_to, may_view_order

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
    state.ask(turn.uow.session, turn.user.id, REASON, turn.ctx.signer.sign(ActionToken("reject", step_id)),
              turn.uow.now() + PROMPT_TTL)
    return turn.text("Reply with your reason for rejecting {number} (within 30 minutes). Sending a command instead cancels the rejection.", number=step.order.number)


# ---------------------------------------------------------------- the rejection-reason prompt
# Only a message that is plainly an answer is taken as the reason, and it is echoed back for confirmation before
# anything is rejected. A command cancels the prompt (and says so) and then runs; the prompt expires.

REASON, CONFIRM = "reject_reason", "reject_confirm"
PROMPT_KINDS = (REASON, CONFIRM)
PROMPT_TTL = timedelta(minutes=30)
_YES = {"确认", "确定", "是", "是的", "好", "好的", "对", "yes", "y", "ok", "okay", "confirm", "sure"}
_NO = {"取消", "不", "否", "算了", "不驳回", "no", "n", "cancel", "stop"}
_EXPLICIT = re.compile(r"^\s*(?:驳回)?(?:理由|原因|reason)\s*[:：]\s*", re.I)


def on_prompt(turn: Turn, prompt: PendingPrompt, text: str) -> tuple[list[Reply] | None, list[Reply]]:
    """A message while a rejection waits for its reason or confirmation: (the answer, None) when the message was
    for the prompt; (None, a notice to show first) when it is something else, which the caller then runs."""
    s = turn.uow.session
    step_id = turn.ctx.signer.verify(prompt.token).target
    step = s.get(ApprovalStep, step_id)
    number = step.order.number if step is not None else "—"
    explicit = _EXPLICIT.match(text)
    answer = text[explicit.end():].strip() if explicit else text.strip()
    word = answer.lower().rstrip("。.!！")
    if prompt.expires_at < turn.uow.now() or step is None:
        state.forget(s, prompt)
        if explicit or (prompt.kind == CONFIRM and (word in _YES or word in _NO)) or not _is_command(turn, text):
            return turn.text("The rejection of {number} timed out and nothing was rejected. To reject it, press Reject again or send: reject {number} <reason>", number=number), []
        return None, []
    if prompt.kind == CONFIRM and not explicit and word in _YES:
        reason = prompt.answer or ""
        state.forget(s, prompt)
        return decide(turn, step_id, False, reason), []
    if prompt.kind == CONFIRM and not explicit and word in _NO:
        state.forget(s, prompt)
        return turn.text("OK, cancelled: order {number} was not rejected.", number=number), []
    if not explicit and _is_command(turn, text):
        state.forget(s, prompt)
        return None, turn.text("Rejecting {number} is cancelled (nothing changed).", number=number)
    if not answer:
        return turn.text("Write your reason for rejecting {number}", number=number), []
    prompt.kind, prompt.answer, prompt.expires_at = CONFIRM, answer, turn.uow.now() + PROMPT_TTL
    assert step is not None
    return [Reply(card=reject_confirm_card(step.order, step, answer, turn.viewer))], []


def _is_command(turn: Turn, text: str) -> bool:
    """Anything the chat grammar reads as a command, except what reads as a reason to someone asked for one: a stock
    or customer query that finds nothing ("库存 不够" is a reason, "库存 SKU-001" a question), and "库存不足" / "low
    stock" (the low-stock list elsewhere, but the commonest rejection reason here)."""
    intent = turn.ctx.parse(text)
    if isinstance(intent, it.Unknown | it.LowStock):
        return False
    if isinstance(intent, it.ShowStock):
        return bool(find_products(turn.uow.session, intent.query))
    if isinstance(intent, it.ShowCustomer):
        return bool(find_customers(turn.uow.session, intent.query, among=customers_visible_to(turn.user)))
    return True


def confirm_reject(turn: Turn, step_id: int) -> list[Reply]:
    prompt = state.prompt_of(turn.uow.session, turn.user.id)
    if (prompt is None or prompt.kind != CONFIRM or prompt.expires_at < turn.uow.now()
            or turn.ctx.signer.verify(prompt.token).target != step_id):
        return turn.error("This confirmation expired or was cancelled; nothing was rejected. Press Reject again.")
    reason = prompt.answer or ""
    state.forget(turn.uow.session, prompt)
    return decide(turn, step_id, False, reason)


def cancel_prompt(turn: Turn, step_id: int) -> list[Reply]:
    prompt = state.prompt_of(turn.uow.session, turn.user.id)
    if prompt is not None and prompt.kind in PROMPT_KINDS and turn.ctx.signer.verify(prompt.token).target == step_id:
        state.forget(turn.uow.session, prompt)
    step = turn.uow.session.get(ApprovalStep, step_id)
    number = step.order.number if step is not None else "—"
    return turn.text("OK, cancelled: order {number} was not rejected.", number=number)


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
