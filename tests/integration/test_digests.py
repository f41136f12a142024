"""The daily and weekly digests with a controlled clock, on the fixed data set of the reports (tests.reports_world)
plus a few rows written here, every figure worked out by hand below; subscriptions in both languages; once per
person per day across restarts and with two schedulers racing; no digest on days off, holidays, but on make-up days.

The world on Monday 2026-11-23 (Shanghai), on top of tests.reports_world:
- SO-20261118-0001: 李四, approved, ¥2,400.00 (placed Wed 11-18)  — written here
- SO-20261121-0001: Amy, approved, ¥3,550.00 (placed Sat 11-21)  — written here
- SO-20261120-0001: 张伟 (赵经理's team), completed, ¥3,600.00 (Fri 11-20)
- SO-20261122-0001: 李四, pending approval since Sun 11-22 10:00, assigned to 王经理 here
- SO-20261102-0001: 李四, open task at 上海仓; its requested date 11-20 is set here, so the task is late
- overdue on 11-23: 李四 ¥5,000.00 (due 8-31, 84 days), Amy ¥2,550.00 open (due 11-19) and ¥800.00 (due 7-1, 145 days)
- low stock: SKU-003 at 上海仓, 8 of 10 reserved here (2 available, safety stock 5)

Monday's daily digest covers Friday to Sunday (11-20 – 11-22) against the three days before (11-17 – 11-19).
"""

from __future__ import annotations

import threading
import time as systime
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, select, update

from bot import intents as it
from bot.digests import missed
from bot.i18n import texts
from bot.jobs import Jobs, start_scheduler
from bot.records import OutboxMessage, SentReminder
from domain.models import ApprovalAssignment, ApprovalStep, Order, Stock
from domain.parsing import Period
from tests.reports_world import SH, Spec, _approved, _write, build_report_world, local
from tests.sandbox import Chat, button, text_of
from tests.world import World, build_world

EXTRA = [
    Spec("SO-20261118-0001", "c1", "sales", "approved", local(2026, 11, 18, 10), [("p1", 20, "120.00")], _approved(1)),
    Spec("SO-20261121-0001", "c2", "sales2", "approved", local(2026, 11, 21, 15), [("p2", 100, "35.50")], _approved(1)),
]


