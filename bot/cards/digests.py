"""The digests as people read them: the daily card (a manager's or an admin's morning), a sales person's own line,
the one line of a quiet day, and the card listing someone's subscriptions.

The weekly digest is two report cards (trend with its chart, leaderboard), built by bot.digests with the reports'
own views; only their titles say they are the weekly digest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from bot.cards.context import Viewer
from bot.cards.model import Button, Card, CardKind, Field, Tone
from bot.cards.reports import signed_percent
from domain.reports.digest import Daily
from domain.subscriptions import DigestKind

# The lists a daily card's buttons open (bot.handlers.digests.LISTS runs the same handler as the command), in order.
LISTS = ("approvals", "overdue", "low_stock", "tasks")
LOW_STOCK_NAMED = 3


def _sales(d: Daily, v: Viewer) -> str:
    t = v.texts
    figures = t.tn("{n} order, {amount}", "{n} orders, {amount}", d.orders, amount=t.money(d.amount))
    previous = t.period_dates(d.previous)
    change = d.amount_change
    comparison = (t.t("{change} against {previous} ({amount})", change=signed_percent(t, change), previous=previous,
                      amount=t.money(d.previous_amount)) if change is not None
                  else t.t("Nothing to compare with in {previous}", previous=previous))
    return t.t("{figures}; {comparison}", figures=figures, comparison=comparison)


def _approvals(d: Daily, v: Viewer) -> str:
    t = v.texts
    lines = []
    if d.approvals and d.oldest_approval is not None:
        a = d.oldest_approval
        lines.append(t.tn("{n} waiting; longest {number} ({step}) since {since}",
                          "{n} waiting; longest {number} ({step}) since {since}", d.approvals,
                          number=a.number, step=a.step, since=v.when(a.since)))
    if d.approvals_mine:
        lines.append(t.tn("{n} waits for your decision", "{n} wait for your decision", d.approvals_mine))
    return "\n".join(lines) or t.t("none")


def _overdue(d: Daily, v: Viewer) -> str:
    if not d.overdue:
        return v.t("none")
    return v.tn("{n} receivable, {amount} open, longest {days} days overdue",
                "{n} receivables, {amount} open, longest {days} days overdue", d.overdue,
                amount=v.money(d.overdue_amount), days=d.longest_overdue_days)


def _low_stock(d: Daily, v: Viewer) -> str:
    if not d.low_stock:
        return v.t("none")
    named = v.texts.join(v.t("{sku} ({warehouse})", sku=x.sku, warehouse=x.warehouse) for x in d.low_stock[:LOW_STOCK_NAMED])
    return v.tn("{n} below safety stock: {items}", "{n} below safety stock: {items}", len(d.low_stock), items=named)


def _late_tasks(d: Daily, v: Viewer) -> str:
    if not d.late_tasks or d.oldest_late_task is None:
        return v.t("none")
    x = d.oldest_late_task
    return v.tn("{n} past the requested date; oldest {ref} (order {number}, requested {date})",
                "{n} past the requested date; oldest {ref} (order {number}, requested {date})", d.late_tasks,
                ref=x.ref, number=x.number, date=v.date(x.requested))


def _list_button(v: Viewer, which: str, label: str, command: str) -> Button:
    return Button(action="digest_list", label=label, token=v.token("digest_list", v.user.id, arg=which), command=command)


def daily_card(d: Daily, v: Viewer, today: date, context: str, lists: Sequence[str]) -> Card:
    """`lists`: which of LISTS the reader can open (and that have something in them): a button each."""
    t = v.texts
    labels = {
        "approvals": (t.tn("My approvals ({n})", "My approvals ({n})", d.approvals_mine), t.t("pending")),
        "overdue": (t.t("Overdue receivables"), t.t("overdue")),
        "low_stock": (t.t("Low stock"), t.t("low stock")),
        "tasks": (t.t("Shipping tasks"), t.t("tasks")),
    }
    warning = bool(d.overdue or d.low_stock or d.late_tasks)
    return Card(
        kind=CardKind.DAILY_DIGEST, locale=v.locale, tone=Tone.WARNING if warning else Tone.INFO,
        title=t.t("Daily digest · {date}", date=t.skeleton(today, "MMMd")),
        subtitle=t.t("Sales {period}", period=t.period(d.covered, today)),
        fields=[
            Field(label=t.t("Sales"), value=_sales(d, v)),
            Field(label=t.t("Approvals waiting"), value=_approvals(d, v)),
            Field(label=t.t("Overdue receivables"), value=_overdue(d, v)),
            Field(label=t.t("Low stock"), value=_low_stock(d, v)),
            Field(label=t.t("Late shipping tasks"), value=_late_tasks(d, v)),
        ],
        context=context,
        buttons=[_list_button(v, w, *labels[w]) for w in LISTS if w in lists],
        data={"digest": DigestKind.DAILY.value, "date": today.isoformat()},
    )


def daily_line(d: Daily, v: Viewer, today: date) -> str:
    """A sales person's own daily digest: one line about their orders, approvals, receivables and tasks."""
    t = v.texts
    parts = [_sales(d, v)]
    if d.approvals:
        parts.append(t.tn("{n} order waiting for approval", "{n} orders waiting for approval", d.approvals))
    if d.overdue:
        parts.append(t.tn("{n} overdue receivable, {amount}", "{n} overdue receivables, {amount}", d.overdue,
                          amount=t.money(d.overdue_amount)))
    if d.late_tasks:
        parts.append(t.tn("{n} shipping task past its requested date", "{n} shipping tasks past their requested date",
                          d.late_tasks))
    return t.t("Your daily digest, {period}: {parts}", period=t.period(d.covered, today), parts=parts)


