"""People who write to the bot from an account no user is linked to: noted once per account, then linked to a user
or ignored by an admin. Every write here; the bot only talks (bot/unknown_people.py). Never commits."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.audit import Actor, record
from domain.errors import AlreadyDecided, NotFound, PermissionDenied, ValidationFailed
from domain.linking import link_identity
from domain.models import UnknownPerson, User
from domain.permissions import may_link_people
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class Noted:
    person: UnknownPerson
    first: bool  # the account's first message: the admins are to be asked, once


def note_stranger(uow: UnitOfWork, platform: str, external_id: str, *, display_name: str | None, locale: str,
                  text: str) -> Noted:
    """Count a message from an unlinked account; the first one makes its row (two first messages at once: one row,
    and only one of them is `first`)."""
    s = uow.session
    now = uow.now()
    person = s.scalar(select(UnknownPerson).where(UnknownPerson.platform == platform,
                                                  UnknownPerson.external_id == external_id))
    if person is not None:
        person.messages += 1
        person.last_seen = now
        if display_name and not person.display_name:
            person.display_name = display_name[:100]
        return Noted(person, first=False)
    person = UnknownPerson(platform=platform, external_id=external_id, display_name=(display_name or "")[:100] or None,
                           locale=locale, first_text=text.strip()[:200], messages=1, status="pending", first_seen=now,
                           last_seen=now)
    try:
        with s.begin_nested():
            s.add(person)
    except IntegrityError:
        twin = s.scalar(select(UnknownPerson).where(UnknownPerson.platform == platform,
                                                    UnknownPerson.external_id == external_id))
        assert twin is not None
        return Noted(twin, first=False)
    return Noted(person, first=True)


def keep_locale(uow: UnitOfWork, person_id: int, locale: str) -> None:
    """The language the platform said the person reads, asked after their first message."""
    person = uow.session.get(UnknownPerson, person_id)
    if person is not None:
        person.locale = locale


def pending_stranger(uow: UnitOfWork, by: User, person_id: int) -> UnknownPerson:
    """The account an admin is deciding on; refused for anyone else, or when it was decided already."""
    if not may_link_people(by):
        raise PermissionDenied("Only admins can link people to their accounts")
    person = uow.session.get(UnknownPerson, person_id)
    if person is None:
        raise NotFound("No such account")
    if person.status != "pending":
        decider = uow.session.get(User, person.decided_by_id) if person.decided_by_id else None
        raise AlreadyDecided("Already decided by {name}", name=decider.display_name if decider else "—")
    return person


def link_stranger(uow: UnitOfWork, by: User, actor: Actor, person_id: int, *, user_id: int | None = None,
                  username: str = "", linkable: Collection[str]) -> tuple[UnknownPerson, User]:
    """Link the account to the user chosen by id (a preset) or by username (a form's select); audited by
    `link_identity`."""
    person = pending_stranger(uow, by, person_id)
    s = uow.session
    chosen = s.get(User, user_id) if user_id is not None else s.scalar(
        select(User).where(User.username == username.strip())) if username.strip() else None
    if chosen is None:
        raise ValidationFailed("Choose the user this account belongs to", field="user")
    link_identity(uow, by, actor, chosen.id, person.platform, person.external_id, linkable=linkable, how="chat")
    person.status, person.user_id = "linked", chosen.id
    person.decided_by_id, person.decided_at = by.id, uow.now()
    return person, chosen


def ignore_stranger(uow: UnitOfWork, by: User, actor: Actor, person_id: int) -> UnknownPerson:
    """Nobody is asked about the account again; it can still be linked later from the command line."""
    person = pending_stranger(uow, by, person_id)
    person.status, person.decided_by_id, person.decided_at = "ignored", by.id, uow.now()
    record(uow, None, actor, "ignored_account", subject=f"unknown:{person.id}", platform=person.platform,
           external_id=person.external_id)
    return person
