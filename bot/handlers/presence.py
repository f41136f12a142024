"""外出 / away with a delegate, and 回来了 / back."""

from __future__ import annotations

from datetime import date

from bot.cards.model import Reply
from bot.handlers.base import Turn
from domain import presence
from domain.directory import find_users


def away(turn: Turn, until: date, delegate_query: str | None) -> list[Reply]:
    if not delegate_query:
        return turn.error("Name a delegate: away until 2026-12-01 delegate Li", field="delegate")
    found = [u for u in find_users(turn.uow.session, delegate_query) if u.id != turn.user.id]
    if len(found) != 1:
        names = "、".join(u.display_name for u in found[:6])
        return turn.error(f"「{delegate_query}」匹配到 {len(found)} 人{('：' + names) if names else ''}",
                          f"'{delegate_query}' matches {len(found)} people{(': ' + names) if names else ''}", "delegate")
    delegate = found[0]
    presence.set_away(turn.uow, turn.user, until, delegate, turn.ctx.today(), turn.actor)
    return turn.text("Away until {until}; new approvals go to {display_name}. Send 'back' when you return.", until=until, display_name=delegate.display_name)


def back(turn: Turn) -> list[Reply]:
    presence.come_back(turn.uow, turn.user, turn.actor)
    return turn.text("Welcome back; approvals come to you again.")
