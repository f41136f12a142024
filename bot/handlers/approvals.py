"""Approving, rejecting, nudging and cancelling — by card button or by text command."""

from __future__ import annotations

from datetime import timedelta

from bot.cards.approvals import REJECT_PRESETS, approval_request_card
from bot.cards.model import Reply
from bot.handlers.base import Turn
from bot.records import PendingPrompt
from bot.tokens import ActionToken
from domain import approvals, fulfilment, orders
from domain.errors import NotFound
from domain.models import ApprovalStep, Order, OrderStatus
from domain.permissions import may_view_order


def my_approvals(turn: Turn) -> list[Reply]:
    items = approvals.pending_for(turn.uow.session, turn.user.id)
    if not items:
        return turn.text("没有待您审批的订单 👍", "Nothing waits for your approval 👍")
    replies = [Reply(text=turn.t(f"待您审批：{len(items)} 个", f"Waiting for you: {len(items)}"))]
    replies += [Reply(card=approval_request_card(i.order, i.step, turn.viewer)) for i in items[:10]]
    return replies


def _step_of(turn: Turn, number: str) -> ApprovalStep:
    order = orders.get_order(turn.uow.session, number)
    step = approvals.current_step(order)
    if step is None:
        # No open step: let decide() explain who decided it and when.
        decided = [s for s in order.steps if s.decided_at is not None]
        if decided:
            return decided[-1]
        raise NotFound(f"订单 {order.number} 没有待处理的审批", f"Order {order.number} has no open approval")
    return step


def decide(turn: Turn, step_id: int, approve: bool, reason: str | None) -> list[Reply]:
    step = approvals.decide(turn.uow, step_id, turn.user, approve, turn.actor, reason)
    order = step.order
    v = turn.viewer
    if approve:
        return turn.text(f"已同意订单 {order.number}（{v.money(order.total)}）",
                         f"Approved order {order.number} ({v.money(order.total)})")
    return turn.text(f"已驳回订单 {order.number}，理由：{reason}", f"Rejected order {order.number}. Reason: {reason}")


def approve_by_text(turn: Turn, number: str) -> list[Reply]:
    return decide(turn, _step_of(turn, number).id, True, None)


def reject_by_text(turn: Turn, number: str, reason: str | None) -> list[Reply]:
    if not reason:
        return turn.error(f"请写明驳回理由：驳回 {number} 理由", f"Add a reason: reject {number} <reason>", "reason")
    return decide(turn, _step_of(turn, number).id, False, reason)


def reject_action(turn: Turn, step_id: int, preset: str, typed: str | None) -> list[Reply]:
    """The reject button: a typed reason (Slack modal, sandbox form), a preset (WeCom), or 'other' → ask."""
    if typed and typed.strip():
        return decide(turn, step_id, False, typed.strip())
    labels = {code: turn.t(zh, en) for code, zh, en in REJECT_PRESETS if code != "other"}
    if preset in labels:
        return decide(turn, step_id, False, labels[preset])
    step = turn.uow.session.get(ApprovalStep, step_id)
    if step is None:
        raise NotFound("审批不存在", "No such approval")
    if step.status != "pending" or not any(a.user_id == turn.user.id and a.status == "pending" for a in step.assignments):
        return decide(turn, step_id, False, "-")  # decide() refuses with the precise reason
    s = turn.uow.session
    prompt = s.get(PendingPrompt, turn.user.id) or PendingPrompt(user_id=turn.user.id)
    prompt.kind = "reject_reason"
    prompt.token = turn.ctx.signer.sign(ActionToken("reject", step_id))
    prompt.expires_at = turn.uow.now() + timedelta(minutes=30)
    s.add(prompt)
    return turn.text(f"请直接回复驳回订单 {step.order.number} 的理由（30 分钟内有效）。",
                     f"Reply with your reason for rejecting {step.order.number} (within 30 minutes).")


def nudge(turn: Turn, order: Order) -> list[Reply]:
    if not may_view_order(turn.uow.session, turn.user, order):
        return turn.error(f"您无权催办订单 {order.number}", f"You may not nudge order {order.number}")
    step = approvals.nudge(turn.uow, order, turn.user, turn.actor, turn.ctx.settings.nudge_interval_minutes)
    names = "、".join(u.display_name for u in approvals.pending_approvers(step))
    return turn.text(f"已催办 {names}", f"Nudged {names}")


def nudge_by_text(turn: Turn, number: str) -> list[Reply]:
    return nudge(turn, orders.get_order(turn.uow.session, number))


def cancel(turn: Turn, number: str, reason: str | None) -> list[Reply]:
    order = orders.get_order(turn.uow.session, number)
    if order.status == OrderStatus.PARTIALLY_SHIPPED.value:
        # What left the warehouse cannot be cancelled: cancelling now means "the rest will not ship".
        fulfilment.cancel_rest(turn.uow, order, turn.user, turn.actor)
        return turn.text(f"订单 {order.number} 剩余未发部分已取消，预留库存已释放；已发部分照常收款。",
                         f"The unshipped rest of {order.number} is cancelled and its stock released; what shipped is still billed.")
    order = orders.cancel_order(turn.uow, turn.user, number, reason, turn.actor)
    return turn.text(f"订单 {order.number} 已取消，预留库存已释放。", f"Order {order.number} is cancelled; its stock was released.")
