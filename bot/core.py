"""The bot core: identify the person, dedupe the event, run the intent or action, answer.

Adapters call `handle_message` / `handle_action` (bot.ports.BotCorePort). Each call is one transaction:
the inbound event key, the business change, and the outbox rows it causes commit together, so a
redelivered event finds its key and has no second effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import intents as it
from bot import order_lines
from bot import unknown_people as up
from bot.cards.common import error_card, help_card
from bot.cards.model import Card, Option, Reply
from bot.chat_imports import ChatImports
from bot.context import BotContext
from bot.handlers import approvals as ap
from bot.handlers import conversation as cv
from bot.handlers import customers as cu
from bot.handlers import digests as dg
from bot.handlers import fulfilment as ff
from bot.handlers import ordering as og
from bot.handlers import orders as od
from bot.handlers import presence as pr
from bot.handlers import products as pd
from bot.handlers import reports as rp
from bot.handlers import stock as sk
from bot.handlers.base import Turn
from bot.notifications import handle_events
from bot.ports import CopyTicket, Deliver, InboundAction, InboundMessage, ReplyTarget, with_event
from bot.records import PendingPrompt, first_time, keep_replies
from bot.tokens import ActionToken, BadToken
from bot.unknown_people import on_unknown, polite_answer
from domain.audit import Actor, record, record_refusal
from domain.catalog import product_units
from domain.db_guard import interactive
from domain.directory import identify
from domain.errors import DomainError, NotFound
from domain.models import Order
from domain.uow import UnitOfWork

log = logging.getLogger("ordertalk.core")

INTENTS: dict[type, Callable[[Turn, Any], list[Reply]]] = {
    it.ShowOrder: lambda t, i: od.show_order(t, i.number),
    it.MyOrders: lambda t, i: od.my_orders(t),
    it.MyApprovals: lambda t, i: ap.my_approvals(t),
    it.MyTasks: lambda t, i: ff.my_tasks(t, 0),
    it.ShowCustomer: lambda t, i: cu.show_customer(t, i.query),
    it.CustomerForm: lambda t, i: cu.form(t, i.query),
    it.SaveCustomer: lambda t, i: cu.save_by_text(t, i),
    it.ProductForm: lambda t, i: pd.form(t, i.query),
    it.SaveProduct: lambda t, i: pd.save_by_text(t, i),
    it.ShowStock: lambda t, i: sk.show_stock(t, i.query),
    it.Receive: lambda t, i: sk.receive_by_text(t, i),
    it.Count: lambda t, i: sk.count_by_text(t, i),
    it.Transfer: lambda t, i: sk.transfer_by_text(t, i),
    it.ReceiptForm: lambda t, i: sk.receipt_form(t),
    it.NewOrderForm: lambda t, i: og.order_form(t),
    it.Nudge: lambda t, i: ap.nudge_by_text(t, i.number),
    it.Approve: lambda t, i: ap.approve_by_text(t, i.number),
    it.Reject: lambda t, i: ap.reject_by_text(t, i.number, i.reason),
    it.Cancel: lambda t, i: ap.cancel(t, i.number, i.reason),
    it.Away: lambda t, i: pr.away(t, i.until, i.delegate_query),
    it.Back: lambda t, i: pr.back(t),
    it.Claim: lambda t, i: ff.claim_by_ref(t, i.task_ref),
    it.Ship: lambda t, i: ff.ship_by_text(t, i),
    it.Payment: lambda t, i: ff.payment_by_text(t, i),
    it.Statement: lambda t, i: ff.statement(t, i.customer_query, i.start, i.end),
    it.Report: lambda t, i: rp.report(t, i),
    it.SearchOrders: lambda t, i: rp.search_orders(t, i),
    it.LowStock: lambda t, i: od.low_stock(t),
    it.Overdue: lambda t, i: ff.overdue(t),
    it.Subscribe: lambda t, i: dg.choose(t, i.digest, i.subscribed),
    it.Subscriptions: lambda t, i: dg.show(t),
    it.Help: lambda t, i: [Reply(card=help_card(t.user, t.texts, t.ctx.today()))],
    it.Greeting: lambda t, i: cv.greeting(t),
    it.Partial: lambda t, i: cv.partial(t, i),
}

ACTIONS: dict[str, Callable[[Turn, ActionToken, dict[str, str]], list[Reply]]] = {
    "approve": lambda t, tok, inp: ap.decide(t, tok.target, True, None),
    "reject": lambda t, tok, inp: ap.reject_action(t, tok.target, tok.arg, inp.get("reason")),
    "confirm_reject": lambda t, tok, inp: ap.confirm_reject(t, tok.target),
    "cancel_prompt": lambda t, tok, inp: ap.cancel_prompt(t, tok.target),
    "nudge": lambda t, tok, inp: ap.nudge(t, _order(t, tok.target)),
    "cancel": lambda t, tok, inp: ap.cancel(t, _fresh(t, tok).number, inp.get("reason")),
    "submit_order": lambda t, tok, inp: og.submit_form(t, inp),
    "choose": lambda t, tok, inp: og.choose(t, tok),
    "claim": lambda t, tok, inp: ff.claim(t, tok.target),
    "ship": lambda t, tok, inp: ff.ship_from_form(t, tok.target, inp),
    "pay": lambda t, tok, inp: ff.pay_from_form(t, tok.target, inp),
    "promise": lambda t, tok, inp: ff.promise(t, tok.target, inp),
    "snooze": lambda t, tok, inp: ff.snooze(t, tok.target),
    "open_form": lambda t, tok, inp: og.order_form(t),
    "confirm_order": lambda t, tok, inp: og.confirm_again(t),
    "show_order": lambda t, tok, inp: od.show_order(t, _order(t, tok.target).number),
    "open_approval": lambda t, tok, inp: ap.open_approval(t, tok.target),
    "tasks_page": lambda t, tok, inp: ff.my_tasks(t, tok.page),
    "receive_goods": lambda t, tok, inp: sk.submit_receipt(t, inp),
    "edit_customer": lambda t, tok, inp: cu.edit_form(t, tok.target),
    "save_customer": lambda t, tok, inp: cu.submit(t, tok, inp),
    "edit_product": lambda t, tok, inp: pd.edit_form(t, tok.target),
    "save_product": lambda t, tok, inp: pd.submit(t, tok, inp),
    "orders_page": lambda t, tok, inp: rp.search_page(t, tok.target, tok.page),
    "import_as": lambda t, tok, inp: _imports(t).check_as(t, tok.target, tok.arg),
    "import_apply": lambda t, tok, inp: _imports(t).apply(t, tok.target),
    "link_person": lambda t, tok, inp: up.link_person(t, tok, inp),
    "ignore_person": lambda t, tok, inp: up.ignore_person(t, tok),
    "digest_list": lambda t, tok, inp: dg.open_list(t, tok.arg),
    "digest_sub": lambda t, tok, inp: dg.choose_by_button(t, tok),
}


def _imports(turn: Turn) -> ChatImports:
    assert turn.ctx.imports is not None
    return turn.ctx.imports


def _order(turn: Turn, order_id: int) -> Order:
    order = turn.uow.session.get(Order, order_id)
    if order is None:
        raise NotFound("No such order")
    return order


def _fresh(turn: Turn, tok: ActionToken) -> Order:
    """Order-level buttons carry the order's version; a card older than the order is refused."""
    order = _order(turn, tok.target)
    if tok.order_version and tok.order_version != order.version:
        raise domain_errors_stale(order)
    return order


