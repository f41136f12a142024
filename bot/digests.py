"""The daily and the weekly digest, sent by the scheduler (bot.jobs calls in here).

- **Daily**, on every work day of the work calendar (Settings.calendar: work days, holidays, make-up days) at
  `daily_digest_time`: sales managers, admins and finance who receive it get one card (domain.reports.digest: sales
  since the last work day against as many days before, approvals waiting, overdue receivables, low stock, late
  shipping tasks) with a button per list it summarises; a sales person who subscribed gets one line about their own.
- **Weekly**, on the first work day of the week (Monday, or the day after a Monday holiday) at the same time: last
  week's sales trend (card, chart, spreadsheet) and the sales leaderboard, through the reports' own views.
- A day with nothing to say is one line, "all quiet".

Once per person per day (per week): each digest first claims `digest-daily:<user>:<date>` (`digest-weekly:<user>:
<iso week>`) in `sent_reminders`, in the transaction that writes its outbox rows, one transaction per person. A second
scheduler running at the same moment meets the claimed key (on PostgreSQL it waits for the first to commit, then
fails on the key) and sends nothing for that person; a process started after the digest time sends what today has
not had yet (`missed`), and a restart finds the keys and sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.cards.digests import LISTS, daily_card, daily_line, quiet_line, weekly_title
from bot.cards.model import Card
from bot.cards.report_sales import leaderboard_view, trend_view
from bot.cards.reports import ReportView, report_card, scope_line
from bot.context import BotContext
from bot.notifications import once
from bot.settings import Settings
from bot.unit import run_unit
from domain import fulfilment
from domain.models import User
from domain.parsing import named_period
from domain.reports import Grain, Scope, ScopeKind, scope_for
from domain.reports.digest import Daily, covered_days, daily
from domain.reports.sales import leaderboard, trend
from domain.subscriptions import DigestKind, recipients
from domain.uow import UnitOfWork

log = logging.getLogger("ordertalk.digests")


class Digests:
    def __init__(self, sessions: sessionmaker[Session], ctx: BotContext, wake: Callable[[], None] = lambda: None) -> None:
        self.sessions = sessions
        self.ctx = ctx
        self.wake = wake

    # ------------------------------------------------------------ the two digests
    def daily(self) -> int:
        """Today's daily digest to everyone who receives it and has not had it; the number sent."""
        today = self.ctx.today()
        cal = self.ctx.settings.calendar
        if not cal.is_work_day(today):
            return 0
        covered = covered_days(today, cal.previous_work_day(today))

        def send(uow: UnitOfWork, user: User, scope: Scope) -> None:
            s, v = uow.session, self.ctx.viewer(user)
            figures = daily(s, scope, user.id, covered, today, self.ctx.settings.tz)
            if figures.quiet:
                self.ctx.outbox.to_user(s, user, text=quiet_line(DigestKind.DAILY, v, v.texts.period(covered, today)))
            elif scope.kind == ScopeKind.OWN:
                self.ctx.outbox.to_user(s, user, text=daily_line(figures, v, today))
            else:
                lists = [w for w in LISTS if self._has_list(s, user, w, figures)]
                card = daily_card(figures, v, today, scope_line(v.texts, scope), lists)
                self.ctx.outbox.to_user(s, user, card=card)

        return self._each(DigestKind.DAILY, f"digest-daily:{{user}}:{today.isoformat()}", send)

    def weekly(self) -> int:
        """Last week's trend and leaderboard, on the first work day of the week; the number of people sent to."""
        today = self.ctx.today()
        if self.ctx.settings.calendar.first_work_day_of_week(today) != today:
            return 0
        week = named_period("last_week", today=today)
        year, number, _ = week.start.isocalendar()
        tz = self.ctx.settings.tz

        def send(uow: UnitOfWork, user: User, scope: Scope) -> None:
            s, v = uow.session, self.ctx.viewer(user)
            sales = trend(s, scope, week, tz, Grain.DAY)
            if not (sales.total.orders or sales.previous_total.orders):
                self.ctx.outbox.to_user(s, user, text=quiet_line(DigestKind.WEEKLY, v, v.texts.period(week, today)))
                return
            cards = [self._report(uow, user, trend_view(sales, v), scope)]
            if scope.kind != ScopeKind.OWN:  # a sales person's own leaderboard is a list of one
                cards.append(self._report(uow, user, leaderboard_view(leaderboard(s, scope, week, tz), v), scope))
            for card in cards:
                self.ctx.outbox.to_user(s, user, card=card)

        return self._each(DigestKind.WEEKLY, f"digest-weekly:{{user}}:{year}-W{number:02d}", send)

    # ------------------------------------------------------------ plumbing
    def _report(self, uow: UnitOfWork, user: User, view: ReportView, scope: Scope) -> Card:
        v = self.ctx.viewer(user)
        card = report_card(uow.session, view, v, uow.now(), lambda key, ext: self.ctx.file_url(key, ext, user.locale),
                           scope_line(v.texts, scope))
        card.title = weekly_title(v, card.title)
        card.key = None  # a digest, not a copy to keep up to date
        card.data["digest"] = DigestKind.WEEKLY.value
        return card

    @staticmethod
    def _has_list(s: Session, user: User, which: str, figures: Daily) -> bool:
        """Whether the daily card offers this list's button: something in it, and the reader's command shows it."""
        if which == "approvals":
            return bool(figures.approvals_mine)  # `待审批` lists what waits for the reader
        if which == "overdue":
            return bool(figures.overdue)
        if which == "low_stock":
            return bool(figures.low_stock)
        return bool(figures.late_tasks) and fulfilment.count_open_tasks(s, user) > 0  # `任务` lists the warehouse's

    def _each(self, kind: DigestKind, key: str, send: Callable[[UnitOfWork, User, Scope], None]) -> int:
        with self.sessions() as s:
            people = [u.id for u in recipients(s, kind)]
        sent = 0
        for uid in people:
            def one(uow: UnitOfWork, uid: int = uid) -> bool:
                user = uow.session.get(User, uid)
                scope = scope_for(uow.session, user) if user is not None else None
                if user is None or scope is None or scope.kind == ScopeKind.WAREHOUSE:
                    return False
                if not once(uow.session, key.format(user=uid), uow.now()):
                    return False
                send(uow, user, scope)
                return True

            try:
                done = run_unit(self.ctx, self.sessions, one)  # None: another scheduler claimed it first
            except Exception:
                log.exception("%s digest for user %s failed; the next run tries again", kind.value, uid)
                continue
            if done:
                sent += 1
        if sent:
            self.wake()
        return sent


def missed(now: datetime, st: Settings) -> list[str]:
    """The digests a process starting now has to catch up on today: the daily one on a work day after its time, the
    weekly one too on the first work day of the week (the keys make running them again harmless)."""
    local = now.astimezone(st.tz)
    today: date = local.date()
    cal = st.calendar
    if not cal.is_work_day(today) or local.time() < st.daily_digest_time:
        return []
    return ["daily_digest"] + (["weekly_digest"] if cal.first_work_day_of_week(today) == today else [])


def schedule(sched: Any, jobs: Any, now: datetime) -> None:
    """Both digests on an APScheduler: every day at the digest time (the jobs themselves skip days off, so a make-up
    Saturday has its digest), and today's missed ones right away."""
    from apscheduler.triggers.cron import CronTrigger

    st: Settings = jobs.ctx.settings
    at = st.daily_digest_time
    for name in ("daily_digest", "weekly_digest"):
        sched.add_job(getattr(jobs, name), CronTrigger(hour=at.hour, minute=at.minute, timezone=st.timezone), id=name,
                      coalesce=True, max_instances=1, misfire_grace_time=3600)
    for name in missed(now, st):
        sched.add_job(getattr(jobs, name), "date", id=f"{name}_catch_up")
