"""The composition root: builds the database, the bot core, the dispatcher, the scheduler and the Flask app.

Tests call `build()` with their own settings (a temporary database, a controlled clock, fake servers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from weakref import WeakKeyDictionary

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from adapters.platform import Wiring
from bot import chat_imports, platforms, redaction
from bot import unknown_people as up
from bot.context import BotContext
from bot.core import BotCore
from bot.dispatcher import Dispatcher
from bot.files import FileStore
from bot.inbox import Inbox, InboxCore, prepare_store
from bot.jobs import Jobs
from bot.outbox import Outbox
from bot.ports import Deliverer
from bot.ratelimit import RateLimiter, by_platform
from bot.receivers import Receivers
from bot.settings import Settings
from bot.tokens import TokenSigner
from domain.db import inbox_url, make_engine, make_session_factory
from domain.rules import load_rules
from domain.types import utcnow


@dataclass
class OrderTalk:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    ctx: BotContext
    core: BotCore
    dispatcher: Dispatcher
    jobs: Jobs
    flask: Flask
    receivers: Receivers
    inbox: Inbox
    inbound: InboxCore  # what the adapters call: stores each event, then processes it (inline) or leaves it to the worker
    deliverers: dict[str, Deliverer] = field(default_factory=dict)
    scheduler: Any = None
    inbox_engine: Engine | None = None  # the inbox's own database (a SQLite file of its own), else None

    def check_receivers(self) -> None:
        """Long-running processes call this at start: a callback-mode mismatch is an error, not a silent loss."""
        self.receivers.check(self.settings)

    def start_background(self) -> None:
        from bot.jobs import start_scheduler

        if self.settings.run_dispatcher:
            self.dispatcher.start(self.settings.outbox_poll_seconds, keep=timedelta(days=self.settings.outbox_keep_days),
                                  also=self.inbox.prune)
        if self.settings.run_inbox:
            self.inbox.start(self.settings.inbox_poll_seconds)
        if self.settings.run_scheduler and self.scheduler is None:
            self.scheduler = start_scheduler(self.jobs)
        from bot.documents import charts, fonts

        def warm() -> None:  # documents ready for the first click, charts for the first report
            fonts.warm()
            charts.warm()

        threading.Thread(target=warm, name="ordertalk-fonts", daemon=True).start()

    def stop_background(self) -> None:
        self.inbox.stop()
        self.dispatcher.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None


_inbox_engines: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def build(settings: Settings | None = None, *, clock: Callable[[], datetime] = utcnow,
          deliverers: dict[str, Deliverer] | None = None, engine: Engine | None = None,
          inbox_engine: Engine | None = None) -> OrderTalk:
    from bot.app import create_app
    from bot.documents_web import documents_blueprint

    settings = settings or Settings()
    signing_key = settings.token_secret()  # a weak or unreadable key stops the start (bot.secret_key)
    redaction.install([*settings.secret_values(), signing_key.decode(errors="replace")])
    rules = load_rules(settings.rules_file)  # a broken rules file stops the start, naming rule and field
    engine = engine or make_engine(settings.database_url, timeouts=settings.db_timeouts)
    sessions = make_session_factory(engine)
    if inbox_engine is None and (own_file := inbox_url(settings.database_url)) is not None:
        # one per main engine: apps built on one engine (tests) share its inbox file's engine and writer queue
        inbox_engine = _inbox_engines.get(engine)
        if inbox_engine is None or inbox_engine.url.render_as_string(hide_password=False) != own_file:
            inbox_engine = _inbox_engines[engine] = make_engine(own_file, timeouts=settings.db_timeouts)
    if inbox_engine is not None:
        prepare_store(inbox_engine)  # as `ordertalk db upgrade` does: a start never meets a missing inbox file
    registry: dict[str, Deliverer] = dict(deliverers or {})
    installed = platforms.installed()  # each platform's descriptor (adapters/platform.py): the root names none
    by_user_id = tuple(p.name for p in installed if p.ids_are_user_ids)
    outbox = Outbox(lambda: registry.keys(), clock, by_user_id=by_user_id)
    signer = TokenSigner(signing_key)  # the one signer: the core's, and every adapter's through install()
    ctx = BotContext(settings=settings, signer=signer, outbox=outbox, rules=rules, clock=clock,
                     linkable=tuple(p.name for p in installed if p.links_people), by_user_id=frozenset(by_user_id),
                     sandboxes=frozenset(p.name for p in installed if p.is_sandbox))
    limiter = RateLimiter(sessions, by_platform({
        p.name: p.rate_limits(settings.own(p.settings)) for p in installed if p.rate_limits is not None
    })) if settings.rate_limits else None
    dispatcher = Dispatcher(sessions, registry, max_attempts=settings.outbox_max_attempts,
                            backoff_base=settings.outbox_backoff_base, backoff_max=settings.outbox_backoff_max,
                            lease_seconds=settings.outbox_lease_seconds, clock=clock, limiter=limiter,
                            send_threads=settings.outbox_send_threads,
                            give_up_after=timedelta(hours=settings.outbox_give_up_hours), by_user_id=by_user_id)
    core = BotCore(sessions, ctx, wake=dispatcher.wake)
    inbox = Inbox(sessions, core, clock=clock, lease_seconds=settings.inbox_lease_seconds, threads=settings.inbox_threads,
                  store=make_session_factory(inbox_engine) if inbox_engine is not None else None)
    inbound = InboxCore(inbox, inline=settings.inbox_inline)
    inbox.register_raw(chat_imports.JOB, core.imports.run_job)  # files sent in are checked by inbox jobs
    core.imports.kick = inbox.kick  # … started at once after the commit that stored them, here
    inbox.register_raw(up.JOB, partial(up.answer_stranger, sessions, ctx, dispatcher.wake))  # in their language
    jobs = Jobs(sessions, ctx, wake=dispatcher.wake)
    app = create_app(settings, engine, inbox_engine)
    app.register_blueprint(documents_blueprint(ctx, sessions))
    receivers = Receivers(sessions, clock)
    files = FileStore(sessions, clock)  # the deliverers upload report charts from here
    for p in installed:
        own = settings.own(p.settings)  # the adapter's own settings model: it reads nothing else
        # The sandbox answers in the request (someone is looking at the page): its events are stored, then
        # processed right away in the request that received them, whatever the other platforms do.
        wiring = Wiring(app=app, core=InboxCore(inbox, inline=True) if p.answers_inline else inbound, signer=signer,
                        sessions=sessions, files=files, receiver_mode=partial(receivers.mode, p.name))
        if (d := p.install(wiring, own)) is not None:
            registry.setdefault(p.name, d)
        if p.file_source is not None and (found := p.file_source(own)) is not None:  # files people send the bot
            ctx.file_sources[p.name] = found
        if p.person_locale is not None and (said := p.person_locale(own)) is not None:  # a stranger's language
            ctx.person_locales[p.name] = said
        if p.group_chat is not None and (chat := p.group_chat(own)) and p.name in registry:
            ctx.group_chats[p.name] = chat
    ot = OrderTalk(settings, engine, sessions, ctx, core, dispatcher, jobs, app, receivers, inbox, inbound, registry,
                   inbox_engine=inbox_engine)
    app.extensions["ordertalk"] = ot
    return ot

