"""Approval cards: the request with 同意 / 驳回 buttons, and the decided version that replaces it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import object_session

from bot.cards.context import Viewer
from bot.cards.model import Button, Card, CardKind, Field, Input, LineTable, Preset, Tone
from bot.cards.orders import line_table
from domain.approvals import PendingItem
from domain.fulfilment import Balance, customer_balance
from domain.messages import N_
from domain.models import ApprovalStep, Order, Role, StepMode, StepStatus

# Preset rejection reasons for platforms whose cards take no free text (WeCom). "other" asks in chat.
REJECT_PRESETS = [
    ("price", N_("Price too low")),
    ("credit", N_("Over credit limit")),
    ("stock", N_("Stock or delivery date")),
    ("other", N_("Other reason…")),
]


def approval_key(step: ApprovalStep) -> str:
    return f"approval:{step.id}"


def step_name(step: ApprovalStep, v: Viewer) -> str:
    return step.name if v.zh or not step.name_en else step.name_en


def rule_titles(step: ApprovalStep, v: Viewer) -> list[str]:
    """Why the step is there, as the rules file words it (never the rule ids)."""
    return [t.get("zh" if v.zh else "en") or t.get("zh", "") for t in (step.reason_titles or [])]


def _fields(order: Order, step: ApprovalStep, v: Viewer) -> list[Field]:
    mode = v.t("any one approver") if step.mode == StepMode.ANY.value else v.t("all approvers")
    return [
        Field(label=v.t("Customer"), value=v.customer(order.customer)),
        Field(label=v.t("Sales"), value=order.sales_user.display_name),
        Field(label=v.t("Total"), value=v.money(order.total)),
        Field(label=v.t("Requested date"), value=v.date(order.requested_date)),
        Field(label=v.t("Step"), value=v.t("{seq}/{steps} {name} · {mode}", seq=step.seq, steps=len(order.steps),
                                           name=step_name(step, v), mode=mode)),
    ]


def _credit_fields(order: Order, v: Viewer, credit: Balance | None) -> list[Field]:
    """Finance decides on credit: the customer's limit, what is open, and what of it is overdue."""
    if credit is None:
        if not v.user.has_role(Role.FINANCE, Role.ADMIN):
            return []
        session = object_session(order)
        if session is None:
            return []
        credit = customer_balance(session, order.customer_id, v.today)
    c = order.customer
    after = credit.open + order.total
    fields = [Field(label=v.t("Credit limit"), value=v.money(c.credit_limit)),
              Field(label=v.t("Open receivables"), value=v.money(credit.open)),
              Field(label=v.t("Overdue receivables"), value=v.money(credit.overdue))]
    if after > c.credit_limit:
        fields.append(Field(label=v.t("With this order"),
                            value=v.t("{amount}, over the limit by {over}", amount=v.money(after),
                                      over=v.money(after - c.credit_limit))))
    return fields


def approval_request_card(order: Order, step: ApprovalStep, v: Viewer, credit: Balance | None = None) -> Card:
    titles = rule_titles(step, v)
    name = step_name(step, v)
    return Card(
        kind=CardKind.APPROVAL_REQUEST,
        key=approval_key(step),
        locale=v.locale,
        title=v.t("Approval needed: order {number}", number=order.number),
        preview=v.both("Approval needed: order {number}", number=order.number),
        tone=Tone.INFO,
        subtitle=v.t("Submitted by {who}, total {total}", who=order.sales_user.display_name, total=v.money(order.total)),
        fields=_fields(order, step, v) + _credit_fields(order, v, credit),
        table=line_table(order, v, max_rows=40),
        text=([v.t("Why: {reasons}", reasons=v.texts.join(titles))] if titles else []) + ([order.notes] if order.notes else []),
        context=f"{order.number} · {name}",
        buttons=[
            Button(action="approve", label=v.t("Approve"), style="primary",
                   token=v.token("approve", step.id),
                   confirm=v.t("Approve order {number} ({total})?", number=order.number, total=v.money(order.total)),
                   command=v.t("approve {number}", number=order.number)),
            Button(action="reject", label=v.t("Reject"), style="danger",
                   token=v.token("reject", step.id),
                   confirm=v.t("Reject order {number}?", number=order.number),
                   inputs=[Input(name="reason", label=v.t("Reason for rejection"), multiline=True,
                                 placeholder=v.t("Tell the sales person why"))],
                   presets=[Preset(label=v.t(label), token=v.token("reject", step.id, 0, code))
                            for code, label in REJECT_PRESETS],
                   command=v.t("reject {number} reason", number=order.number)),
        ],
        data={"order_no": order.number, "customer": v.name(order.customer), "total": v.money(order.total),
              "sales": order.sales_user.display_name, "step": name, "status": "pending"},
    )


