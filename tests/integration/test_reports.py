"""Each report's figures over the fixed data set (tests/reports_world.py), worked out by hand, and who sees what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import PermissionDenied
from domain.models import User
from domain.parsing import Period, period
from domain.reports import Grain, ScopeKind, scope_for
from domain.reports.flow import approval_cycle, lead_time
from domain.reports.receivables import ageing
from domain.reports.sales import leaderboard, products, regions, top_customers, trend
from tests.reports_world import NOW, SH, TODAY, build_report_world

THIS_MONTH = period("本月", today=TODAY)
D = Decimal


@pytest.fixture
def world(session_factory):
    w = build_report_world(session_factory)
    with session_factory() as s:
        yield w, s


def scope(s, w, who):
    return scope_for(s, s.get(User, w[who]))


def test_trend_against_the_previous_period(world):
    w, s = world
    r = trend(s, scope(s, w, "admin"), THIS_MONTH, SH)
    assert r.grain == Grain.DAY and len(r.points) == 23 and r.previous == Period(date(2026, 10, 1), date(2026, 10, 23), "month")
    assert (r.total.amount, r.total.orders, r.total.average) == (D("12475.00"), 5, D("2495.00"))
    assert (r.previous_total.amount, r.previous_total.orders) == (D("4750.00"), 2)
    assert r.amount_change == D("162.6") and r.orders_change == D("150.0")
    by_day = {p.start: (p.amount, p.orders) for p in r.points if p.orders}
    # 2026-10-31 16:30 UTC is November 1st in Shanghai: the configured zone decides the day
    assert by_day == {date(2026, 11, 1): (D("355.00"), 1), date(2026, 11, 2): (D("3700.00"), 1),
                      date(2026, 11, 3): (D("1420.00"), 1), date(2026, 11, 10): (D("3400.00"), 1),
                      date(2026, 11, 20): (D("3600.00"), 1)}
    last_month = trend(s, scope(s, w, "admin"), period("上月", today=TODAY), SH, Grain.WEEK)
    assert (last_month.total.amount, last_month.total.orders) == (D("6110.00"), 3)  # the rejected one is not a sale
    assert (last_month.previous_total.amount, last_month.amount_change) == (D("600.00"), D("918.3"))
    assert [p.start for p in last_month.points][:2] == [date(2026, 9, 28), date(2026, 10, 5)]  # weeks start on Monday


def test_product_ranking_by_amount_and_by_quantity_per_unit(world):
    w, s = world
    r = products(s, scope(s, w, "admin"), THIS_MONTH, SH)
    assert [(p.sku, p.amount, p.quantity, p.unit) for p in r.by_amount] == [
        ("SKU-001", D("5800.00"), 50, "盒"), ("SKU-003", D("3400.00"), 5, "桶"), ("SKU-002", D("1775.00"), 50, "个"),
        ("SKU-004", D("1500.00"), 300, "米")]
    # quantities ranked within each unit and summed per unit only: boxes are never added to metres
    assert [(u.unit, u.quantity, [p.sku for p in u.rows]) for u in r.by_unit] == [
        ("个", 50, ["SKU-002"]), ("盒", 50, ["SKU-001"]), ("桶", 5, ["SKU-003"]), ("米", 300, ["SKU-004"])]


def test_region_distribution_by_province_then_city(world):
    w, s = world
    r = regions(s, scope(s, w, "admin"), THIS_MONTH, SH)
    assert [(p.province, p.amount, p.orders, p.customers) for p in r.provinces] == [
        ("浙江", D("7300.00"), 2, 2), ("广东", D("5175.00"), 3, 2)]
    assert [(c.city, c.amount, c.orders) for c in r.provinces[0].cities] == [("杭州", D("3700.00"), 1), ("宁波", D("3600.00"), 1)]
    assert [(c.city, c.amount, c.orders) for c in r.provinces[1].cities] == [("深圳", D("3400.00"), 1), ("广州", D("1775.00"), 2)]


def test_leaderboard_by_amount_collected_and_orders_with_approval_turnaround(world):
    w, s = world
    r = leaderboard(s, scope(s, w, "admin"), THIS_MONTH, SH)
    assert [(x.name, x.amount, x.collected, x.orders, x.turnaround_hours) for x in r.rows] == [
        ("李四", D("5475.00"), D("1200.00"), 3, D("5.7")), ("张伟", D("3600.00"), D("3600.00"), 1, D("3.0")),
        ("Amy Chen", D("3400.00"), D("1000.00"), 1, D("1.0"))]
    assert [x.name for x in leaderboard(s, scope(s, w, "admin"), THIS_MONTH, SH, "collected").rows] == ["张伟", "李四", "Amy Chen"]
    assert [x.name for x in leaderboard(s, scope(s, w, "admin"), THIS_MONTH, SH, "orders").rows] == ["李四", "张伟", "Amy Chen"]


def test_top_customers_with_their_share(world):
    w, s = world
    r = top_customers(s, scope(s, w, "admin"), THIS_MONTH, SH)
    assert [(x.code, x.amount, x.orders) for x in r.rows] == [
        ("C001", D("3700.00"), 1), ("C003", D("3600.00"), 1), ("C002", D("3400.00"), 1), ("C004", D("1775.00"), 2)]
    assert (r.total, r.customers, r.share(r.rows[0])) == (D("12475.00"), 4, D("29.7"))


def test_receivables_ageing_by_customer_and_by_sales_person(world):
    w, s = world
    r = ageing(s, scope(s, w, "fin"), TODAY)
    assert [(x.name, x.buckets) for x in r.rows] == [
        ("杭州华兴电子有限公司", (D("0.00"), D("0.00"), D("5000.00"), D("0.00"))),  # 84 days past due
        ("ACME Trading Ltd", (D("3910.00"), D("0.00"), D("0.00"), D("800.00"))),  # 4 days, not yet due; 145 days
        ("广州粤海五金", (D("1420.00"), D("0.00"), D("0.00"), D("0.00")))]  # not yet due
    assert (r.totals, r.total) == ((D("5330.00"), D("0.00"), D("5000.00"), D("800.00")), D("11130.00"))
    by_sales = ageing(s, scope(s, w, "fin"), TODAY, "sales")
    assert [(x.name, x.total) for x in by_sales.rows] == [("李四", D("6420.00")), ("Amy Chen", D("4710.00"))]


def test_approval_cycle_time_per_step(world):
    w, s = world
    r = approval_cycle(s, scope(s, w, "admin"), THIS_MONTH, SH, NOW)
    assert [(x.name, x.decided, x.average_hours, x.longest_hours, x.waiting, x.oldest_wait_hours) for x in r.steps] == [
        ("销售经理审批", 5, D("3.2"), D("6.0"), 1, D("24.0")), ("财务审批", 1, D("5.0"), D("5.0"), 0, None)]


def test_fulfilment_lead_time_per_warehouse(world):
    w, s = world
    r = lead_time(s, scope(s, w, "admin"), THIS_MONTH, SH, NOW)
    assert [(x.code, x.shipped, x.average_days, x.open, x.oldest_open_days) for x in r.warehouses] == [
        ("WH-GZ", 1, D("2.0"), 2, D("22.1")), ("WH-SH", 1, D("1.0"), 1, D("20.8"))]


def test_who_sees_what(world):
    w, s = world
    assert scope(s, w, "admin").kind == scope(s, w, "fin").kind == ScopeKind.ALL
    team = scope(s, w, "boss")
    assert team.kind == ScopeKind.TEAM and team.user_ids == {w["boss"], w["sales"], w["sales2"]}
    # a sales person: their own figures in every report
    own = scope(s, w, "sales")
    assert trend(s, own, THIS_MONTH, SH).total.amount == D("5475.00")
    assert [x.name for x in leaderboard(s, own, THIS_MONTH, SH).rows] == ["李四"]
    assert [x.code for x in top_customers(s, own, THIS_MONTH, SH).rows] == ["C001", "C004"]
    assert [x.total for x in ageing(s, own, TODAY).rows] == [D("5000.00"), D("1420.00")]
    # a manager: the team (李四 and Amy), not 张伟 of the other manager
    assert trend(s, team, THIS_MONTH, SH).total.amount == D("8875.00")
    assert [x.name for x in leaderboard(s, team, THIS_MONTH, SH).rows] == ["李四", "Amy Chen"]
    other = scope(s, w, "boss2")
    assert trend(s, other, THIS_MONTH, SH).total.amount == D("3600.00") and ageing(s, other, TODAY).rows == ()
    # warehouse staff: their warehouse, no money, and only the goods reports
    wh = scope(s, w, "wh")
    assert wh.kind == ScopeKind.WAREHOUSE and not wh.money
    r = trend(s, wh, THIS_MONTH, SH)
    assert (r.total.amount, r.total.orders, r.previous_total.orders) == (None, 2, 1)
    ranked = products(s, wh, THIS_MONTH, SH)
    assert ranked.by_amount == () and all(p.amount is None for u in ranked.by_unit for p in u.rows)
    assert [(u.unit, u.quantity) for u in ranked.by_unit] == [("盒", 50), ("米", 300)]
    assert all(p.amount is None for p in regions(s, wh, THIS_MONTH, SH).provinces)
    assert [x.code for x in lead_time(s, wh, THIS_MONTH, SH, NOW).warehouses] == ["WH-SH"]
    for report in (lambda: leaderboard(s, wh, THIS_MONTH, SH), lambda: top_customers(s, wh, THIS_MONTH, SH),
                   lambda: ageing(s, wh, TODAY), lambda: approval_cycle(s, wh, THIS_MONTH, SH, NOW)):
        with pytest.raises(PermissionDenied):
            report()


def test_ageing_buckets_at_their_edges_are_the_statements(world, session_factory):
    """The SQL buckets (date bounds) agree with the one bucket rule the statement of account uses, day by day."""
    from datetime import timedelta

    from domain.models import Customer, Order, Receivable, Shipment, ShippingTask
    from domain.reports.receivables import AGEING_BUCKETS, ageing_bucket

    w, s = world
    edges = [-5, 0, 30, 31, 60, 61, 90, 91, 400]
    for days in edges:
        c = Customer(code=f"E{days + 10:03d}", name=f"边界{days}", sales_user_id=w["sales"])
        s.add(c)
        s.flush()
        o = Order(number=f"SO-EDGE-{days + 10:04d}", customer_id=c.id, sales_user_id=w["sales"], status="shipped",
                  total=D("100.00"), created_at=NOW)
        s.add(o)
        s.flush()
        t = ShippingTask(order_id=o.id, warehouse_id=w["east"], status="shipped", created_at=NOW, last_shipped_at=NOW)
        s.add(t)
        s.flush()
        sh = Shipment(task_id=t.id, order_id=o.id, warehouse_id=w["east"], carrier="顺丰", tracking_no="x", amount=D("100.00"),
                      shipped_at=NOW, shipped_by_id=w["wh"])
        s.add(sh)
        s.flush()
        s.add(Receivable(order_id=o.id, shipment_id=sh.id, customer_id=c.id, amount=D("100.00"), paid=D("0.00"),
                         due_date=TODAY - timedelta(days=days), created_at=NOW))
    s.commit()
    rows = {r.name: r.buckets for r in ageing(s, scope(s, w, "fin"), TODAY).rows if r.name.startswith("边界")}
    for days in edges:
        expected = tuple(D("100.00") if b == ageing_bucket(days) else D("0.00") for b in AGEING_BUCKETS)
        assert rows[f"边界{days}"] == expected, days


@pytest.mark.parametrize("words", ["本月", "上月", "近30天", "今年", "本周", "上周"])
def test_the_period_before_reads_the_same_figures_as_when_asked_for_itself(world, words):
    """A period and the one before are read in one pass when they meet (a month, 30 days, a year) and in two when they
    do not (this week so far against the same weekdays of last week): either way the figures of the period before
    are the ones it shows when asked for on its own."""
    w, s = world
    for who in ("admin", "boss", "sales"):
        asked = period(words, today=TODAY)
        r = trend(s, scope(s, w, who), asked, SH)
        alone = trend(s, scope(s, w, who), r.previous, SH, r.grain)
        assert r.previous_points == alone.points and r.previous_total == alone.total, (words, who)
