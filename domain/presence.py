"""Out of office (外出/休假) with a delegate, and coming back."""

from __future__ import annotations

from datetime import date

from domain.audit import Actor, record
from domain.errors import ValidationFailed
from domain.models import User
from domain.uow import UnitOfWork


def set_away(uow: UnitOfWork, user: User, until: date, delegate: User, today: date, actor: Actor) -> None:
    if delegate.id == user.id:
        raise ValidationFailed("You cannot delegate to yourself")
    if until < today:
        raise ValidationFailed("That date is in the past")
    if not delegate.active:
        raise ValidationFailed("{display_name} is inactive", display_name=delegate.display_name)
    user.away_until = until
    user.delegate_id = delegate.id
    record(uow, None, actor, "away", until=until.isoformat(), delegate=delegate.display_name, user=user.display_name)


def come_back(uow: UnitOfWork, user: User, actor: Actor) -> None:
    user.away_until = None
    user.delegate_id = None
    record(uow, None, actor, "back", user=user.display_name)
