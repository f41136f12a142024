"""The bot's one way to run work that is not a conversation turn (scheduled jobs, digests) in a transaction: the
work, then what its events cause (notifications, outbox rows), then commit — all or nothing. The conversation turn has
its own in bot/core.py, which also records the inbound event and the refusal path."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.context import BotContext
from bot.notifications import publish
from domain.uow import UnitOfWork

T = TypeVar("T")


def run_unit(ctx: BotContext, sessions: sessionmaker[Session], work: Callable[[UnitOfWork], T]) -> T | None:
    """None when a concurrent twin (another scheduler) committed the same once-only key first: nothing to send."""
    uow = ctx.unit_of_work(sessions)
    try:
        with uow:
            result = work(uow)
            publish(uow, ctx)
            uow.commit()
    except IntegrityError:
        return None
    return result