def approval_decided_card(order: Order, step: ApprovalStep, v: Viewer) -> Card:
    """Buttons replaced by "已同意 · 王经理 · 14:03" / "Approved by 王经理 · 14:03"."""
    approved = step.status == StepStatus.APPROVED.value
    if step.status in (StepStatus.APPROVED.value, StepStatus.REJECTED.value):
        who = step.decided_by.display_name if step.decided_by else "—"
        at = v.when(step.decided_at)
        verdict = (v.t("Approved by {who} · {at}", who=who, at=at) if approved
                   else v.t("Rejected by {who} · {at}", who=who, at=at))
    else:
        verdict = v.t("Approval closed (order cancelled)")
    text = []
    if step.reason and not approved:
        text.append(v.t("Reason: {reason}", reason=step.reason))
    partial = [a for a in step.assignments if a.status == StepStatus.APPROVED.value]
    if step.mode == StepMode.ALL.value and partial:
        text.append(v.t("Approved so far: {names}", names=v.texts.join(a.user.display_name for a in partial)))
    return Card(
        kind=CardKind.APPROVAL_DECIDED,
        key=approval_key(step),
        locale=v.locale,
        title=v.t("Order {number} approval", number=order.number),
        preview=v.both("Order {number} approval", number=order.number),
        tone=Tone.SUCCESS if approved else Tone.DANGER,
        subtitle=verdict,
        fields=_fields(order, step, v),
        text=text,
        context=verdict,
        data={"order_no": order.number, "customer": v.name(order.customer), "total": v.money(order.total),
              "sales": order.sales_user.display_name, "step": step_name(step, v),
              "status": "approved" if approved else ("rejected" if step.status == "rejected" else "closed")},
        verdict=verdict,
    )


def approval_progress_card(order: Order, step: ApprovalStep, v: Viewer) -> Card:
    """会签 in progress: this approver has decided, others still pending — no buttons for them any more."""
    mine = next((a for a in step.assignments if a.user_id == v.user.id), None)
    done = v.texts.join(a.user.display_name for a in step.assignments if a.status == StepStatus.APPROVED.value)
    waiting = v.texts.join(a.user.display_name for a in step.assignments if a.status == StepStatus.PENDING.value)
    card = approval_request_card(order, step, v)
    if mine is not None and mine.status != StepStatus.PENDING.value:
        card.buttons = []
        card.kind = CardKind.APPROVAL_DECIDED
    card.context = v.t("Approved: {done} · waiting: {waiting}", done=done, waiting=waiting)
    return card


LIST_ROWS = 10


def approval_list_card(items: Sequence[PendingItem], v: Viewer) -> Card:
    """Many approvals at once: one row per order (oldest request first) and a decide button each, which opens
    that order's full card."""
    shown = items[:LIST_ROWS]
    cols = [v.t("Order"), v.t("Customer"), v.t("Total"), v.t("Step"), v.t("Waiting since")]
    rows = [[i.order.number, v.name(i.order.customer), v.money(i.order.total), step_name(i.step, v),
             v.when(i.step.opened_at)] for i in shown]
    more = len(items) - len(shown)
    return Card(
        kind=CardKind.APPROVAL_LIST, locale=v.locale, tone=Tone.INFO,
        title=v.tn("{n} order waits for your approval", "{n} orders wait for your approval", len(items)),
        table=LineTable(columns=cols, rows=rows,
                        note=v.tn("…and {n} more: decide these first", "…and {n} more: decide these first", more)
                        if more else None),
        buttons=[Button(action="open_approval", label=v.t("Decide {number}", number=i.order.number),
                        token=v.token("open_approval", i.step.id), command=i.order.number) for i in shown],
        context=v.t("Each button opens the order's approval card"),
    )


def reject_confirm_card(order: Order, step: ApprovalStep, reason: str, v: Viewer) -> Card:
    """The typed reason, echoed back before anything is rejected: 确认驳回 / 取消 (also by replying 确认 / 取消)."""
    return Card(
        kind=CardKind.REJECT_CONFIRM,
        locale=v.locale,
        title=v.t("Reject order {number}?", number=order.number),
        tone=Tone.WARNING,
        fields=[Field(label=v.t("Reason for rejection"), value=reason),
                Field(label=v.t("Customer"), value=v.name(order.customer)),
                Field(label=v.t("Total"), value=v.money(order.total))],
        text=[v.t("You can also reply 'confirm' or 'cancel'; any other text becomes the new reason.")],
        buttons=[Button(action="confirm_reject", label=v.t("Confirm rejection"), style="danger",
                        token=v.token("confirm_reject", step.id), command=v.t("confirm")),
                 Button(action="cancel_prompt", label=v.t("Cancel"), token=v.token("cancel_prompt", step.id),
                        command=v.t("cancel"))],
        data={"order_no": order.number, "reason": reason},
    )
