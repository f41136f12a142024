"""Scheduled work with a controlled clock: approval reminders and escalation in business hours, the overdue
digest (content, snooze, promised date, escalation thresholds), and no duplicate across a restart or two
schedulers running at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time

from sqlalchemy import func, select

from bot.jobs import Jobs, missed_today, start_scheduler
from bot.records import OutboxMessage
from domain.models import Receivable
from tests.sandbox import Chat, button, text_of
from tests.world import build_world

NUMBER = "SO-20261123-0001"


def _digests(chat: Chat, who: str) -> list[dict]:
    return chat.cards(who, "reminder_digest")


def test_approval_reminder_after_four_business_hours_then_escalation_after_eight(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    clock.advance(hours=6)
    chat.say("li", "下单 C001 SKU-001 x10")  # Monday 16:00 Shanghai; wang and zhao approve
    assert len(chat.cards("wang", "approval_request")) == 1
    _at(clock, 2026, 11, 24, 10, 59)  # Tuesday: 19 hours later, but only 3h59 of business time
    assert ot.jobs.approval_reminders() == 0
    _at(clock, 2026, 11, 24, 11, 0)
    assert ot.jobs.approval_reminders() == 1
    assert ot.jobs.approval_reminders() == 0  # once per step, however often the job runs
    reminders = [c for c in chat.cards("wang", "approval_request") if c["subtitle"].startswith("提醒")]
    assert len(reminders) == 1 and len(chat.cards("zhao", "approval_request")) == 2
    _at(clock, 2026, 11, 24, 14, 59)
    assert ot.jobs.approval_reminders() == 0
    assert chat.cards("admin", "approval_request") == []
    _at(clock, 2026, 11, 24, 15, 0)  # eight business hours: the managers' manager (admin) joins the step
    assert ot.jobs.approval_reminders() == 1
    cards = chat.cards("admin", "approval_request")
    assert len(cards) == 1 and NUMBER in text_of([{"card": cards[0]}]) and cards[0]["subtitle"].startswith("升级")
    _at(clock, 2026, 11, 25, 15, 0)
    assert ot.jobs.approval_reminders() == 0  # escalated once
    chat.click("admin", button(cards[0], "approve")["token"])
    assert "已同意" in text_of([{"card": c} for c in chat.cards("wang", "approval_decided")])


def _shipped_order(ot, chat: Chat) -> None:
    chat.say("li", "下单 华兴 SKU-001 x10 SKU-002 x5")  # ¥1,277.50; C001 pays in 30 days
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    task = chat.cards("sun", "shipping_task")[0]
    chat.click("sun", button(task, "ship")["token"], {"carrier": "顺丰", "tracking": "SF1"})


def _at(clock, y: int, m: int, d: int, hh: int = 9, mm: int = 30) -> None:
    """Local Shanghai time → the test clock (UTC)."""
    clock.current = datetime(y, m, d, hh - 8, mm, tzinfo=UTC)


def test_digest_content_and_one_per_day_across_restart(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped_order(ot, chat)
    with ot.sessions() as s:
        assert str(s.scalars(select(Receivable)).one().due_date) == "2026-12-23"
    _at(clock, 2026, 12, 23)
    assert ot.jobs.overdue_digest() == 0  # due today is not overdue
    _at(clock, 2026, 12, 28)  # Monday, 5 days overdue
    assert ot.jobs.overdue_digest() == 1
    digest = _digests(chat, "li")
    assert len(digest) == 1
    assert digest[0]["table"]["rows"] == [["杭州华兴电子有限公司", NUMBER, "¥1,277.50", "2026年12月23日", "5"]]
    assert {b["action"] for b in digest[0]["buttons"]} == {"snooze", "promise"}
    assert _digests(chat, "wang") == []  # 5 days: not yet the manager's business
    assert ot.jobs.overdue_digest() == 0
    restarted = Jobs(ot.sessions, ot.ctx)  # a new process with the same database
    assert restarted.overdue_digest() == 0
    assert len(_digests(chat, "li")) == 1
    _at(clock, 2026, 12, 29)
    assert restarted.overdue_digest() == 1 and len(_digests(chat, "li")) == 2


def test_no_digest_on_weekends(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped_order(ot, chat)
    _at(clock, 2027, 1, 2)  # Saturday
    assert ot.jobs.overdue_digest() == 0


def test_snooze_and_promised_date_silence_an_order_until_then(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped_order(ot, chat)
    _at(clock, 2026, 12, 28)
    ot.jobs.overdue_digest()
    digest = _digests(chat, "li")[0]
    assert "2026年12月31日" in text_of(chat.click("li", button(digest, "snooze")["token"]))
    for day in (29, 30):
        _at(clock, 2026, 12, day)
        assert ot.jobs.overdue_digest() == 0
    _at(clock, 2026, 12, 31)
    assert ot.jobs.overdue_digest() == 2  # li again, and now (8 days) the manager too
    digest = _digests(chat, "li")[-1]
    promise = button(digest, "promise")
    assert "早于" in text_of(chat.click("li", promise["token"], {"date": "2026-12-01"}))
    assert "2027年1月8日" in text_of(chat.click("li", promise["token"], {"date": "2027-01-08"}))
    for day in (4, 5, 6, 7, 8):
        _at(clock, 2027, 1, day)
        assert ot.jobs.overdue_digest() == 0, day  # no reminder up to and including the promised day
    _at(clock, 2027, 1, 11)  # Monday after the missed promise
    assert ot.jobs.overdue_digest() == 2
    assert len(_digests(chat, "li")) == 3


def test_escalation_thresholds_reach_manager_after_7_days_and_admins_after_30(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped_order(ot, chat)
    _at(clock, 2026, 12, 30)  # 7 days: still only the sales person
    ot.jobs.overdue_digest()
    assert _digests(chat, "wang") == [] and len(_digests(chat, "li")) == 1
    _at(clock, 2026, 12, 31)  # 8 days
    ot.jobs.overdue_digest()
    team = _digests(chat, "wang")
    assert len(team) == 1 and "超过 7 天" in team[0]["title"] and team[0]["table"]["rows"][0][4] == "8"
    assert _digests(chat, "admin") == []
    _at(clock, 2027, 1, 25)  # 33 days
    ot.jobs.overdue_digest()
    assert len(_digests(chat, "admin")) == 1 and len(_digests(chat, "wang")) == 2


def test_two_schedulers_at_the_same_moment_send_one_digest(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped_order(ot, chat)
    _at(clock, 2026, 12, 31)  # li and wang both get one
    with ot.sessions() as s:
        before = s.scalar(select(func.count()).select_from(OutboxMessage))
    schedulers = [Jobs(ot.sessions, ot.ctx) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run(j: Jobs) -> None:
        barrier.wait()
        results.append(j.overdue_digest())

    threads = [threading.Thread(target=run, args=(j,)) for j in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [0, 2]  # one process sent both digests, the other nothing
    with ot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == before + 2
    assert len(_digests(chat, "li")) == 1 and len(_digests(chat, "wang")) == 1


def test_scheduler_runs_the_digest_at_the_configured_local_time(ot, clock):
    _at(clock, 2026, 12, 28, 8, 0)  # Monday, before work
    sched = start_scheduler(ot.jobs)
    try:
        nxt = sched.get_job("overdue_digest").next_run_time
        assert nxt.utcoffset().total_seconds() == 8 * 3600 and nxt.time() == time(9, 30)
        # every day (the job itself skips days off by the work calendar, so a make-up Saturday has it too): the
        # next 09:30 after the real time APScheduler reads — whatever weekday the suite runs on
        assert 0 < (nxt - datetime.now(nxt.tzinfo)).total_seconds() <= 24 * 3600
        assert sched.get_job("overdue_digest_catch_up") is None
    finally:
        sched.shutdown(wait=False)


def test_a_process_started_after_the_digest_time_catches_up(ot):
    st = ot.settings
    monday = datetime(2026, 12, 28, tzinfo=st.tz)
    assert missed_today(monday.replace(hour=8), st) == []
    assert missed_today(monday.replace(hour=9, minute=10), st) == ["late_tasks"]
    assert missed_today(monday.replace(hour=10, minute=15), st) == ["overdue_digest", "late_tasks"]
    assert missed_today(datetime(2027, 1, 2, 11, tzinfo=st.tz), st) == []  # Saturday


def test_late_task_reminders_go_to_the_active_staff_of_its_warehouse_only(ot, clock):
    from bot.records import OutboxMessage as Row
    from domain.models import Role, User

    w = build_world(ot.sessions)
    with ot.sessions() as s:
        for name, warehouse, active in (("mike", "east", True), ("gone", "east", False), ("zhou", "south", True)):
            u = User(username=name, display_name=name, locale="en", warehouse_id=w[warehouse], active=active)
            u.roles = {Role.WAREHOUSE}
            s.add(u)
        s.commit()
        gone = s.scalars(select(User.id).where(User.username == "gone")).one()
    chat = Chat(ot)
    chat.say("li", "下单 华兴 SKU-001 x10 交期 11-25")  # 浙江: the Shanghai warehouse ships it
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    assert len(chat.cards("sun", "shipping_task")) == len(chat.cards("mike", "shipping_task")) == 1
    _at(clock, 2026, 11, 25, 10, 0)
    assert ot.jobs.late_tasks() == 0  # the requested day itself is not late
    _at(clock, 2026, 11, 26, 10, 0)
    assert ot.jobs.late_tasks() == 1
    assert ot.jobs.late_tasks() == 0  # once a day
    for who in ("sun", "mike"):
        late = [c for c in chat.cards(who, "shipping_task") if c["subtitle"] and "2026" in c["subtitle"]]
        assert len(late) == 1, who
    assert chat.cards("zhou", "shipping_task") == []  # another warehouse's staff
    with ot.sessions() as s:  # the deactivated account got neither the task nor the reminder
        assert [r.id for r in s.scalars(select(Row)) if r.payload.get("user_id") == gone] == []


def test_promise_and_snooze_are_commands_with_an_audit_entry_and_an_event(ot, clock):
    from domain.audit import timeline
    from domain.models import AuditEntry, Order, User

    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped_order(ot, chat)
    _at(clock, 2026, 12, 28)
    ot.jobs.overdue_digest()
    digest = _digests(chat, "li")[0]
    before = _audit_count(ot)
    assert "may not change this receivable" in text_of(chat.click("amy", button(digest, "snooze")["token"]))  # not amy's customer: refused
    with ot.sessions() as s:
        assert s.scalars(select(Receivable)).one().snoozed_until is None
    assert _audit_count(ot) == before  # a refusal changes nothing (and this one is not an audited kind)
    chat.click("li", button(digest, "snooze")["token"])
    chat.click("li", button(digest, "promise")["token"], {"date": "2027-01-08"})
    with ot.sessions() as s:
        r = s.scalars(select(Receivable)).one()
        order = s.get(Order, r.order_id)
        li = s.scalars(select(User).where(User.username == "li")).one()
        entries = [e for e in timeline(s, order.id) if e.action in ("reminder_snoozed", "payment_promised")]
        assert [(e.action, e.actor_id, e.details["receivable"]) for e in entries] == [
            ("reminder_snoozed", li.id, r.id), ("payment_promised", li.id, r.id)]
        assert entries[0].details["until"] == "2026-12-31" and entries[1].details["promised_date"] == "2027-01-08"
        assert r.snoozed_until.isoformat() == "2026-12-31" and r.promised_date.isoformat() == "2027-01-08"
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before + 2


def test_the_promise_and_snooze_commands_emit_their_events(ot, clock):
    from datetime import date

    from domain import receivables
    from domain.audit import Actor
    from domain.events import PaymentPromised, ReceivableSnoozed
    from domain.models import User
    from domain.uow import UnitOfWork

    build_world(ot.sessions)
    chat = Chat(ot)
    _shipped_order(ot, chat)
    uow = UnitOfWork(ot.sessions, clock)
    with uow:
        r = uow.session.scalars(select(Receivable)).one()
        fin = uow.session.scalars(select(User).where(User.username == "qian")).one()  # finance: any receivable
        receivables.snooze(uow, r.id, fin, Actor(fin.id, "cli"))
        receivables.promise_payment(uow, r.id, fin, date(2026, 12, 20), Actor(fin.id, "cli"))
        assert uow.events == [ReceivableSnoozed(r.id, r.order_id, date(2026, 11, 26), fin.id),
                              PaymentPromised(r.id, r.order_id, date(2026, 12, 20), fin.id)]
        uow.commit()


def _audit_count(ot) -> int:  # type: ignore[no-untyped-def]
    from domain.models import AuditEntry

    with ot.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0
