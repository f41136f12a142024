"""domain/strangers.py: an unlinked account is noted once, decided once, by an admin only; the decisions are audited.
The conversation around it (cards to admins, the polite answer in the person's language) is in
tests/integration/people/test_unknown_people.py."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from domain import strangers
from domain.audit import Actor
from domain.errors import AlreadyDecided, PermissionDenied, ValidationFailed
from domain.models import AuditEntry, PlatformIdentity, UnknownPerson, User
from domain.uow import UnitOfWork
from tests.world import build_world


def _note(factory, clock, external_id: str = "U0CHEN") -> strangers.Noted:  # type: ignore[no-untyped-def]
    with UnitOfWork(factory, clock) as uow:
        noted = strangers.note_stranger(uow, "slack", external_id, display_name="Chen", locale="en", text=" hello ")
        person_id, first = noted.person.id, noted.first
        uow.commit()
    with factory() as s:
        return strangers.Noted(s.get(UnknownPerson, person_id), first)  # type: ignore[arg-type]


def test_an_account_is_noted_once_and_its_messages_counted(session_factory, clock) -> None:  # type: ignore[no-untyped-def]
    build_world(session_factory)
    first, again = _note(session_factory, clock), _note(session_factory, clock)
    assert (first.first, again.first) == (True, False)
    assert again.person.id == first.person.id and again.person.messages == 2 and again.person.first_text == "hello"


def test_only_an_admin_decides_and_only_once(session_factory, clock) -> None:  # type: ignore[no-untyped-def]
    w = build_world(session_factory)
    person = _note(session_factory, clock).person
    with UnitOfWork(session_factory, clock) as uow:
        sales = uow.session.get(User, w["sales"])
        with pytest.raises(PermissionDenied):
            strangers.ignore_stranger(uow, sales, Actor(sales.id, "test"), person.id)
        admin = uow.session.get(User, w["admin"])
        with pytest.raises(ValidationFailed):  # nobody chosen
            strangers.link_stranger(uow, admin, Actor(admin.id, "test"), person.id, username="  ", linkable=("slack",))
        linked, user = strangers.link_stranger(uow, admin, Actor(admin.id, "test"), person.id, username="amy", linkable=("slack",))
        assert (linked.status, linked.user_id, linked.decided_by_id, user.username) == ("linked", w["sales2"], w["admin"],
                                                                                         "amy")
        uow.commit()
    with UnitOfWork(session_factory, clock) as uow:
        admin = uow.session.get(User, w["admin"])
        with pytest.raises(AlreadyDecided):
            strangers.ignore_stranger(uow, admin, Actor(admin.id, "test"), person.id)
    with session_factory() as s:
        assert s.scalar(select(PlatformIdentity.user_id).where(PlatformIdentity.external_id == "U0CHEN")) == w["sales2"]
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "linked")) == 1


def test_ignoring_an_account_is_audited(session_factory, clock) -> None:  # type: ignore[no-untyped-def]
    w = build_world(session_factory)
    person = _note(session_factory, clock, "U0WU").person
    with UnitOfWork(session_factory, clock) as uow:
        admin = uow.session.get(User, w["admin"])
        strangers.ignore_stranger(uow, admin, Actor(admin.id, "test"), person.id)
        uow.commit()
    with session_factory() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "ignored_account")).one()
        assert entry.actor_id == w["admin"] and entry.details["external_id"] == "U0WU"
        assert s.get(UnknownPerson, person.id).status == "ignored"  # type: ignore[union-attr]
