"""Out of office (外出/休假) with a delegate, and coming back."""

from __future__ import annotations

from datetime import date

from domain.audit import Actor, record
from domain.errors import ValidationFailed
from domain.models import User
from domain.uow import UnitOfWork


def set_away(uow: UnitOfWork, user: User, until: date, delegate: User, today: date, actor: Actor) -> None:
    if delegate.id == user.id:
        raise ValidationFailed("不能转交给自己", "You cannot delegate to yourself")
    if until < today:
        raise ValidationFailed("结束日期已过", "That date is in the past")
    if not delegate.active:
        raise ValidationFailed(f"{delegate.display_name} 已停用", f"{delegate.display_name} is inactive")
    user.away_until = until
    user.delegate_id = delegate.id
    record(uow, None, actor, "away", until=until.isoformat(), delegate=delegate.display_name, user=user.display_name)


def come_back(uow: UnitOfWork, user: User, actor: Actor) -> None:
    user.away_until = None
    user.delegate_id = None
    record(uow, None, actor, "back", user=user.display_name)