def _at(clock, y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> None:
    """Local Shanghai time → the test clock (UTC)."""
    clock.current = datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


def _days(a: date, b: date, lang: str = "zh-CN") -> str:
    """A span of days as the reader's language writes it (CLDR intervals: '2026年11月20日 – 22日', 'Nov 20 – 22, 2026')."""
    return texts(lang, SH).period_dates(Period(a, b))


FRI_SUN, TUE_THU = _days(date(2026, 11, 20), date(2026, 11, 22)), _days(date(2026, 11, 17), date(2026, 11, 19))
FRI_SUN_EN, TUE_THU_EN = (_days(date(2026, 11, 20), date(2026, 11, 22), "en"),
                          _days(date(2026, 11, 17), date(2026, 11, 19), "en"))


def _digest_world(ot) -> World:
    w = build_report_world(ot.sessions)
    with ot.sessions() as s:
        for spec in EXTRA:
            _write(s, w, spec)
        step = s.scalars(select(ApprovalStep).join(Order).where(Order.number == "SO-20261122-0001")).one()
        s.add(ApprovalAssignment(step_id=step.id, user_id=w["boss"], status="pending"))
        s.execute(update(Order).where(Order.number == "SO-20261102-0001").values(requested_date=date(2026, 11, 20)))
        s.execute(update(Stock).where(Stock.warehouse_id == w["east"], Stock.product_id == w["p3"]).values(reserved=8))
        s.commit()
    return w


def _items(chat: Chat, who: str) -> list[dict[str, Any]]:
    return chat.inbox(who)


def _daily(chat: Chat, who: str) -> list[dict[str, Any]]:
    return chat.cards(who, "daily_digest")


def _lines(chat: Chat, who: str) -> list[str]:
    return [i["text"] for i in _items(chat, who) if i.get("text") and not i.get("card")]


def _digest_keys(s) -> list[str]:  # type: ignore[no-untyped-def]
    return [k for k in s.scalars(select(SentReminder.key)) if k.startswith(("digest-daily:", "digest-weekly:"))]


def _field(card: dict[str, Any], label: str) -> str:
    return next(f["value"] for f in card["fields"] if f["label"] == label)


# ---------------------------------------------------------------- content


def test_daily_card_figures_for_admin_and_each_managers_team(ot, clock):
    _digest_world(ot)
    chat = Chat(ot)
    _at(clock, 2026, 11, 23, 9, 0)
    assert ot.jobs.daily_digest() == 3  # admin, 王经理, 赵经理 by default; nobody else

    admin = _daily(chat, "admin")
    assert len(admin) == 1
    card = admin[0]
    assert card["title"] == "日报 · 11月23日"
    assert card["subtitle"] == f"销售：{FRI_SUN}"
    # 3,600.00 + 3,550.00 against 2,400.00: +197.9 %
    assert _field(card, "销售") == f"2 单，¥7,150.00；较 {TUE_THU}（¥2,400.00）+197.9%"
    approvals = _field(card, "待审批")
    assert "1 个待审批" in approvals and "SO-20261122-0001" in approvals and "销售经理审批" in approvals
    assert "2026年11月22日 10:00" in approvals  # opened 02:00 UTC, read in Shanghai
    assert "等您" not in approvals  # the admin is not its approver
    assert _field(card, "逾期应收款") == "3 笔，未收 ¥8,350.00，最长逾期 145 天"
    assert _field(card, "低库存") == "1 项低于安全库存：SKU-003（上海仓）"
    late = _field(card, "逾期发货任务")
    assert late.startswith("1 个已过要求交期") and "SO-20261102-0001" in late and "2026年11月20日" in late
    assert card["context"] == "数据范围：全部"
    assert [b["action"] for b in card["buttons"]] == ["digest_list"] * 3  # overdue, low stock, tasks (admin lists all)

    wang = _daily(chat, "wang")[0]  # 李四 and Amy: Amy's 3,550.00 against 李四's 2,400.00
    assert _field(wang, "销售") == f"1 单，¥3,550.00；较 {TUE_THU}（¥2,400.00）+47.9%"
    assert "其中 1 个等您审批" in _field(wang, "待审批")
    assert _field(wang, "逾期应收款") == "3 笔，未收 ¥8,350.00，最长逾期 145 天"
    assert wang["context"] == "数据范围：您的团队（3 人）"
    labels = [b["label"] for b in wang["buttons"]]
    assert labels == ["我的待审批（1）", "逾期应收款", "低库存"]  # no tasks button: 任务 lists a warehouse's

    zhao = _daily(chat, "zhao")[0]  # 张伟 alone: 3,600.00, nothing the three days before
    assert _field(zhao, "销售") == f"1 单，¥3,600.00；{TUE_THU} 没有可对比的数据"
    assert _field(zhao, "待审批") == "无" and _field(zhao, "逾期应收款") == "无" and _field(zhao, "逾期发货任务") == "无"
    assert _field(zhao, "低库存").startswith("1 项")  # stock is the company's
    for who in ("qian", "li", "amy", "zhang", "sun"):
        assert _items(chat, who) == [], who


def test_the_card_buttons_open_the_same_lists_as_the_commands(ot, clock):
    _digest_world(ot)
    chat = Chat(ot)
    _at(clock, 2026, 11, 23, 9, 0)
    ot.jobs.daily_digest()
    for who in ("wang", "admin"):
        card = _daily(chat, who)[0]
        for b in card["buttons"]:
            intent = ot.ctx.parse(b["command"])
            assert type(intent) in (it.MyApprovals, it.Overdue, it.LowStock, it.MyTasks), b["command"]
            clicked = chat.click(who, b["token"])
            said = chat.say(who, b["command"])
            assert text_of(clicked) == text_of(said) and "没有" not in text_of(clicked)[:4], b["command"]
    approvals = chat.click("wang", button(_daily(chat, "wang")[0], "digest_list")["token"])
    assert any(r["card"]["kind"] == "approval_request" for r in approvals if r.get("card"))


def test_english_reader_reads_the_same_figures_in_english(ot, clock):
    _digest_world(ot)
    with ot.sessions() as s:
        from domain.models import User

        s.execute(update(User).where(User.username == "wang").values(locale="en"))
        s.commit()
    chat = Chat(ot)
    _at(clock, 2026, 11, 23, 9, 0)
    ot.jobs.daily_digest()
    card = _daily(chat, "wang")[0]
    assert card["title"] == "Daily digest · Nov 23" and card["locale"] == "en"
    assert _field(card, "Sales") == f"1 order, ¥3,550.00; +47.9% against {TUE_THU_EN} (¥2,400.00)"
    assert _field(card, "Overdue receivables") == "3 receivables, ¥8,350.00 open, longest 145 days overdue"
    assert "Nov 22, 2026, 10:00\u202fAM" in _field(card, "Approvals waiting")
    assert [b["command"] for b in card["buttons"]] == ["pending", "overdue", "low stock"]


def test_a_subscribed_sales_person_gets_one_line_about_their_own_figures(ot, clock):
    _digest_world(ot)
    chat = Chat(ot)
    assert "已订阅日报" in text_of(chat.say("li", "订阅 日报"))
    assert "Subscribed to the daily digest" in text_of(chat.say("amy", "subscribe daily"))
    _at(clock, 2026, 11, 23, 9, 0)
    assert ot.jobs.daily_digest() == 5
    li = _lines(chat, "li")
    assert len(li) == 1 and _daily(chat, "li") == []
    # nothing sold Fri–Sun (the 11-22 order still waits), 2,400.00 the three days before
    assert li[0] == (f"您的日报，{FRI_SUN}：0 单，¥0.00；较 {TUE_THU}（¥2,400.00）−100%；"
                     "1 单待审批；1 笔逾期应收，¥5,000.00；1 个发货任务已过要求交期")
    amy = _lines(chat, "amy")
    assert amy == [f"Your daily digest, {FRI_SUN_EN}: 1 order, ¥3,550.00; Nothing to compare with in "
                   f"{TUE_THU_EN}; 2 overdue receivables, ¥3,350.00"]


def test_a_quiet_day_is_one_line(ot, clock):
    build_world(ot.sessions)  # no orders, no receivables, stock above safety
    chat = Chat(ot)
    _at(clock, 2026, 11, 24, 9, 0)  # Tuesday: covers Monday against Sunday
    assert ot.jobs.daily_digest() == 3  # 管理员, 王经理, 赵经理
    for who in ("admin", "wang", "zhao"):
        assert _daily(chat, who) == []
        assert _lines(chat, who) == ["日报，昨天（2026年11月23日）：一切平静——没有订单，也没有待办。"]


# ---------------------------------------------------------------- the weekly digest


def test_weekly_digest_on_monday_has_the_trend_chart_and_the_leaderboard(ot, clock):
    from bot import files

    _digest_world(ot)
    chat = Chat(ot)
    _at(clock, 2026, 11, 24, 9, 0)
    assert ot.jobs.weekly_digest() == 0  # Tuesday: not the first work day of the week
    assert "已订阅周报" in text_of(chat.say("li", "订阅 周报"))
    _at(clock, 2026, 11, 23, 9, 0)
    assert ot.jobs.weekly_digest() == 4
    reports = chat.cards("admin", "report")
    assert [c["data"]["report"] for c in reports] == ["trend", "leaderboard"]
    trend, board = reports
    assert trend["title"] == "周报 · 销售额趋势" and "上周" in trend["subtitle"]
    # last week 2,400.00 + 3,600.00 + 3,550.00; the week before Amy's 3,400.00 (the 11-15 order was cancelled)
    assert trend["text"][0] == "销售额 ¥9,550.00，3 笔订单，平均每单 ¥3,183.33" and "+180.9%" in trend["text"][1]
    image = next(a for a in trend["attachments"] if a["kind"] == "image")
    with ot.sessions() as s:
        stored = files.get(s, image["key"])
    assert stored is not None and stored[1][:8] == b"\x89PNG\r\n\x1a\n"
    assert board["title"].startswith("周报 · ") and board["table"]["rows"][0][1] == "张伟"  # 3,600.00 leads
    wang = chat.cards("wang", "report")
    assert [c["data"]["report"] for c in wang] == ["trend", "leaderboard"]
    assert wang[0]["text"][0] == "销售额 ¥5,950.00，2 笔订单，平均每单 ¥2,975.00" and "+75%" in wang[0]["text"][1]
    assert [row[1] for row in wang[1]["table"]["rows"]] == ["Amy Chen", "李四"]
    li = chat.cards("li", "report")  # subscribed: the trend of their own orders, no leaderboard of one
    assert [c["data"]["report"] for c in li] == ["trend"] and li[0]["context"] == "数据范围：您本人"
    assert li[0]["text"][0] == "销售额 ¥2,400.00，1 笔订单，平均每单 ¥2,400.00"
    assert ot.jobs.weekly_digest() == 0
    assert len(chat.cards("admin", "report")) == 2


def test_weekly_digest_quiet_week_and_after_a_monday_holiday(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    ot.settings.holidays = [date(2026, 11, 30)]
    _at(clock, 2026, 11, 30, 9, 0)  # a holiday Monday
    assert ot.jobs.weekly_digest() == 0 and ot.jobs.daily_digest() == 0
    _at(clock, 2026, 12, 1, 9, 0)  # Tuesday is the week's first work day
    assert ot.jobs.weekly_digest() == 3
    assert _lines(chat, "wang") == [f"周报，上周（{_days(date(2026, 11, 23), date(2026, 11, 29))}）：一切平静——上周和前一周都没有订单。"]


# ---------------------------------------------------------------- subscriptions


def test_subscriptions_in_both_languages(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    card = next(r["card"] for r in chat.say("wang", "我的订阅") if r.get("card"))
    assert [(f["label"], f["value"]) for f in card["fields"]] == [
        ("日报", "已订阅：每个工作日 09:00"), ("周报", "已订阅：每周第一个工作日 09:00")]
    assert "已退订周报" in text_of(chat.say("wang", "退订 周报"))
    assert "您没有订阅周报" in text_of(chat.say("wang", "取消订阅周报"))
    _at(clock, 2026, 11, 30, 9, 0)
    assert ot.jobs.weekly_digest() == 2  # admin and 赵经理; 王经理 unsubscribed
    assert _lines(chat, "wang") == []

    card = next(r["card"] for r in chat.say("amy", "my subscriptions") if r.get("card"))
    assert [f["value"] for f in card["fields"]] == ["Off", "Off"]
    on = button(card, "digest_sub")
    assert on["label"] == "Subscribe daily" and on["command"] == "subscribe daily"
    replies = chat.click("amy", on["token"])
    assert "Subscribed to the daily digest" in text_of(replies)
    assert "You already receive the daily digest" in text_of(chat.say("amy", "subscribe to the daily digest"))
    assert "Subscribed to the weekly digest" in text_of(chat.say("amy", "subscribe weekly"))
    assert "Unsubscribed from the weekly digest" in text_of(chat.say("amy", "unsubscribe weekly"))
    card = next(r["card"] for r in chat.say("amy", "subscriptions") if r.get("card"))
    assert [f["value"] for f in card["fields"]] == ["On: every work day at 9:00\u202fAM", "Off"]
    assert "someone else" in text_of(chat.click("li", on["token"])).lower() or "别人" in text_of(chat.click("li", on["token"]))

    assert "退订" in text_of(chat.say("li", "退订"))  # what is missing, with an example
    assert isinstance(ot.ctx.parse("退订"), it.Partial) and isinstance(ot.ctx.parse("unsubscribe"), it.Partial)
    assert "月报" in text_of(chat.say("li", "订阅 月报"))
    assert isinstance(ot.ctx.parse("subscribe monthly"), it.Invalid)
    assert "简报仅供" in text_of(chat.say("sun", "订阅 日报"))  # warehouse staff: refused, nothing stored
    assert "简报仅供" in text_of(chat.say("sun", "我的订阅"))
    for text, expected in (("订阅日报", it.Subscribe("daily", True)), ("订阅 周报", it.Subscribe("weekly", True)),
                           ("退订 日报", it.Subscribe("daily", False)), ("取消订阅 周报", it.Subscribe("weekly", False)),
                           ("subscribe daily", it.Subscribe("daily", True)),
                           ("unsubscribe from the weekly digest", it.Subscribe("weekly", False)),
                           ("订阅", it.Subscriptions()), ("my subscriptions", it.Subscriptions())):
        assert ot.ctx.parse(text) == expected, text


# ---------------------------------------------------------------- once per day


def test_once_per_day_across_restarts_and_again_the_next_work_day(ot, clock):
    _digest_world(ot)
    chat = Chat(ot)
    _at(clock, 2026, 11, 23, 9, 0)
    assert ot.jobs.daily_digest() == 3
    assert ot.jobs.daily_digest() == 0
    restarted = Jobs(ot.sessions, ot.ctx)  # a new process on the same database
    assert restarted.daily_digest() == 0
    assert len(_daily(chat, "wang")) == 1
    _at(clock, 2026, 11, 24, 9, 0)
    assert restarted.daily_digest() == 3
    tuesday = _daily(chat, "wang")[-1]
    assert "2026年11月23日" in tuesday["subtitle"] and len(_daily(chat, "wang")) == 2  # Monday against Sunday


def test_no_digest_on_weekends_and_holidays_but_on_make_up_days(ot, clock):
    _digest_world(ot)
    chat = Chat(ot)
    _at(clock, 2026, 11, 28, 9, 0)  # Saturday
    assert ot.jobs.daily_digest() == 0 and ot.jobs.weekly_digest() == 0
    ot.settings.holidays = [date(2026, 11, 26)]
    _at(clock, 2026, 11, 26, 9, 0)  # Thursday, a holiday
    assert ot.jobs.daily_digest() == 0
    assert missed(datetime(2026, 11, 26, 11, 0, tzinfo=ot.settings.tz), ot.settings) == []
    _at(clock, 2026, 11, 27, 9, 0)  # Friday reports on Wednesday and the holiday
    assert ot.jobs.daily_digest() == 3
    assert _daily(chat, "wang")[-1]["subtitle"] == f"销售：{_days(date(2026, 11, 25), date(2026, 11, 26))}"
    ot.settings.make_up_work_days = [date(2026, 11, 28)]
    _at(clock, 2026, 11, 28, 9, 0)  # the same Saturday, now worked
    assert ot.jobs.daily_digest() == 3


def test_the_overdue_digest_and_late_tasks_keep_the_same_calendar(ot, clock):
    from bot.jobs import missed_today

    _digest_world(ot)
    chat = Chat(ot)
    ot.settings.holidays = [date(2026, 11, 26)]
    ot.settings.make_up_work_days = [date(2026, 11, 28)]
    _at(clock, 2026, 11, 26, 9, 30)  # the holiday
    assert ot.jobs.overdue_digest() == 0 and ot.jobs.late_tasks() == 0
    assert missed_today(datetime(2026, 11, 26, 11, 0, tzinfo=SH), ot.settings) == []
    _at(clock, 2026, 11, 28, 9, 30)  # the make-up Saturday: 李四 and Amy are reminded, 上海仓 hears of the late task
    assert missed_today(datetime(2026, 11, 28, 11, 0, tzinfo=SH), ot.settings) == ["overdue_digest", "late_tasks"]
    assert ot.jobs.overdue_digest() >= 2 and ot.jobs.late_tasks() == 1
    assert chat.cards("li", "reminder_digest") and chat.cards("sun", "shipping_task")
    _at(clock, 2026, 11, 29, 9, 30)  # Sunday
    assert ot.jobs.overdue_digest() == 0 and ot.jobs.late_tasks() == 0


def test_two_schedulers_racing_send_one_digest_each(ot, clock):
    _digest_world(ot)
    chat = Chat(ot)
    assert "已订阅" in text_of(chat.say("li", "订阅 日报"))
    _at(clock, 2026, 11, 23, 9, 0)
    with ot.sessions() as s:
        before = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.op == "send"))
        images_before = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.op == "image"))
    schedulers = [Jobs(ot.sessions, ot.ctx) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run(j: Jobs) -> None:
        barrier.wait()
        results.append(j.daily_digest() + j.weekly_digest())

    threads = [threading.Thread(target=run, args=(j,)) for j in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(results) == 4 + 3  # daily: admin, wang, zhao, li (subscribed); weekly: admin, wang, zhao
    with ot.sessions() as s:
        rows = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.op == "send")) - before
        images = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.op == "image")) - images_before
        keys = _digest_keys(s)
    assert rows == 4 + 2 * 3  # one daily each; trend and leaderboard for each of three
    assert images == 2 * 3  # each weekly card's chart follows it as the platform's own image message
    assert len(keys) == 7
    assert len(_daily(chat, "wang")) == 1 and len(_lines(chat, "li")) == 1


