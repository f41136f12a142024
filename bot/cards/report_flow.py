"""Views of the receivables and flow reports: ageing, approval cycle time, fulfilment lead time."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from bot.cards.context import Viewer
from bot.cards.report_sales import TOP, report_chart
from bot.cards.reports import ReportView, slug
from bot.documents.charts import Panel, Series
from bot.documents.report_sheet import Cell, Column, Table
from domain.reports.flow import ApprovalCycle, LeadTime
from domain.reports.receivables import Ageing
from domain.reports.scope import ReportKind

ZERO = Decimal("0.00")


def ageing_view(r: Ageing, v: Viewer) -> ReportView:
    t = v.texts
    title = t.t("Receivables ageing")
    subtitle = (t.t("Open on {date}, by customer", date=t.date(r.as_of)) if r.by == "customer"
                else t.t("Open on {date}, by sales person", date=t.date(r.as_of)))
    buckets = (t.t("0–30 days"), t.t("31–60 days"), t.t("61–90 days"), t.t("Over 90 days"))
    totals = r.totals
    if r.rows:
        late = totals[1] + totals[2] + totals[3]
        line1 = t.t("{total} open, {late} of it more than 30 days past due", total=t.money(r.total), late=t.money(late))
        top = r.rows[0]
        line2 = t.t("Over 90 days: {amount} · largest: {name} {open}", amount=t.money(totals[3]),
                    name=v.name(top) if r.by == "customer" else top.name, open=t.money(top.total))
    else:
        line1, line2 = t.t("No open receivables"), t.t("Everything billed is paid")
    who = t.t("Customer") if r.by == "customer" else t.t("Sales")
    columns = (Column(who),) + tuple(Column(b, "money") for b in buckets) + (Column(t.t("Grand total"), "money"),)

    def name(row: object) -> str:
        return v.name(row) if r.by == "customer" else row.name  # type: ignore[arg-type,attr-defined]

    rows: list[tuple[Cell, ...]] = [(name(x), *x.buckets, x.total) for x in r.rows]
    if r.rows:
        rows.append((t.t("Grand total"), *totals, r.total))
    shown = r.rows[:TOP]
    panels = [Panel(categories=tuple(name(x) for x in shown), stacked=True, series=tuple(
        Series(buckets[i], tuple(x.buckets[i] for x in shown), f"age{i}",
               tuple(t.money(x.total) for x in shown) if i == 3 else ())
        for i in range(4)))] if shown else []
    chart = report_chart(v, title, subtitle, panels, legend=True)
    return ReportView(ReportKind.AGEING, title, subtitle, (line1, line2), Table(columns, tuple(rows)), chart,
                      slug(f"ageing-by-{r.by}", r.as_of))


def _weighted(pairs: list[tuple[Decimal | None, int]]) -> Decimal | None:
    n = sum(k for a, k in pairs if a is not None)
    if not n:
        return None
    return (sum((a * k for a, k in pairs if a is not None), Decimal(0)) / n).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def approvals_view(r: ApprovalCycle, v: Viewer) -> ReportView:
    t = v.texts
    title = t.t("Approval cycle time")
    subtitle = t.period(r.period, v.today)

    def step(x: object) -> str:
        return x.name if v.zh or not x.name_en else x.name_en  # type: ignore[attr-defined]

    def hours(h: Decimal | None) -> str:
        return t.t("{hours} h", hours=t.number(h)) if h is not None else "—"

    timed = [x for x in r.steps if x.average_hours is not None]
    if timed:
        slow = max(timed, key=lambda x: x.average_hours or ZERO)
        line1 = t.t("Slowest step: {step}, {hours} on average", step=step(slow), hours=hours(slow.average_hours))
    else:
        line1 = t.t("No approvals decided in this period")
    waiting = [x for x in r.steps if x.waiting]
    if waiting:
        oldest = max((x.oldest_wait_hours or ZERO) for x in waiting)
        line2 = t.tn("{n} order waiting now, the oldest for {hours}", "{n} orders waiting now, the oldest for {hours}",
                     sum(x.waiting for x in waiting), hours=hours(oldest))
    else:
        line2 = t.t("Nothing waiting for approval")
    columns = (Column(t.t("Step")), Column(t.t("Decided"), "count"), Column(t.t("Average"), "hours"),
               Column(t.t("Longest"), "hours"), Column(t.t("Waiting now"), "count"), Column(t.t("Oldest waiting"), "hours"))
    rows = tuple((step(x), x.decided, x.average_hours, x.longest_hours, x.waiting, x.oldest_wait_hours) for x in r.steps)
    panels = [Panel(categories=tuple(step(x) for x in timed), axis="hours", series=(
        Series(t.t("Average"), tuple(x.average_hours or ZERO for x in timed), "primary",
               tuple(hours(x.average_hours) for x in timed)),
        Series(t.t("Longest"), tuple(x.longest_hours or ZERO for x in timed), "previous",
               tuple(hours(x.longest_hours) for x in timed))))] if timed else []
    chart = report_chart(v, title, subtitle, panels, legend=True)
    return ReportView(ReportKind.APPROVALS, title, subtitle, (line1, line2), Table(columns, rows), chart,
                      slug("approval-cycle", r.period.start, r.period.end))


def fulfilment_view(r: LeadTime, v: Viewer) -> ReportView:
    t = v.texts
    title = t.t("Fulfilment lead time")
    subtitle = t.period(r.period, v.today)

    def days(d: Decimal | None) -> str:
        return t.t("{days} d", days=t.number(d)) if d is not None else "—"

    shipped = sum(x.shipped for x in r.warehouses)
    overall = _weighted([(x.average_days, x.shipped) for x in r.warehouses])
    line1 = (t.tn("Approved to shipped in {days} on average ({n} task)",
                  "Approved to shipped in {days} on average ({n} tasks)", shipped, days=days(overall))
             if shipped else t.t("Nothing shipped yet from the orders of this period"))
    still = sum(x.open for x in r.warehouses)
    if still:
        oldest = max((x.oldest_open_days or ZERO) for x in r.warehouses if x.open)
        line2 = t.tn("{n} task not yet shipped, the oldest approved {days} ago",
                     "{n} tasks not yet shipped, the oldest approved {days} ago", still, days=days(oldest))
    else:
        line2 = t.t("Every approved order of this period has shipped")
    columns = (Column(t.t("Warehouse")), Column(t.t("Shipped"), "count"), Column(t.t("Average"), "days"),
               Column(t.t("Longest"), "days"), Column(t.t("Not yet shipped"), "count"),
               Column(t.t("Oldest waiting"), "days"))
    rows = tuple((x.name, x.shipped, x.average_days, x.longest_days, x.open, x.oldest_open_days) for x in r.warehouses)
    timed = [x for x in r.warehouses if x.average_days is not None]
    panels = [Panel(categories=tuple(x.name for x in timed), axis="days", series=(
        Series(t.t("Average"), tuple(x.average_days or ZERO for x in timed), "primary",
               tuple(days(x.average_days) for x in timed)),
        Series(t.t("Longest"), tuple(x.longest_days or ZERO for x in timed), "previous",
               tuple(days(x.longest_days) for x in timed))))] if timed else []
    chart = report_chart(v, title, subtitle, panels, legend=True)
    return ReportView(ReportKind.FULFILMENT, title, subtitle, (line1, line2), Table(columns, rows), chart,
                      slug("fulfilment-lead-time", r.period.start, r.period.end))
