"""Someone writes to the bot from an account no user is linked to: they get a polite answer in their language (the
platform's locale when it says, else the language they wrote in), and the admins get one card per person — the
first time only — to link the account to a user (a domain command, audited) or to ignore it.

A platform that names a person's language only when asked (Slack: `users.info` with its locale; `PersonLocale`,
from the adapter) is asked once, on the person's first message, and not inside the message's transaction: that
transaction stores an inbox job (`JOB`) in the person's own conversation, so it runs right after the message, in
order; the job asks, keeps the answer as the person's language, and sends the polite answer in it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.cards.model import Reply
from bot.cards.people import decided_card, unknown_person_card
from bot.context import BotContext
from bot.handlers.base import Turn
from bot.i18n import is_zh
from bot.inbox import Inbox, conversation_of
from bot.ports import ReplyTarget
from bot.records import first_time
from bot.tokens import ActionToken
from bot.unit import run_unit
from domain.linking import admins, unlinked_users
from domain.models import UnknownPerson, User
from domain.strangers import ignore_stranger, keep_locale, link_stranger, note_stranger
from domain.uow import UnitOfWork

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
JOB = "stranger"  # the inbox kind of the polite answer that waits for the platform's word on the language


def guess_locale(platform_locale: str | None, text: str, default: str) -> str:
    """'zh-CN' / 'en': the platform's word for the person's language first, else the script they wrote in."""
    if platform_locale:
        return "zh-CN" if is_zh(platform_locale) else "en"
    if _CJK.search(text):
        return "zh-CN"
    if _LATIN.search(text):
        return "en"
    return default


def polite_answer(ctx: BotContext, platform: str, external_id: str, locale: str) -> list[Reply]:
    t = ctx.texts(locale)
    return [Reply(text=t.t("Hello! I do not know your account yet, so I cannot help you for now. An admin has been "
                           "asked to link it to your OrderTalk user. Your ID, if they ask: {platform} / {external_id}",
                           platform=platform, external_id=external_id), ephemeral=True)]


def on_unknown(uow: UnitOfWork, ctx: BotContext, platform: str, external_id: str, *, display_name: str | None,
               locale: str | None, text: str, event: str | None = None,
               reply_to: ReplyTarget | None = None) -> list[Reply]:
    """In the inbound event's transaction: remember the person; the first time, a card to every admin, and — when
    the platform can say the person's language — the polite answer left to a job that asks it (`answer_stranger`)."""
    lang = guess_locale(locale, text, ctx.settings.default_locale)
    if platform in ctx.by_user_id:  # sandbox ids are user ids: nobody to link
        return polite_answer(ctx, platform, external_id, lang)
    noted = note_stranger(uow, platform, external_id, display_name=display_name, locale=lang, text=text)
    person = noted.person
    if not noted.first:
        if locale is None and platform in ctx.person_locales:  # what the platform said the first time
            lang = person.locale or lang
        return polite_answer(ctx, platform, external_id, lang)
    s = uow.session
    now = uow.now()
    candidates = unlinked_users(s, platform, display_name)
    for admin in admins(s):
        card = unknown_person_card(ctx.texts(admin.locale), ctx.signer, person, candidates)
        ctx.outbox.to_user(s, admin, card=card)
    if locale is None and platform in ctx.person_locales and event is not None and reply_to is not None:
        Inbox.enqueue(s, platform, f"{JOB}:{event}", conversation_of(platform, external_id), JOB,
                      {"event": event, "platform": platform, "external_id": external_id, "person": person.id,
                       "text": text[:200], "reply_to": reply_to.model_dump(mode="json")}, now)
        return []
    return polite_answer(ctx, platform, external_id, lang)


def answer_stranger(sessions: sessionmaker[Session], ctx: BotContext, wake: Callable[[], None],
                    payload: dict[str, Any]) -> None:
    """The inbox job: the person's language from the platform (outside any transaction), kept, and the polite answer
    in it. Once: its key is recorded with the answer, as the core records an event's."""
    platform, external_id = payload["platform"], payload["external_id"]
    said = ctx.person_locales[platform].locale(external_id)
    lang = guess_locale(said, payload.get("text", ""), ctx.settings.default_locale)
    key = f"{JOB}:{payload['event']}"

    def answer(uow: UnitOfWork) -> bool:
        if not first_time(uow.session, key, uow.now()):
            return False  # answered before a crash
        if said:
            keep_locale(uow, payload["person"], lang)
        ctx.outbox.replies(uow.session, platform, ReplyTarget.model_validate(payload["reply_to"]), None,
                           polite_answer(ctx, platform, external_id, lang))
        return True

    if run_unit(ctx, sessions, answer):  # None: a twin of this job answered first
        wake()


def _decided(turn: Turn, person: UnknownPerson, msgid: str, **params: str) -> None:
    s = turn.uow.session

    def build(user_id: int | None) -> object:
        reader = s.get(User, user_id) if user_id else None
        t = turn.ctx.texts(reader.locale if reader else None)
        return decided_card(t, person, t.t(msgid, **params))

    turn.ctx.outbox.update_everywhere(s, f"unknown:{person.id}", build)  # type: ignore[arg-type]


def link_person(turn: Turn, tok: ActionToken, inputs: dict[str, str]) -> list[Reply]:
    # A preset carries the user's id in its token; the select sends the username (readable where a platform shows
    # the value, as DingTalk's form does).
    person, user = link_stranger(turn.uow, turn.user, turn.actor, tok.target,
                                 user_id=int(tok.arg) if tok.arg.isdigit() else None,
                                 username=inputs.get("user", ""), linkable=turn.ctx.linkable)
    _decided(turn, person, "Linked to {user} by {admin}", user=user.display_name, admin=turn.user.display_name)
    welcome = turn.ctx.texts(user.locale).t("Welcome, {name}! Your account is linked now; send 'help' to see what I "
                                            "can do for you.", name=user.display_name)
    turn.ctx.outbox.add(turn.uow.session, person.platform, person.external_id, text=welcome, user_id=user.id)
    return turn.text("Linked {platform} account {external_id} to {user}.", platform=person.platform,
                     external_id=person.external_id, user=user.display_name)


def ignore_person(turn: Turn, tok: ActionToken) -> list[Reply]:
    person = ignore_stranger(turn.uow, turn.user, turn.actor, tok.target)
    _decided(turn, person, "Ignored by {admin}", admin=turn.user.display_name)
    return turn.text("Ignored; nobody will be asked about this account again. To link it later: ordertalk users "
                     "link USERNAME {platform} {external_id}", platform=person.platform, external_id=person.external_id)