def test_a_key_claimed_by_an_open_transaction_holds_off_the_other_scheduler(ot, clock):
    """Scheduler A has claimed 王经理's key and not committed yet; scheduler B, running meanwhile, must not send him a
    digest of its own — it waits for A's transaction (PostgreSQL: the key's unique index; SQLite: the write lock) and
    then finds the key taken."""
    from bot.notifications import once

    w = _digest_world(ot)
    chat = Chat(ot)
    _at(clock, 2026, 11, 23, 9, 0)
    result: list[int] = []
    other = threading.Thread(target=lambda: result.append(Jobs(ot.sessions, ot.ctx).daily_digest()))
    uow = ot.ctx.unit_of_work(ot.sessions)
    with uow:
        assert once(uow.session, f"digest-daily:{w['boss']}:2026-11-23", uow.now())
        other.start()
        other.join(1.5)
        uow.commit()  # A's digest for him would be in this transaction; here it holds only the key
    other.join(60)
    assert result == [2]  # admin and 赵经理
    assert _daily(chat, "wang") == [] and len(_daily(chat, "zhao")) == 1


# ---------------------------------------------------------------- the scheduler


def test_scheduler_runs_both_digests_at_the_configured_local_time(ot, clock):
    _at(clock, 2026, 11, 23, 8, 0)  # Monday, before the digest
    sched = start_scheduler(ot.jobs)
    try:
        for name in ("daily_digest", "weekly_digest"):
            nxt = sched.get_job(name).next_run_time
            assert nxt.utcoffset().total_seconds() == 8 * 3600 and nxt.time() == time(9, 0), name
            assert sched.get_job(f"{name}_catch_up") is None
    finally:
        sched.shutdown(wait=False)
    st = ot.settings
    assert missed(datetime(2026, 11, 23, 8, 59, tzinfo=st.tz), st) == []
    assert missed(datetime(2026, 11, 23, 9, 0, tzinfo=st.tz), st) == ["daily_digest", "weekly_digest"]
    assert missed(datetime(2026, 11, 24, 15, 0, tzinfo=st.tz), st) == ["daily_digest"]
    assert missed(datetime(2026, 11, 29, 15, 0, tzinfo=st.tz), st) == []  # Sunday
    st.daily_digest_time = time(8, 30)
    assert missed(datetime(2026, 11, 24, 8, 45, tzinfo=st.tz), st) == ["daily_digest"]