def domain_errors_stale(order: Order) -> DomainError:
    from domain.errors import StaleVersion

    return StaleVersion("This card is out of date: order {number} has changed; send its number for the latest", number=order.number)


def _commit(uow: UnitOfWork) -> None:
    """Commit an event's unit of work, with what the caller asked to commit with it (bot.ports.with_event)."""
    also = with_event.get()
    if also is not None:
        also.write(uow.session)
    uow.commit()
    if also is not None:
        also.committed()


class BotCore:
    def __init__(self, sessions: sessionmaker[Session], ctx: BotContext, wake: Callable[[], None] = lambda: None) -> None:
        self.sessions = sessions
        self.ctx = ctx
        self.wake = wake
        self.imports = ctx.imports = ChatImports(sessions, ctx, wake)

    # ------------------------------------------------------------------ inbound
    def handle_message(self, msg: InboundMessage, *, deliver_replies: Deliver = True) -> list[Reply]:
        def work(turn: Turn | None, uow: UnitOfWork) -> list[Reply]:
            if turn is None:
                return on_unknown(uow, self.ctx, msg.platform, msg.external_user_id, display_name=msg.display_name,
                                  locale=msg.locale, text=msg.text, event=f"{msg.platform}:{msg.event_id}",
                                  reply_to=msg.reply_to)
            if msg.file is not None:  # a file sent in: checked as an import, by an inbox job
                return self.imports.receive(turn, msg.file, msg.reply_to)
            notice: list[Reply] = []
            prompt = uow.session.get(PendingPrompt, turn.user.id)
            if prompt is not None and prompt.kind in ap.PROMPT_KINDS:
                answer, notice = ap.on_prompt(turn, prompt, msg.text)
                if answer is not None:
                    return answer
            intent = self.ctx.parse(msg.text, units=order_lines.unit_words(product_units(uow.session)))
            return notice + self._run_intent(turn, intent, msg.text)

        return self._handle(msg.platform, msg.external_user_id, msg.event_id, msg.reply_to, deliver_replies, work)

    def handle_action(self, action: InboundAction, *, deliver_replies: Deliver = True) -> list[Reply]:
        def work(turn: Turn | None, uow: UnitOfWork) -> list[Reply]:
            if turn is None:
                return on_unknown(uow, self.ctx, action.platform, action.external_user_id, display_name=None,
                                  locale=None, text="")
            try:
                tok = self.ctx.signer.verify(action.token)
            except BadToken:
                record(uow, None, turn.actor, "refused", why="tampered or unknown action token")
                return turn.error("This button is not valid (tampered or expired); please send the command again.")
            handler = ACTIONS.get(tok.action)
            if handler is None:
                return turn.error("Unsupported action")
            return handler(turn, tok, {k: str(v) for k, v in action.inputs.items()})

        return self._handle(action.platform, action.external_user_id, action.event_id, action.reply_to,
                            deliver_replies, work, action.ticket)

    def suggest(self, platform: str, external_user_id: str, source: str, query: str) -> list[Option]:
        uow = self.ctx.unit_of_work(self.sessions)
        with interactive(self.ctx.settings.db_interactive_timeout), uow:
            user = identify(uow.session, platform, external_user_id, by_user_id=platform in self.ctx.by_user_id)
            if user is None:
                return []
            return og.suggest(Turn(uow, self.ctx, user, platform), source, query)

    def home(self, platform: str, external_user_id: str) -> list[Card]:
        uow = self.ctx.unit_of_work(self.sessions)
        with interactive(self.ctx.settings.db_interactive_timeout), uow:
            user = identify(uow.session, platform, external_user_id, by_user_id=platform in self.ctx.by_user_id)
            if user is None:
                return [r.card for r in self._not_linked(platform, external_user_id) if r.card]
            turn = Turn(uow, self.ctx, user, platform)
            return ff.home_cards(turn)

    # ------------------------------------------------------------------ plumbing
    def _run_intent(self, turn: Turn, intent: it.Intent, text: str) -> list[Reply]:
        if isinstance(intent, it.QuickOrder):
            return og.quick_order(turn, intent, text)
        if isinstance(intent, it.Invalid):
            return turn.refuse(intent.reason)
        handler = INTENTS.get(type(intent))
        if handler is None:
            return turn.text("Sorry, I did not get that. Send 'help' to see what I can do, or an order number like SO-20261122-0007.")
        return handler(turn, intent)

    def _not_linked(self, platform: str, external_id: str) -> list[Reply]:
        # Nobody is identified, so nobody's language is known: the deployment's default language.
        return polite_answer(self.ctx, platform, external_id, self.ctx.settings.default_locale)

    def _handle(self, platform: str, external_id: str, event_id: str, reply_to: ReplyTarget | None,
                deliver_replies: Deliver, work: Callable[[Turn | None, UnitOfWork], list[Reply]],
                ticket: CopyTicket | None = None) -> list[Reply]:
        # Someone waits for this answer (a platform's callback deadline, a person): a database that stops answering
        # makes it fail within the interactive limit (domain.db_guard), and the platform retries later.
        with interactive(self.ctx.settings.db_interactive_timeout):
            return self._handle_event(platform, external_id, event_id, reply_to, deliver_replies, work, ticket)

    def _handle_event(self, platform: str, external_id: str, event_id: str, reply_to: ReplyTarget | None,
                      deliver_replies: Deliver, work: Callable[[Turn | None, UnitOfWork], list[Reply]],
                      ticket: CopyTicket | None = None) -> list[Reply]:
        key = f"{platform}:{event_id}"
        uow = self.ctx.unit_of_work(self.sessions)
        recipient = reply_to.recipient if reply_to else None
        turn: Turn | None = None
        who: tuple[int, str] | None = None  # (user id, locale), for the answer to a refusal
        try:
            with uow:
                if not first_time(uow.session, key, uow.now()):  # concurrent duplicates meet here, before anything
                    return []  # a redelivery: acknowledged, no second effect
                if ticket is not None:  # with the click, so the updates it causes can use it
                    self.ctx.outbox.note_ticket(uow.session, platform, recipient, ticket, uow.now())
                user = identify(uow.session, platform, external_id, by_user_id=platform in self.ctx.by_user_id)
                who = (user.id, user.locale) if user is not None else None
                turn = Turn(uow, self.ctx, user, platform, reply_to, key) if user is not None else None
                replies = work(turn, uow)
                with uow.batched():  # the answers' messages are flushed with the notifications', one INSERT
                    self._finish(uow, key, platform, reply_to, user.id if user else None, replies, deliver_replies)
                    handle_events(uow, self.ctx)
                _commit(uow)
        except IntegrityError:
            log.info("duplicate inbound event %s ignored", key)
            return []
        except DomainError as error:
            # The one error path: the change rolled back (domain code never commits); in one new transaction, the
            # event key, the refusal's audit entry and the explanation, so a retry gets the same answer.
            return self._refused(uow, key, platform, reply_to, who, error, deliver_replies, ticket)
        self.wake()
        for job in turn.later if turn is not None else []:
            self.imports.run(job)
        return replies

    def _refused(self, uow: UnitOfWork, key: str, platform: str, reply_to: ReplyTarget | None,
                 who: tuple[int, str] | None, error: DomainError, deliver_replies: Deliver,
                 ticket: CopyTicket | None) -> list[Reply]:
        user_id, locale = who if who is not None else (None, None)
        texts = self.ctx.texts(locale)
        replies = [Reply(card=error_card(texts, texts.render(error.message), error.field), ephemeral=True)]
        try:
            with uow:
                if not first_time(uow.session, key, uow.now()):
                    return []  # a concurrent duplicate of this event was answered first
                record_refusal(uow, error)
                if ticket is not None:  # a refused click still hands over a fresh ticket for its copy
                    self.ctx.outbox.note_ticket(uow.session, platform, reply_to.recipient if reply_to else None,
                                                ticket, uow.now())
                self._finish(uow, key, platform, reply_to, user_id, replies, deliver_replies)
                _commit(uow)
        except IntegrityError:
            return []  # a concurrent duplicate of this event was answered first
        self.wake()
        return replies

    def _finish(self, uow: UnitOfWork, key: str, platform: str, reply_to: ReplyTarget | None,
                user_id: int | None, replies: list[Reply], deliver: Deliver) -> None:
        if replies:
            keep_replies(uow.session, key, [r.model_dump(mode="json") for r in replies])
        queued = replies if deliver is True else deliver(replies) if callable(deliver) else []
        if reply_to is not None and queued:
            self.ctx.outbox.replies(uow.session, platform, reply_to, user_id, queued)


__all__ = ["BotCore", "Actor"]
