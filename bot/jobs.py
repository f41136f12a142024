"""Scheduled work: approval reminders and escalation, the overdue-receivables digest, late shipping tasks.

Every job is safe to run again and in several processes at once: each reminder first claims a unique
key in `sent_reminders` (inside the same transaction as its outbox rows), so a restart or a second
scheduler sends nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.cards.fulfilment import receivables_digest_card, shipping_task_card
from bot.context import BotContext
from bot.digests import Digests
from bot.digests import schedule as schedule_digests
from bot.settings import Settings
from bot.state import once
from bot.unit import run_unit
from domain import approvals, fulfilment, recipients
from domain.audit import SYSTEM
from domain.calendar import business_hours_between
from domain.directory import users_by_id
from domain.uow import UnitOfWork


class Jobs:
    def __init__(self, sessions: sessionmaker[Session], ctx: BotContext, wake: Callable[[], None] = lambda: None) -> None:
        self.sessions = sessions
        self.ctx = ctx
        self.wake = wake
        self.digests = Digests(sessions, ctx, wake)  # the daily and weekly digests (bot.digests)

    def daily_digest(self) -> int:
        return self.digests.daily()

    def weekly_digest(self) -> int:
        return self.digests.weekly()

    def _run(self, fn: Callable[[UnitOfWork], int]) -> int:
        n = run_unit(self.ctx, self.sessions, fn) or 0  # None: another scheduler claimed the same key first
        if n:
            self.wake()
        return n

    # ------------------------------------------------------------ approvals
    def approval_reminders(self) -> int:
        st = self.ctx.settings

        def work(uow: UnitOfWork) -> int:
            sent = 0
            now = uow.now()
            for step in approvals.steps_to_watch(uow.session):
                if step.opened_at is None:
                    continue
                if not recipients.approvers(step) and approvals.restaff(uow, step, SYSTEM, self.ctx.today()):
                    sent += 1  # nobody could decide it; now somebody can (roles or people were fixed)
                    continue
                waited = business_hours_between(step.opened_at, now, st.tz, st.work_days, st.work_start, st.work_end)
                if waited >= st.approval_escalate_hours and once(uow.session, f"escalate:{step.id}", now):
                    approvals.escalate(uow, step, SYSTEM, self.ctx.today())
                    sent += 1
                elif waited >= st.approval_remind_hours and once(uow.session, f"remind:{step.id}", now):
                    approvals.remind(uow, step, SYSTEM)
                    sent += 1
            return sent

        return self._run(work)

    # ------------------------------------------------------------ receivables
    def overdue_digest(self) -> int:
        st = self.ctx.settings
        today = self.ctx.today()
        if not st.calendar.is_work_day(today):  # weekends and holidays off, make-up days on
            return 0

        def work(uow: UnitOfWork) -> int:
            s = uow.session
            due = fulfilment.receivables_to_chase(s, today)
            by_sales: dict[int, list[fulfilment.OverdueItem]] = defaultdict(list)
            by_manager: dict[int, list[fulfilment.OverdueItem]] = defaultdict(list)
            thresholds = sorted(st.overdue_escalate_days)
            admins = [u.id for u in recipients.admins(s)]
            for r in due:
                if r.sales_user_id is not None:  # an opening balance of a customer nobody owns: escalations only
                    by_sales[r.sales_user_id].append(r)
                days = (today - r.due_date).days
                if thresholds and days > thresholds[0]:
                    manager_id = r.manager_id
                    for m in ([manager_id] if manager_id else []) + (
                        admins if len(thresholds) > 1 and days > thresholds[1] else []
                    ):
                        by_manager[m].append(r)
            sent = 0
            people = users_by_id(s, set(by_sales) | set(by_manager))
            for uid, items in sorted(by_sales.items()):
                if once(s, f"digest:{uid}:{today.isoformat()}", uow.now()):
                    user = people[uid]
                    self.ctx.outbox.to_user(s, user, card=receivables_digest_card(items, today, self.ctx.viewer(user)))
                    sent += 1
            for uid, items in sorted(by_manager.items()):
                if once(s, f"digest-escalated:{uid}:{today.isoformat()}", uow.now()):
                    user = people[uid]
                    v = self.ctx.viewer(user)
                    title = v.t("Team receivables over {thresholds} days ({count})", thresholds=thresholds[0], count=len(items))
                    self.ctx.outbox.to_user(s, user, card=receivables_digest_card(items, today, v, title))
                    sent += 1
            return sent

        return self._run(work)

    # ------------------------------------------------------------ warehouse
    def late_tasks(self) -> int:
        today = self.ctx.today()
        if not self.ctx.settings.calendar.is_work_day(today):
            return 0

        def work(uow: UnitOfWork) -> int:
            s = uow.session
            sent = 0
            for task in fulfilment.late_tasks(s, today):
                if not once(s, f"late-task:{task.id}:{today.isoformat()}", uow.now()):
                    continue
                lines = fulfilment.task_lines(s, task)
                for u in recipients.warehouse_staff(s, task.warehouse_id):  # active staff only
                    v = self.ctx.viewer(u)
                    card = shipping_task_card(task, lines, v)
                    card.subtitle = v.t("Past the requested date {requested_date}", requested_date=task.order.requested_date)
                    card.key = None  # a reminder, not a copy to keep updated
                    self.ctx.outbox.to_user(s, u, card=card)
                sent += 1
            return sent

        return self._run(work)


def missed_today(now: datetime, st: Settings) -> list[str]:
    """Daily jobs whose time has passed today. A process that was down at that time runs them when it starts
    (the once-per-day keys make that safe): a crash delays the reminders, it does not skip a day."""
    local = now.astimezone(st.tz)
    if not st.calendar.is_work_day(local.date()):
        return []
    return [name for name, at in (("overdue_digest", st.digest_time), ("late_tasks", st.work_start)) if local.time() >= at]


def start_scheduler(jobs: Jobs, now: Callable[[], datetime] | None = None):
    """APScheduler in the background: reminders every 5 minutes, digest and late tasks at the digest time."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    st = jobs.ctx.settings
    sched = BackgroundScheduler(timezone=st.timezone)
    sched.add_job(jobs.approval_reminders, "interval", minutes=5, id="approval_reminders", coalesce=True, max_instances=1)
    # Every day: the jobs skip days off by the work calendar (Settings.calendar), so a make-up Saturday has them too.
    sched.add_job(jobs.overdue_digest, CronTrigger(hour=st.digest_time.hour, minute=st.digest_time.minute,
                                                   timezone=st.timezone), id="overdue_digest", coalesce=True, max_instances=1)
    sched.add_job(jobs.late_tasks, CronTrigger(hour=st.work_start.hour, minute=st.work_start.minute,
                                               timezone=st.timezone), id="late_tasks", coalesce=True, max_instances=1)
    for name in missed_today((now or jobs.ctx.clock)(), st):
        sched.add_job(getattr(jobs, name), "date", id=f"{name}_catch_up")
    schedule_digests(sched, jobs, (now or jobs.ctx.clock)())
    sched.start()
    return sched