def quiet_line(kind: DigestKind, v: Viewer, period: str) -> str:
    if kind == DigestKind.DAILY:
        return v.t("Daily digest, {period}: all quiet — no orders, nothing waiting.", period=period)
    return v.t("Weekly digest, {period}: all quiet — no orders last week or the week before.", period=period)


def weekly_title(v: Viewer, title: str) -> str:
    return v.t("Weekly digest · {title}", title=title)


def subscriptions_card(v: Viewer, chosen: dict[DigestKind, bool], at: time, today: date) -> Card:
    """Which digests someone receives, each with the button (and the command) that changes it."""
    t = v.texts
    clock = t.time(datetime.combine(today, at, v.tz))
    state = {
        DigestKind.DAILY: (t.t("Daily digest"), t.t("On: every work day at {time}", time=clock)),
        DigestKind.WEEKLY: (t.t("Weekly digest"), t.t("On: the first work day of each week at {time}", time=clock)),
    }
    fields, buttons = [], []
    for kind in DigestKind:
        label, on = state[kind]
        fields.append(Field(label=label, value=on if chosen[kind] else t.t("Off")))
        if chosen[kind]:
            text, command = (t.t("Unsubscribe daily"), t.t("unsubscribe daily")) if kind == DigestKind.DAILY else (
                t.t("Unsubscribe weekly"), t.t("unsubscribe weekly"))
        else:
            text, command = (t.t("Subscribe daily"), t.t("subscribe daily")) if kind == DigestKind.DAILY else (
                t.t("Subscribe weekly"), t.t("subscribe weekly"))
        arg = f"{kind.value}-{'off' if chosen[kind] else 'on'}"
        buttons.append(Button(action="digest_sub", label=text, token=v.token("digest_sub", v.user.id, arg=arg),
                              style="default" if chosen[kind] else "primary", command=command))
    return Card(kind=CardKind.SUBSCRIPTIONS, locale=v.locale, tone=Tone.NEUTRAL, title=t.t("Your digests"), fields=fields,
                buttons=buttons, text=[t.t("Days off and holidays have no digest.")])
