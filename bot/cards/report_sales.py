"""Views of the sales reports: trend, product ranking, regions, leaderboard, top customers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Literal

from bot.cards.context import Viewer
from bot.cards.reports import ReportView, signed_percent, slug
from bot.documents.charts import Chart, Panel, Series
from bot.documents.report_sheet import Cell, Column, Table
from bot.i18n import Texts
from bot.i18n.labels import unit_label
from domain.reports.sales import Leaderboard, ProductRanking, Regions, TopCustomers, Trend
from domain.reports.scope import ReportKind
from domain.reports.window import Grain

TOP = 10
ZERO = Decimal("0.00")


def report_chart(v: Viewer, title: str, subtitle: str, panels: Sequence[Panel], legend: bool = False) -> Chart:
    t = v.texts
    return Chart(title=title, subtitle=subtitle, panels=tuple(panels), locale=t.locale, currency=t.currency,
                 empty=t.t("Nothing in this period"), legend=legend)


def _share(part: Decimal, whole: Decimal, t: Texts) -> str:
    return f"{t.number((part * 100 / whole).quantize(Decimal('0.1')))}%" if whole else "—"


def _bucket_label(t: Texts, d: date, grain: Grain, short: bool = False) -> str:
    """A day '11月2日', a week by its Monday ('11月2日当周'; on the chart's axis just the Monday), a month '2026年11月'."""
    if grain == Grain.DAY or (grain == Grain.WEEK and short):
        return t.skeleton(d, "MMMd")
    if grain == Grain.WEEK:
        return t.t("Week of {date}", date=t.skeleton(d, "MMMd"))
    return t.skeleton(d, "yMMM")


# ---------------------------------------------------------------- trend


def trend_view(r: Trend, v: Viewer) -> ReportView:
    t = v.texts
    total, before = r.total, r.previous_total
    previous = t.period_dates(r.previous)
    subtitle = t.t("{period} · compared with {previous}", period=t.period(r.period, v.today), previous=previous)
    labels = [_bucket_label(t, p.start, r.grain) for p in r.points]
    prev = list(r.previous_points[: len(r.points)]) + [None] * max(0, len(r.points) - len(r.previous_points))
    grain = {Grain.DAY: t.t("Day"), Grain.WEEK: t.t("Week"), Grain.MONTH: t.t("Month")}[r.grain]
    rows: list[tuple[Cell, ...]]
    if r.money:
        assert total.amount is not None and before.amount is not None
        line1 = t.tn("{amount} from {n} order, average {average}", "{amount} from {n} orders, average {average}",
                     total.orders, amount=t.money(total.amount), average=t.money(total.average))
        change = r.amount_change
        line2 = (t.t("{change} against {previous} ({amount})", change=signed_percent(t, change), previous=previous,
                     amount=t.money(before.amount)) if change is not None
                 else t.t("Nothing to compare with in {previous}", previous=previous))
        columns: tuple[Column, ...] = (Column(grain), Column(t.t("Amount"), "money"), Column(t.t("Orders"), "count"),
                   Column(t.t("Average order"), "money"), Column(t.t("Previous period"), "money"),
                   Column(t.t("Previous orders"), "count"))
        rows = [(label, p.amount, p.orders, p.average, q.amount if q else None, q.orders if q else None)
                for label, p, q in zip(labels, r.points, prev, strict=True)]
        values = tuple(p.amount or ZERO for p in r.points)
        before_values = tuple((q.amount or ZERO) if q else ZERO for q in prev)
        bar_labels = tuple(t.money(a) for a in values) if len(values) <= 6 else ()
        axis: Literal["money", "count", "quantity", "hours", "days"] = "money"
    else:
        line1 = t.tn("{n} order", "{n} orders", total.orders)
        change = r.orders_change
        line2 = (t.t("{change} against {previous} ({orders})", change=signed_percent(t, change), previous=previous,
                     orders=t.tn("{n} order", "{n} orders", before.orders)) if change is not None
                 else t.t("Nothing to compare with in {previous}", previous=previous))
        columns = (Column(grain), Column(t.t("Orders"), "count"), Column(t.t("Previous orders"), "count"))
        rows = [(label, p.orders, q.orders if q else None) for label, p, q in zip(labels, r.points, prev, strict=True)]
        values = tuple(Decimal(p.orders) for p in r.points)
        before_values = tuple(Decimal(q.orders) if q else ZERO for q in prev)
        bar_labels = tuple(t.number(p.orders) for p in r.points) if len(values) <= 12 else ()
        axis = "count"
    panel = Panel(categories=tuple(_bucket_label(t, p.start, r.grain, short=True) for p in r.points), horizontal=False, axis=axis, series=(
        Series(t.t("This period"), values, "primary", bar_labels),
        Series(t.t("Previous period"), before_values, "previous", line=True)))
    title = t.t("Sales trend")
    nothing = total.orders == 0 and before.orders == 0
    chart = report_chart(v, title, subtitle, [] if nothing else [panel], legend=True)
    # The card lists the days (weeks, months) that had orders, latest first; the spreadsheet has every one.
    busy = tuple(reversed([row for row, p, q in zip(rows, r.points, prev, strict=True) if p.orders or (q and q.orders)]))
    return ReportView(ReportKind.TREND, title, subtitle, (line1, line2), Table(columns, tuple(rows)), chart,
                      slug("sales-trend", r.period.start, r.period.end), card_rows=busy)


# ---------------------------------------------------------------- products


def products_view(r: ProductRanking, v: Viewer, by: str = "amount") -> ReportView:
    t = v.texts
    subtitle = t.period(r.period, v.today)
    units = t.join(v.qty(u.quantity, u.unit) for u in r.by_unit)
    if r.money and by == "amount":
        title = t.t("Product ranking by amount")
        rows = r.by_amount
        top = rows[0] if rows else None
        line1 = (t.t("Top: {name}, {amount} ({quantity})", name=v.name(top), amount=t.money(top.amount),
                     quantity=v.qty(top.quantity, top.unit)) if top and top.amount is not None
                 else t.t("Nothing sold in this period"))
        line2 = t.t("Sold per unit: {units}", units=units) if r.by_unit else t.t("Try another period, such as last month")
        columns: tuple[Column, ...] = (Column(t.t("Rank"), "count"), Column("SKU"), Column(t.t("Product")), Column(t.t("Quantity"), "quantity"),
                   Column(t.t("Unit")), Column(t.t("Amount"), "money"), Column(t.t("Orders"), "count"))
        table_rows: list[tuple[Cell, ...]] = [
            (i, p.sku, v.name(p), p.quantity, unit_label(t, p.unit, p.quantity), p.amount, p.orders)
            for i, p in enumerate(rows, 1)]
        panels = [Panel(categories=tuple(v.name(p) for p in rows), series=(
            Series(t.t("Amount"), tuple(p.amount or ZERO for p in rows), "primary",
                   tuple(t.money(p.amount) for p in rows)),))] if rows else []
        name = "product-ranking"
    else:
        title = t.t("Product ranking by quantity")
        firsts = [u.rows[0] for u in r.by_unit if u.rows]
        line1 = (t.t("Most sold: {items}", items=t.join(f"{v.name(p)} {v.qty(p.quantity, p.unit)}" for p in firsts[:3]))
                 if firsts else t.t("Nothing sold in this period"))
        line2 = t.t("Ranked within each unit, never added across units: {units}", units=units) if r.by_unit else t.t("Try another period, such as last month")
        columns = (Column(t.t("Unit")), Column(t.t("Rank"), "count"), Column("SKU"), Column(t.t("Product")),
                   Column(t.t("Quantity"), "quantity")) + ((Column(t.t("Amount"), "money"),) if r.money else ())
        table_rows = [(unit_label(t, u.unit, p.quantity), i, p.sku, v.name(p), p.quantity)
                      + ((p.amount,) if r.money else ())
                      for u in r.by_unit for i, p in enumerate(u.rows, 1)]
        panels = [Panel(title=t.t("Unit: {unit}", unit=unit_label(t, u.unit, 2)), axis="quantity",
                        categories=tuple(v.name(p) for p in u.rows[:5]),
                        series=(Series(t.t("Quantity"), tuple(p.quantity for p in u.rows[:5]), "primary",
                                       tuple(v.qty(p.quantity, p.unit) for p in u.rows[:5])),))
                  for u in r.by_unit[:3]]
        name = "product-ranking-quantity"
    chart = report_chart(v, title, subtitle, panels)
    return ReportView(ReportKind.PRODUCTS, title, subtitle, (line1, line2), Table(columns, tuple(table_rows)), chart,
                      slug(name, r.period.start, r.period.end))


# ---------------------------------------------------------------- regions


def regions_view(r: Regions, v: Viewer) -> ReportView:
    t = v.texts
    subtitle = t.period(r.period, v.today)
    title = t.t("Customer region distribution")

    def place(name: str) -> str:
        return name or t.t("No region")

    provinces = r.provinces
    total = sum((p.amount or ZERO for p in provinces), ZERO)
    orders = sum(p.orders for p in provinces)
    if provinces:
        first = provinces[0]
        city = place(first.cities[0].city) if first.cities else "—"
        share = _share(first.amount, total, t) if r.money and first.amount is not None else \
            _share(Decimal(first.orders), Decimal(orders), t)
        line1 = t.t("{province} leads with {figure} ({share}), most in {city}", province=place(first.province),
                    figure=t.money(first.amount) if r.money else t.tn("{n} order", "{n} orders", first.orders),
                    share=share, city=city)
        line2 = " · ".join([t.tn("{n} province", "{n} provinces", len(provinces)),
                            t.tn("{n} city", "{n} cities", sum(len(p.cities) for p in provinces)),
                            t.tn("{n} order", "{n} orders", orders)])
    else:
        line1, line2 = t.t("Nothing sold in this period"), t.t("Try another period, such as last month")
    money = (Column(t.t("Amount"), "money"),) if r.money else ()
    columns = (Column(t.t("Province")), Column(t.t("City"))) + money + (
        Column(t.t("Orders"), "count"), Column(t.t("Customers"), "count"))
    rows: list[tuple[Cell, ...]] = []
    for p in provinces:
        rows.append((place(p.province), t.t("All cities")) + ((p.amount,) if r.money else ()) + (p.orders, p.customers))
        rows += [(place(p.province), place(c.city)) + ((c.amount,) if r.money else ()) + (c.orders, c.customers)
                 for c in p.cities]
    shown = provinces[:TOP]
    if r.money:
        series = Series(t.t("Amount"), tuple(p.amount or ZERO for p in shown), "primary",
                        tuple(t.money(p.amount) for p in shown))
    else:
        series = Series(t.t("Orders"), tuple(p.orders for p in shown), "primary", tuple(t.number(p.orders) for p in shown))
    panels = [Panel(categories=tuple(place(p.province) for p in shown), series=(series,),
                    axis="money" if r.money else "count")] if shown else []
    return ReportView(ReportKind.REGIONS, title, subtitle, (line1, line2), Table(columns, tuple(rows)),
                      report_chart(v, title, subtitle, panels), slug("regions", r.period.start, r.period.end))


# ---------------------------------------------------------------- leaderboard


def leaderboard_view(r: Leaderboard, v: Viewer) -> ReportView:
    t = v.texts
    subtitle = t.period(r.period, v.today)
    title = {"amount": t.t("Sales leaderboard by amount ordered"), "collected": t.t("Sales leaderboard by amount collected"),
             "orders": t.t("Sales leaderboard by orders")}[r.by]
    rows = r.rows
    if rows:
        top = rows[0]
        figure = {"amount": t.money(top.amount), "collected": t.money(top.collected),
                  "orders": t.tn("{n} order", "{n} orders", top.orders)}[r.by]
        line1 = t.t("{name} leads with {figure}", name=top.name, figure=figure)
        line2 = t.t("In all {amount} ordered in {orders}, {collected} collected",
                    amount=t.money(sum((x.amount for x in rows), ZERO)),
                    orders=t.tn("{n} order", "{n} orders", sum(x.orders for x in rows)),
                    collected=t.money(sum((x.collected for x in rows), ZERO)))
    else:
        line1, line2 = t.t("Nothing sold in this period"), t.t("Try another period, such as last month")
    columns = (Column(t.t("Rank"), "count"), Column(t.t("Sales")), Column(t.t("Ordered"), "money"),
               Column(t.t("Collected"), "money"), Column(t.t("Orders"), "count"),
               Column(t.t("Approval turnaround"), "hours"))
    table_rows = tuple((i, x.name, x.amount, x.collected, x.orders, x.turnaround_hours) for i, x in enumerate(rows, 1))
    shown = rows[:TOP]
    names = tuple(x.name for x in shown)
    if r.by == "orders":
        panel = Panel(categories=names, axis="count", series=(
            Series(t.t("Orders"), tuple(x.orders for x in shown), "primary", tuple(t.number(x.orders) for x in shown)),))
    else:
        first, second = ("amount", "collected") if r.by == "amount" else ("collected", "amount")
        label = {"amount": t.t("Ordered"), "collected": t.t("Collected")}
        colour = {"amount": "primary", "collected": "collected"}
        panel = Panel(categories=names, series=tuple(
            Series(label[k], tuple(getattr(x, k) for x in shown), colour[k],
                   tuple(t.money(getattr(x, k)) for x in shown) if k == first else ())
            for k in (first, second)))
    chart = report_chart(v, title, subtitle, [panel] if shown else [], legend=r.by != "orders")
    return ReportView(ReportKind.LEADERBOARD, title, subtitle, (line1, line2), Table(columns, table_rows), chart,
                      slug(f"leaderboard-{r.by}", r.period.start, r.period.end))


# ---------------------------------------------------------------- top customers


def customers_view(r: TopCustomers, v: Viewer) -> ReportView:
    t = v.texts
    subtitle = t.period(r.period, v.today)
    title = t.t("Top customers")
    rows = r.rows
    if rows:
        top = rows[0]
        line1 = t.t("{name} bought most: {amount} ({share} of sales)", name=v.name(top), amount=t.money(top.amount),
                    share=_share(top.amount, r.total, t))
        shown_total = sum((x.amount for x in rows), ZERO)
        line2 = t.tn("Top {n}: {share} of {total}", "Top {n}: {share} of {total}", len(rows),
                     share=_share(shown_total, r.total, t), total=t.money(r.total)) + " · " + t.tn(
            "{n} customer bought", "{n} customers bought", r.customers)
    else:
        line1, line2 = t.t("Nothing sold in this period"), t.t("Try another period, such as last month")
    columns = (Column(t.t("Rank"), "count"), Column(t.t("Code")), Column(t.t("Customer")), Column(t.t("Region")),
               Column(t.t("Amount"), "money"), Column(t.t("Orders"), "count"), Column(t.t("Share"), "percent"))
    table_rows = tuple((i, x.code, v.name(x), f"{x.province} {x.city}".strip(), x.amount, x.orders, r.share(x))
                       for i, x in enumerate(rows, 1))
    panels = [Panel(categories=tuple(v.name(x) for x in rows), series=(
        Series(t.t("Amount"), tuple(x.amount for x in rows), "primary", tuple(t.money(x.amount) for x in rows)),))] \
        if rows else []
    return ReportView(ReportKind.CUSTOMERS, title, subtitle, (line1, line2), Table(columns, table_rows),
                      report_chart(v, title, subtitle, panels), slug("top-customers", r.period.start, r.period.end))
