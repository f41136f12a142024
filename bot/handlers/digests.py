"""Digest subscriptions in chat (`订阅 日报` / `subscribe daily`, `退订 周报` / `unsubscribe weekly`, `我的订阅` /
`my subscriptions`) and the daily digest card's buttons, each of which opens the list its command shows."""

from __future__ import annotations

from collections.abc import Callable

from bot.cards.digests import subscriptions_card
from bot.cards.model import Reply
from bot.handlers import approvals as ap
from bot.handlers import fulfilment as ff
from bot.handlers import orders as od
from bot.handlers.base import Turn
from bot.tokens import ActionToken
from domain import subscriptions as subs
from domain.errors import PermissionDenied
from domain.subscriptions import DigestKind

# A daily card's button → the handler of the command with the same list (待审批, 逾期, 低库存, 任务).
LISTS: dict[str, Callable[[Turn], list[Reply]]] = {
    "approvals": ap.my_approvals,
    "overdue": ff.overdue,
    "low_stock": od.low_stock,
    "tasks": lambda t: ff.my_tasks(t, 0),
}


def _card(turn: Turn) -> Reply:
    chosen = subs.choices(turn.uow.session, turn.user)
    return Reply(card=subscriptions_card(turn.viewer, chosen, turn.ctx.settings.daily_digest_time, turn.ctx.today()))


def show(turn: Turn) -> list[Reply]:
    if not subs.may_receive(turn.user):
        raise PermissionDenied("Digests are for sales, sales managers, finance and admins")
    return [_card(turn)]


def choose(turn: Turn, digest: str, subscribed: bool) -> list[Reply]:
    kind = DigestKind(digest)
    changed = subs.choose(turn.uow, turn.user, kind, subscribed, turn.actor)
    name = turn.t("the daily digest") if kind == DigestKind.DAILY else turn.t("the weekly digest")
    if subscribed:
        text = (turn.t("Subscribed to {digest}.", digest=name) if changed
                else turn.t("You already receive {digest}.", digest=name))
    else:
        text = (turn.t("Unsubscribed from {digest}.", digest=name) if changed
                else turn.t("You do not receive {digest}.", digest=name))
    return [Reply(text=text), _card(turn)]


def choose_by_button(turn: Turn, tok: ActionToken) -> list[Reply]:
    digest, _, state = tok.arg.partition("-")
    if tok.target != turn.user.id or digest not in set(DigestKind) or state not in ("on", "off"):
        return turn.error("This button is someone else's; send 'my subscriptions' for yours")
    return choose(turn, digest, state == "on")


def open_list(turn: Turn, which: str) -> list[Reply]:
    handler = LISTS.get(which)
    if handler is None:
        return turn.error("Unsupported action")
    return handler(turn)
