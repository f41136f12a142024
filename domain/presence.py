"""Out of office (外出/休假) with a delegate, and coming back."""

from __future__ import annotations

from datetime import date

from domain.audit import Actor, record
from domain.eligibility import eligible_delegates
from domain.errors import ValidationFailed
from domain.messages import Message
from domain.models import User
from domain.rules import RuleSet
from domain.uow import UnitOfWork

_MAX_NAMES = 6


def set_away(uow: UnitOfWork, user: User, until: date, delegate: User, today: date, actor: Actor,
             rules: RuleSet) -> None:
    """Approvals go to `delegate` until `until`. The delegate must be able to decide every step `user` approves in
    their own right (same role, or named in the rule); otherwise refused, naming who would be eligible. Orders the
    delegate created or owns still never reach them (domain.approvals checks that per order)."""
    if delegate.id == user.id:
        raise ValidationFailed("You cannot delegate to yourself", field="delegate")
    if until < today:
        raise ValidationFailed("That date is in the past")
    if not delegate.active:
        raise ValidationFailed("{display_name} is inactive", field="delegate", display_name=delegate.display_name)
    steps, eligible = eligible_delegates(uow.session, rules, user)
    if delegate.id not in {u.id for u in eligible}:
        names = [u.display_name for u in eligible[:_MAX_NAMES]] + (["…"] if len(eligible) > _MAX_NAMES else [])
        who = (Message("Eligible: {names}", {"names": names}) if eligible
               else Message("Nobody else holds these approvals now; ask an admin"))
        raise ValidationFailed(
            "{delegate} cannot approve for you: a delegate must be able to decide '{steps}' in their own right "
            "(same role, or named in the rule). {who}",
            field="delegate", delegate=delegate.display_name, steps=steps, who=who,
            eligible=",".join(u.username for u in eligible),
        )
    user.away_until = until
    user.delegate_id = delegate.id
    record(uow, None, actor, "away", until=until.isoformat(), delegate=delegate.display_name, user=user.display_name)


def come_back(uow: UnitOfWork, user: User, actor: Actor) -> None:
    user.away_until = None
    user.delegate_id = None
    record(uow, None, actor, "back", user=user.display_name)
