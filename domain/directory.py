"""People: find users by name or username, resolve platform identities, link them."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from domain.errors import NotFound, ValidationFailed
from domain.models import PlatformIdentity, User


def check_linkable(platform: str, linkable: Collection[str]) -> None:
    """Domain names no platform: the composition root says which installed ones link people (bot/platforms.py)."""
    if platform not in linkable:
        raise ValidationFailed("Unknown platform {platform} (use one of {platforms})", platform=platform,
                               platforms=", ".join(linkable))


def find_users(session: Session, query: str) -> list[User]:
    q = unicodedata.normalize("NFKC", query).strip().casefold()
    if not q:
        return []
    exact = session.scalars(select(User).where(or_(func.lower(User.username) == q, func.lower(User.display_name) == q))).all()
    if exact:
        return list(exact)
    return list(session.scalars(select(User).where(or_(func.lower(User.display_name).like(f"%{q}%"),
                                                       func.lower(User.username).like(f"%{q}%"))).limit(10)))


def users_by_id(session: Session, ids: Iterable[int]) -> dict[int, User]:
    """The users with these ids, in one query."""
    wanted = sorted(set(ids))
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))} if wanted else {}


def identify(session: Session, platform: str, external_id: str, *, by_user_id: bool = False) -> User | None:
    """The user behind `external_id` on `platform`; `by_user_id`: that platform's ids are user ids (the sandbox)."""
    if by_user_id:
        return session.get(User, int(external_id)) if external_id.isdigit() else None
    return session.scalar(
        select(User).join(PlatformIdentity).where(PlatformIdentity.platform == platform,
                                                  PlatformIdentity.external_id == external_id)
    )


def link(session: Session, username: str, platform: str, external_id: str, *,
         linkable: Collection[str]) -> PlatformIdentity:
    check_linkable(platform, linkable)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("No user {username}", username=username)
    ident = session.scalar(select(PlatformIdentity).where(PlatformIdentity.platform == platform,
                                                          PlatformIdentity.external_id == external_id))
    if ident is None:
        ident = PlatformIdentity(platform=platform, external_id=external_id, user_id=user.id)
        session.add(ident)
    else:
        ident.user_id = user.id
    session.flush()
    return ident
