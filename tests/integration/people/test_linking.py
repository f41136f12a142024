"""domain.linking.link_identity: the one command that links a user to a platform account — admins only, audited,
refused (nothing changed) when the account is someone else's or the user has another account there."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain.audit import Actor
from domain.errors import PermissionDenied, ValidationFailed
from domain.linking import link_identity
from domain.models import AuditEntry, PlatformIdentity, User
from domain.uow import UnitOfWork
from tests.world import build_world


def test_link_identity_refusals_and_audit(session_factory: sessionmaker[Session]) -> None:
    w = build_world(session_factory)

    def attempt(by: str | None, user: str, external_id: str, platform: str = "slack") -> None:
        uow = UnitOfWork(session_factory)
        with uow:
            who = uow.session.get(User, w[by]) if by else None
            link_identity(uow, who, Actor(who.id if who else None, "test"), w[user], platform, external_id,
                          linkable=("slack", "dingtalk", "wecom"))
            uow.commit()

    def count(model: type) -> int:
        with session_factory() as s:
            return int(s.scalar(select(func.count()).select_from(model)))

    with pytest.raises(PermissionDenied):
        attempt("boss", "sales2", "U0AMY")  # a sales manager is no admin
    with pytest.raises(ValidationFailed, match="already linked to"):
        attempt("admin", "sales2", "U_LI")  # li's account
    with pytest.raises(ValidationFailed, match="another account"):
        attempt("admin", "sales", "U0LI2")  # li has U_LI on Slack
    with pytest.raises(ValidationFailed, match="Unknown platform"):
        attempt("admin", "sales2", "x", platform="msn")
    assert count(PlatformIdentity) == 1 and count(AuditEntry) == 0
    attempt("admin", "sales2", "U0AMY")
    attempt(None, "sales2", "amy-dt", platform="dingtalk")  # the operator at the command line
    with session_factory() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "linked").order_by(AuditEntry.id)).all()
        assert [(e.actor_id, e.subject, e.details["external_id"]) for e in entries] == [
            (w["admin"], f"user:{w['sales2']}", "U0AMY"), (None, f"user:{w['sales2']}", "amy-dt")]
    attempt("admin", "sales2", "U0AMY")  # again: already so, nothing new
    assert count(AuditEntry) == 2