def _wait_for_keys(ot, n: int, timeout: float = 30) -> int:
    deadline = systime.monotonic() + timeout
    while True:
        with ot.sessions() as s:
            found = len(_digest_keys(s))
        if found >= n or systime.monotonic() > deadline:
            return found
        systime.sleep(0.1)


def test_a_process_started_late_sends_todays_digests_once(ot, clock):
    _digest_world(ot)
    chat = Chat(ot)
    _at(clock, 2026, 11, 23, 10, 15)  # Monday: the process was down at 09:00
    for _ in range(2):  # started late, then restarted
        sched = start_scheduler(Jobs(ot.sessions, ot.ctx))
        try:
            assert _wait_for_keys(ot, 6) == 6  # daily and weekly for admin, 王经理, 赵经理
            deadline = systime.monotonic() + 30
            while any(sched.get_job(f"{n}_catch_up") for n in ("daily_digest", "weekly_digest")):
                assert systime.monotonic() < deadline
                systime.sleep(0.05)
        finally:
            sched.shutdown(wait=True)
    assert len(_daily(chat, "wang")) == 1 and len(chat.cards("wang", "report")) == 2


# ---------------------------------------------------------------- on Slack


def test_the_digest_cards_are_valid_block_kit(ot, clock):
    from slack_sdk.models.blocks import Block

    from adapters.slack.blocks import render_card
    from adapters.slack.validate import validate_message
    from bot.cards.model import Card

    _digest_world(ot)
    chat = Chat(ot)
    chat.say("amy", "subscribe daily")
    _at(clock, 2026, 11, 23, 9, 0)
    ot.jobs.daily_digest()
    ot.jobs.weekly_digest()
    cards = [*_daily(chat, "admin"), *_daily(chat, "wang"), *chat.cards("admin", "report"),
             next(r["card"] for r in chat.say("amy", "my subscriptions") if r.get("card"))]
    assert len(cards) == 5
    for raw in cards:
        card = Card.model_validate(raw)
        slack = render_card(card)
        assert validate_message(slack) == [], card.title
        assert [Block.parse(b).to_dict() for b in slack["blocks"]] == slack["blocks"], card.title
