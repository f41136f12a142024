"""Who receives which digest: the daily and the weekly one (bot.digests sends them).

- Sales managers and admins receive both unless they unsubscribe: the digest is written for them.
- Sales people and finance receive one when they subscribe (a sales person's daily digest is one line about their
  own figures; finance see everything, as in the reports).
- Warehouse staff have no digest (their work comes as shipping tasks); subscribing is refused, and someone who
  subscribed and later became warehouse staff only receives nothing.

A choice is a row of `digest_subscriptions` (true or false); without one the default above holds, so a new manager
receives the digest from their first day and a manager who unsubscribed stays unsubscribed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit import Actor, record
from domain.errors import PermissionDenied
from domain.models import DigestSubscription, Role, User
from domain.uow import UnitOfWork


class DigestKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


SUBSCRIBED_BY_DEFAULT = (Role.SALES_MANAGER, Role.ADMIN)
MAY_SUBSCRIBE = (Role.SALES, Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN)


def may_receive(user: User) -> bool:
    return user.active and user.has_role(*MAY_SUBSCRIBE)


def by_default(user: User) -> bool:
    return user.has_role(*SUBSCRIBED_BY_DEFAULT)


def choices(session: Session, user: User) -> dict[DigestKind, bool]:
    """Whether this person receives each digest (their own choice, else the default for their roles)."""
    chosen = {DigestKind(k): on for k, on in session.execute(
        select(DigestSubscription.kind, DigestSubscription.subscribed).where(DigestSubscription.user_id == user.id))}
    receives = may_receive(user)
    return {kind: receives and chosen.get(kind, by_default(user)) for kind in DigestKind}


def choose(uow: UnitOfWork, user: User, kind: DigestKind, subscribed: bool, actor: Actor) -> bool:
    """Record a choice; False when it was already so (nothing changed, nothing recorded)."""
    if not may_receive(user):
        raise PermissionDenied("Digests are for sales, sales managers, finance and admins")
    if choices(uow.session, user)[kind] == subscribed:
        return False
    row = uow.session.get(DigestSubscription, (user.id, kind.value))
    now: datetime = uow.now()
    if row is None:
        uow.session.add(DigestSubscription(user_id=user.id, kind=kind.value, subscribed=subscribed, updated_at=now))
    else:
        row.subscribed, row.updated_at = subscribed, now
    record(uow, None, actor, "digest_subscribed" if subscribed else "digest_unsubscribed", subject=f"user:{user.id}",
           digest=kind.value)
    return True


def recipients(session: Session, kind: DigestKind) -> list[User]:
    """Everyone who receives this digest, by user id: active, allowed, and subscribed by choice or by default."""
    chosen = {uid: on for uid, on in session.execute(select(DigestSubscription.user_id, DigestSubscription.subscribed)
                                                      .where(DigestSubscription.kind == kind.value))}
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
    return [u for u in users if may_receive(u) and chosen.get(u.id, by_default(u))]
