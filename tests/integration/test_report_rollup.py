"""The daily sales totals (domain.reports.rollup) against the orders themselves: after runs of random writes — through
the ORM and as raw SQL the ORM never sees — the trend and the leaderboard read from the totals equal the figures
summed straight from the orders, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from domain.models import Order, SalesDay, SalesDayBuild, User
from domain.parsing import Period
from domain.reports import SALE_STATUSES, scope_for
from domain.reports.rollup import first_open_day
from domain.reports.sales import leaderboard, trend
from domain.reports.window import window
from tests.reports_world import SH, build_report_world

STATUSES = [*SALE_STATUSES, "pending_approval", "rejected", "cancelled"]
PERIODS = [Period(date(2026, 10, 1), date(2026, 10, 31), "month"), Period(date(2026, 11, 1), date(2026, 11, 30), "month"),
           Period(date(2026, 9, 1), date(2026, 11, 30), "quarter")]


def truth(s, p: Period, tz: ZoneInfo, people: set[int] | None) -> tuple[dict[date, tuple[Decimal, int]], dict[int, tuple[Decimal, int]]]:
    """Per local day and per sales person, summed in Python from every order row."""
    lo, hi = window(p, tz)
    days: dict[date, tuple[Decimal, int]] = {}
    persons: dict[int, tuple[Decimal, int]] = {}
    for at, total, uid in s.execute(select(Order.created_at, Order.total, Order.sales_user_id)
                                    .where(Order.status.in_(SALE_STATUSES), Order.created_at >= lo, Order.created_at < hi)):
        if people is not None and uid not in people:
            continue
        d = at.astimezone(tz).date()
        a, n = days.get(d, (Decimal("0.00"), 0))
        days[d] = (a + total, n + 1)
        a, n = persons.get(uid, (Decimal("0.00"), 0))
        persons[uid] = (a + total, n + 1)
    return days, persons


def check(s, w, who: str) -> None:
    viewer = s.get(User, w[who])
    sc = scope_for(s, viewer)
    people = set(sc.user_ids) if sc.user_ids else None
    for p in PERIODS:
        days, persons = truth(s, p, SH, people)
        t = trend(s, sc, p, SH)
        # the trend's buckets are days for a month, weeks for a quarter: compare the totals and, for months, each day
        assert (t.total.amount, t.total.orders) == (sum((a for a, _ in days.values()), Decimal("0.00")),
                                                    sum(n for _, n in days.values())), (who, p)
        if p.unit == "month":
            assert {x.start: (x.amount, x.orders) for x in t.points if x.orders} == days, (who, p)
        board = leaderboard(s, sc, p, SH)
        assert {r.user_id: (r.amount, r.orders) for r in board.rows if r.orders} == persons, (who, p)


def test_the_daily_totals_equal_the_orders_after_random_writes(session_factory):
    w = build_report_world(session_factory)
    rng = random.Random(18)
    sales = [w["sales"], w["sales2"], w["sales3"]]
    with session_factory() as s:
        template = s.scalars(select(Order).limit(1)).one()
        customer = template.customer_id
    assert first_open_day_is_after_the_data(session_factory)
    for round_ in range(6):
        with session_factory() as s:
            check(s, w, "admin")
            check(s, w, "boss")
            check(s, w, "sales")
            s.commit()  # the totals built while reading are kept, as the chat's unit of work keeps them
            assert s.scalar(select(func.count()).select_from(SalesDayBuild)) > 0
        with session_factory() as s:
            orders = list(s.scalars(select(Order)))
            for o in rng.sample(orders, k=min(4, len(orders))):
                change = rng.choice(["status", "total", "owner", "moved"])
                if change == "status":
                    o.status = rng.choice(STATUSES)
                elif change == "total":
                    o.total = Decimal(rng.randint(1, 900_000)) / 100
                elif change == "owner":
                    o.sales_user_id = rng.choice(sales)
                else:
                    o.created_at = datetime(2026, rng.choice([9, 10, 11]), rng.randint(1, 28), rng.randint(0, 23),
                                            tzinfo=UTC)
            s.add(Order(number=f"SO-R{round_}", customer_id=customer, sales_user_id=rng.choice(sales),
                        status=rng.choice(SALE_STATUSES), total=Decimal("123.45"),
                        created_at=datetime(2026, 10, rng.randint(1, 31), 17, tzinfo=UTC)))
            s.commit()
        with session_factory() as s:  # a write the ORM never sees: only the trigger knows
            s.execute(text("UPDATE orders SET total = total + 100 WHERE id = :id"),
                      {"id": rng.choice([o.id for o in orders])})
            s.commit()
    with session_factory() as s:
        check(s, w, "admin")


def first_open_day_is_after_the_data(session_factory) -> bool:
    """The data set lies in September to 23 November 2026; the database's clock is today's, so those days are closed
    and the totals are really read (on a machine whose clock is before December 2026 this test proves less)."""
    with session_factory() as s:
        return first_open_day(s, SH) > date(2026, 11, 23)


def test_a_day_that_has_not_closed_is_read_from_the_orders(session_factory):
    build_report_world(session_factory)
    with session_factory() as s:
        sc = scope_for(s, s.scalars(select(User).where(User.username == "admin")).one())
        today = first_open_day(s, SH) + timedelta(days=2)
        p = Period(today - timedelta(days=3), today, "days")
        before = trend(s, sc, p, SH).total
        customer, seller = s.execute(select(Order.customer_id, Order.sales_user_id).limit(1)).one()
        s.add(Order(number="SO-NOW", customer_id=customer, sales_user_id=seller, status="approved",
                    total=Decimal("50.00"), created_at=datetime.now(UTC)))
        s.flush()
        after = trend(s, sc, p, SH).total
        assert (after.amount - before.amount, after.orders - before.orders) == (Decimal("50.00"), 1)
        # nothing of the open days went into the totals
        assert s.scalar(select(func.count()).select_from(SalesDay).where(SalesDay.day >= first_open_day(s, SH))) == 0


@pytest.mark.parametrize("statement", ["UPDATE orders SET status = 'cancelled' WHERE id = :id",
                                       "UPDATE orders SET created_at = created_at - INTERVAL '40 days' WHERE id = :id"])
def test_a_raw_write_to_an_old_order_makes_its_day_stale(session_factory, statement):
    w = build_report_world(session_factory)
    p = PERIODS[1]
    lo, hi = window(p, SH)
    with session_factory() as s:
        if s.get_bind().dialect.name == "sqlite":
            statement = statement.replace("created_at - INTERVAL '40 days'", "datetime(created_at, '-40 days')")
        sc = scope_for(s, s.get(User, w["admin"]))
        first = trend(s, sc, p, SH).total
        s.commit()
        victim = s.scalars(select(Order).where(Order.status.in_(SALE_STATUSES), Order.created_at >= lo,
                                               Order.created_at < hi)).first()
        assert victim is not None
        total, oid = victim.total, victim.id
    with session_factory() as s:
        s.execute(text(statement), {"id": oid})
        s.commit()
    with session_factory() as s:
        again = trend(s, scope_for(s, s.get(User, w["admin"])), p, SH).total
        assert (again.amount, again.orders) == (first.amount - total, first.orders - 1)


def test_writers_to_old_orders_of_one_day_do_not_wait_for_each_other(engine, session_factory):
    """The day's version is bumped at commit (migration 0017), not at the UPDATE: two transactions changing orders of
    the same past day both get through their change while the other is still open (before, the second waited for
    the first's whole transaction: every decision on one day's orders queued), and every bump counts."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time anyway")
    from domain.models import OrderDayVersion

    build_report_world(session_factory)
    with session_factory() as s:
        customer, seller = s.execute(select(Order.customer_id, Order.sales_user_id).limit(1)).one()
        day = date(2026, 10, 9)
        placed = [Order(number=f"SO-DAY-{i}", customer_id=customer, sales_user_id=seller, status="approved",
                        total=Decimal("10.00"), created_at=datetime(2026, 10, 9, 3 + i, tzinfo=UTC)) for i in range(2)]
        s.add_all(placed)
        s.commit()
        two = [o.id for o in placed]
        before = s.get(OrderDayVersion, day)
        version = before.version if before is not None else 0
    first, second = engine.connect(), engine.connect()
    try:
        for conn, oid in ((first, two[0]), (second, two[1])):
            conn.begin()
            conn.execute(text("SET LOCAL lock_timeout = '500ms'"))  # a wait for the other one fails the test
            conn.execute(text("UPDATE orders SET total = total + 1 WHERE id = :id"), {"id": oid})
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    with session_factory() as s:
        # each UPDATE bumps the day twice (for the row before and after the change: the same date here)
        assert s.get(OrderDayVersion, day).version == version + 4  # type: ignore[union-attr]
