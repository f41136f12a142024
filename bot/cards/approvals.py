"""Approval cards: the request with 同意 / 驳回 buttons, and the decided version that replaces it."""

from __future__ import annotations

from bot.cards.context import Viewer
from bot.cards.model import Button, Card, Field, Input, Preset, Tone
from bot.cards.orders import line_table
from bot.i18n import fmt_clock, fmt_date
from domain.models import ApprovalStep, Order, StepMode, StepStatus

# Preset rejection reasons for platforms whose cards take no free text (WeCom). "other" asks in chat.
REJECT_PRESETS = [
    ("price", "价格过低", "Price too low"),
    ("credit", "超出信用额度", "Over credit limit"),
    ("stock", "库存或交期问题", "Stock or delivery date"),
    ("other", "其他原因…", "Other reason…"),
]


def approval_key(step: ApprovalStep) -> str:
    return f"approval:{step.id}"


def _fields(order: Order, step: ApprovalStep, v: Viewer) -> list[Field]:
    mode = v.t("any one approver") if step.mode == StepMode.ANY.value else v.t("all approvers")
    return [
        Field(label=v.t("Customer"), value=f"{order.customer.name}（{order.customer.code}）"),
        Field(label=v.t("Sales"), value=order.sales_user.display_name),
        Field(label=v.t("Total"), value=v.money(order.total)),
        Field(label=v.t("Requested date"), value=fmt_date(order.requested_date)),
        Field(label=v.t("Step"), value=f"{step.seq}/{len(order.steps)} {step.name} · {mode}"),
    ]


def approval_request_card(order: Order, step: ApprovalStep, v: Viewer) -> Card:
    zh = v.locale.startswith("zh")
    reasons = step.reasons.replace(",", ", ")
    return Card(
        kind="approval_request",
        key=approval_key(step),
        locale=v.locale,
        title=v.t("Approval needed: order {number}", number=order.number),
        tone=Tone.INFO,
        subtitle=v.t("Submitted by {display_name}, total {total}", display_name=order.sales_user.display_name, total=v.money(order.total)),
        fields=_fields(order, step, v),
        table=line_table(order, v, max_rows=40),
        text=[v.t("Rules: {reasons}", reasons=reasons)] + ([order.notes] if order.notes else []),
        context=f"{order.number} · {step.name}",
        buttons=[
            Button(action="approve", label=v.t("Approve"), style="primary",
                   token=v.token("approve", step.id),
                   confirm=v.t("Approve order {number} ({total})?", number=order.number, total=v.money(order.total)),
                   command=f"同意 {order.number}" if zh else f"approve {order.number}"),
            Button(action="reject", label=v.t("Reject"), style="danger",
                   token=v.token("reject", step.id),
                   confirm=v.t("Reject order {number}?", number=order.number),
                   inputs=[Input(name="reason", label=v.t("Reason for rejection"), multiline=True,
                                 placeholder=v.t("Tell the sales person why"))],
                   presets=[Preset(label=v.t(z, e), token=v.token("reject", step.id, 0, code))
                            for code, z, e in REJECT_PRESETS],
                   command=f"驳回 {order.number} 理由" if zh else f"reject {order.number} reason"),
        ],
        data={"order_no": order.number, "customer": order.customer.name, "total": v.money(order.total),
              "sales": order.sales_user.display_name, "step": step.name, "status": "pending"},
    )


def approval_decided_card(order: Order, step: ApprovalStep, v: Viewer) -> Card:
    """Buttons replaced by "已同意 · 王经理 · 14:03" / "Approved by 王经理 · 14:03"."""
    approved = step.status == StepStatus.APPROVED.value
    if step.status in (StepStatus.APPROVED.value, StepStatus.REJECTED.value):
        who = step.decided_by.display_name if step.decided_by else "—"
        at = fmt_clock(step.decided_at, v.tz)
        verdict = (v.t("Approved by {who} · {at}", who=who, at=at) if approved
                   else v.t("Rejected by {who} · {at}", who=who, at=at))
    else:
        verdict = v.t("Approval closed (order cancelled)")
    text = []
    if step.reason and not approved:
        text.append(v.t("Reason: {reason}", reason=step.reason))
    partial = [a for a in step.assignments if a.status == StepStatus.APPROVED.value]
    if step.mode == StepMode.ALL.value and partial:
        text.append(v.t("Approved so far: ") + "、".join(a.user.display_name for a in partial))
    return Card(
        kind="approval_decided",
        key=approval_key(step),
        locale=v.locale,
        title=v.t("Order {number} approval", number=order.number),
        tone=Tone.SUCCESS if approved else Tone.DANGER,
        subtitle=verdict,
        fields=_fields(order, step, v),
        text=text,
        context=verdict,
        data={"order_no": order.number, "customer": order.customer.name, "total": v.money(order.total),
              "sales": order.sales_user.display_name, "step": step.name,
              "status": "approved" if approved else ("rejected" if step.status == "rejected" else "closed"),
              "verdict": verdict},
    )


def approval_progress_card(order: Order, step: ApprovalStep, v: Viewer) -> Card:
    """会签 in progress: this approver has decided, others still pending — no buttons for them any more."""
    mine = next((a for a in step.assignments if a.user_id == v.user.id), None)
    done = "、".join(a.user.display_name for a in step.assignments if a.status == StepStatus.APPROVED.value)
    waiting = "、".join(a.user.display_name for a in step.assignments if a.status == StepStatus.PENDING.value)
    card = approval_request_card(order, step, v)
    if mine is not None and mine.status != StepStatus.PENDING.value:
        card.buttons = []
        card.kind = "approval_decided"
    card.context = v.t("Approved: {value} · waiting: {value_2}", value=done or '—', value_2=waiting or '—')
    return card
