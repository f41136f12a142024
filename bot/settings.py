"""Settings from the environment or `.env` (prefix ORDERTALK_). Secrets are SecretStr so they never print.

The core's settings are declared here; each installed platform's (bot/platforms.py) by its adapter, whose own model
reads its own variables. `Settings(...)` still takes a platform's fields as keywords (`Settings(slack_bot_token=…)`):
they are handed to that platform's model, which validates them; `settings.own(SlackSettings)` is the result."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.settings import AdapterSettings
from bot import platforms
from bot import secret_key as keys
from domain import parsing
from domain.calendar import WorkCalendar
from domain.db_guard import DbTimeouts

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "domain" / "default_rules.yaml"
A = TypeVar("A", bound=AdapterSettings)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERTALK_", env_file=".env", extra="ignore")
    _own: dict[type[AdapterSettings], AdapterSettings] = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        """The core's fields here; a platform's (`slack_bot_token=…`) go to its own model, built and validated here
        once, reading the same environment and `.env` (`_env_file` and the like apply to it too)."""
        installed = platforms.installed()
        mine = set(type(self).model_fields)
        wanted = {name for p in installed for name in p.settings.model_fields} - mine
        given = {k: values.pop(k) for k in list(values) if k in wanted}
        super().__init__(**values)
        sources = {k: v for k, v in values.items() if k.startswith("_")}
        for p in installed:
            fields = p.settings.model_fields
            shared = {k: getattr(self, k) for k in fields if k in mine}  # one value for the core and the adapter
            self._own[p.settings] = p.settings(**sources, **shared, **{k: v for k, v in given.items() if k in fields})

    # core
    database_url: str = "sqlite:///var/ordertalk.db"
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    order_prefix: str = "SO"
    rules_file: Path = DEFAULT_RULES
    secret_key: SecretStr | None = None  # signs action tokens and links (>= 32 bytes); generated into data_dir when unset
    data_dir: Path = Path("var")
    company_name: str = "OrderTalk 示例公司"  # printed on delivery notes and statements
    # Base of the links in cards (delivery notes, statements). Unset: the address this server listens on
    # (host and port below, which `ordertalk serve --host/--port` sets). Set it behind a proxy or on a platform.
    public_url: str | None = None
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    # What a person may type (domain.parsing): quantities up to max_quantity units, money up to max_amount.
    max_quantity: int = Field(default=parsing.QUANTITY_MAX, ge=1, le=2_147_483_647)  # order_lines.quantity is INTEGER
    max_amount: Decimal = Field(default=parsing.AMOUNT_MAX, gt=0, le=Decimal("1000000000000.00"))
    # A sales person ordering for another sales person's customer: refused, or placed in the owner's name with an
    # extra approval step for the owner's manager.
    orders_for_other_sales: Literal["refuse", "owner_manager"] = "refuse"

    # database time limits (PostgreSQL; domain.db_guard): a database that stops answering costs a request at most
    # db_interactive_timeout, then 503 + Retry-After until it answers again
    db_connect_timeout: int = Field(default=2, ge=2)  # libpq's minimum
    db_statement_timeout: float = Field(default=30.0, gt=0)
    db_interactive_timeout: float = Field(default=1.2, gt=0)  # per statement while a person or platform waits
    db_pool_timeout: float = Field(default=1.0, gt=0)

    # server / sandbox
    host: str = "127.0.0.1"
    port: int = 8000
    sandbox: bool = False
    run_dispatcher: bool = True  # outbox dispatcher + scheduler inside the server process
    run_scheduler: bool = True

    # inbox (bot.inbox): every callback is stored before it is acknowledged, then processed by a worker thread
    run_inbox: bool = True  # process the inbox in this process (ordertalk worker / serve); web workers need not
    inbox_inline: bool = False  # process each event in the request that received it, before answering (tests)
    inbox_poll_seconds: float = Field(default=0.2, gt=0)  # a worker in another process looks this often
    # Conversations processed side by side per worker process. Two: each claims the next event as soon as it is free,
    # so a long one (a file checked in chat) holds one; more threads only fight over the GIL (bench.interactive, PG,
    # 64 clients: 8 threads 64 decided/s and acks at 0.64 of the baseline, 2 threads 86/s and 0.87).
    inbox_threads: int = Field(default=2, ge=1)
    inbox_lease_seconds: float = Field(default=30.0, gt=0)

    # outbox
    outbox_max_attempts: int = 8
    outbox_give_up_hours: float = Field(default=24.0, ge=0)  # and at least this old: an outage costs no message
    outbox_backoff_base: float = 2.0  # seconds; doubled each try, with jitter
    outbox_backoff_max: float = 600.0
    outbox_lease_seconds: float = 60.0
    outbox_poll_seconds: float = 1.0
    # A claimed batch's sends in flight at once (distinct conversations). 16, not 8: a send thread recording the
    # finished deliveries or waiting for SQLite's writer lock is not free when the next token comes due; with 8,
    # sends started late and took new tokens, and SQLite drained a backlog at half the rate (bench.outage, fanout).
    outbox_send_threads: int = Field(default=16, ge=1)
    # client-side rate limits per platform and API method (bot.ratelimit); each platform's rates are its own settings
    rate_limits: bool = True
    outbox_keep_days: float = Field(default=7.0, gt=0)  # delivered rows (and processed inbox events) are pruned after

    # working time, reminders, escalation
    work_days: list[int] = [1, 2, 3, 4, 5]  # ISO weekdays
    work_start: time = time(9, 0)
    work_end: time = time(18, 0)
    approval_remind_hours: float = 4
    approval_escalate_hours: float = 8
    nudge_interval_minutes: int = 60
    digest_time: time = time(9, 30)
    overdue_escalate_days: list[int] = [7, 30]
    # The managers' digests (bot.digests): the daily one on every work day at this local time, the weekly one at the
    # same time on the first work day of the week. Holidays and make-up days (调休) as ISO dates, e.g.
    # ORDERTALK_HOLIDAYS='["2027-01-01"]'; work_days, holidays and make-up days make the work calendar.
    daily_digest_time: time = time(9, 0)
    holidays: list[date] = []
    make_up_work_days: list[date] = []

    # files sent to the bot to import (XLSX / CSV, bank statements)
    chat_import_max_bytes: int = 10 * 1024 * 1024
    chat_import_valid_hours: float = 24  # how long a check's Import button works

    @field_validator("secret_key")
    @classmethod
    def _strong_key(cls, v: SecretStr | None) -> SecretStr | None:
        # An empty or short key signs links anyone can forge: refuse it at start (unset means "generate one").
        if v is not None:
            keys.check(v.get_secret_value().encode(), "ORDERTALK_SECRET_KEY")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        ZoneInfo(v)  # raises on an unknown zone: fail at start, not at the first reminder
        return v

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar(frozenset(self.work_days), frozenset(self.holidays), frozenset(self.make_up_work_days))

    @property
    def db_timeouts(self) -> DbTimeouts:
        return DbTimeouts(connect=self.db_connect_timeout, statement=self.db_statement_timeout,
                          interactive=self.db_interactive_timeout, pool=self.db_pool_timeout)

    @property
    def limits(self) -> parsing.Limits:
        return parsing.Limits(max_quantity=self.max_quantity, max_amount=self.max_amount)

    def own(self, model: type[A]) -> A:
        """An installed platform's settings model, as built from these settings (adapters/settings.py)."""
        found = self._own.get(model)
        if found is None:  # not an installed platform's model: built from the same sources and shared fields
            found = model(**{k: getattr(self, k) for k in model.model_fields if k in type(self).model_fields})
            self._own[model] = found
        assert isinstance(found, model)
        return found

    def link_base(self) -> str:
        """Where people open document links: ORDERTALK_PUBLIC_URL, else the address the server serves on."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "::", ""):  # listening everywhere: a link needs a name others can reach
            import socket

            host = socket.gethostname()
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address
        return f"http://{host}:{self.port}"

    def secret_values(self) -> list[str]:
        """Every configured secret, for bot.redaction to mask wherever a library would log one."""
        mine = [v.get_secret_value() for v in (getattr(self, name) for name in type(self).model_fields)
                if isinstance(v, SecretStr)]
        return mine + [secret for own in self._own.values() for secret in own.secret_values()]

    def token_secret(self) -> bytes:
        """The signing key: ORDERTALK_SECRET_KEY, else the one generated into the data folder (bot.secret_key)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        return keys.load_or_create(self.data_dir)
