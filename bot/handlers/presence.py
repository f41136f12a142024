"""外出 / away with a delegate, and 回来了 / back."""

from __future__ import annotations

from datetime import date

from bot.cards.model import Reply
from bot.handlers.base import Turn
from domain import presence
from domain.directory import find_users


def away(turn: Turn, until: date, delegate_query: str | None) -> list[Reply]:
    if not delegate_query:
        return turn.error("Name a delegate: away until 2026-12-01 delegate Tom", field="delegate")
    found = [u for u in find_users(turn.uow.session, delegate_query) if u.id != turn.user.id]
    if len(found) != 1:
        if not found:
            return turn.error("Nobody matches '{query}'", field="delegate", query=delegate_query)
        names = turn.texts.join(u.display_name for u in found[:6])
        return turn.error("'{query}' matches {count} people: {names}", field="delegate", query=delegate_query,
                          count=len(found), names=names)
    delegate = found[0]
    presence.set_away(turn.uow, turn.user, until, delegate, turn.ctx.today(), turn.actor, turn.ctx.rules)
    return turn.text("Away until {until}; new approvals go to {name}. Send 'back' when you return.", until=until,
                     name=delegate.display_name)


def back(turn: Turn) -> list[Reply]:
    presence.come_back(turn.uow, turn.user, turn.actor)
    return turn.text("Welcome back; approvals come to you again.")
