"""One language per message: every card kind, for an English and for a Chinese reader, as the bot builds it and as
each adapter renders it (Slack Block Kit checked with slack_sdk's models, DingTalk markdown and card variables,
WeCom template card and markdown, the sandbox's JSON).

English reader: no CJK character except in data that has no English name (a customer, product, warehouse or person
named only in Chinese, an address), and no internal id (rule ids, role or status codes). Chinese reader: no Latin
word outside data, order/task numbers, SKUs and the few Latin terms Chinese readers use (SKU, PDF, XLSX, EMS).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from adapters.dingtalk.render import NotRenderable, card_markdown, card_params
from adapters.slack.blocks import render_card
from adapters.slack.validate import validate_message
from adapters.wecom.render import render_markdown, render_template_card
from bot.cards.model import Card
from domain.models import Customer, Product, User
from tests.sandbox import Chat, button
from tests.world import build_world

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uff5b\uff5d-\uffef]")  # (DingTalk tables use ｜ as a ruler)
INTERNAL = re.compile(r"\b(?:sales_manager_review|large_order|over_credit_limit|sales_manager|pending_approval|"
                      r"partially_shipped|approval_requested|task_created|[a-z]+_[a-z_]+)\b")
URL = re.compile(r"https?://\S+")
# Latin a Chinese reader sees on purpose: codes and numbers, and the terms Chinese business software uses.
LATIN_OK = re.compile(r"SO-[\d-]*…?|T-\d+|SKU(?:-\d+)?|\bPDF\b|\bXLSX\b|\bEMS\b|\bSF\d*\b|SF0+|\bx\d+|OrderTalk|"
                      r"\bID\b|[A-Z]{2}\d+|\d")
KINDS = {"help", "form", "confirm", "approval_list", "approval_request", "approval_decided", "list", "order_status",
         "customer", "stock", "shipping_task", "more", "info", "statement", "report", "error", "reminder_digest",
         "order_list", "daily_digest", "subscriptions"}

ENGLISH_NAMES = {"c1": "Huaxing Electronics", "p1": "Stainless screw M6", "p2": "Bearing 6204"}  # p3 has none


def _at(clock, y: int, m: int, d: int, hh: int = 10) -> None:
    clock.current = datetime(y, m, d, hh - 8, 0, tzinfo=UTC)


def _scenario(ot, clock, locale: str) -> tuple[list[Card], list[str]]:
    """Every card kind, through the sandbox, for readers of `locale`; returns the cards and the data strings."""
    w = build_world(ot.sessions)
    with ot.sessions() as s:
        s.execute(update(User).values(locale=locale))
        s.get(Customer, w["c1"]).name_en = ENGLISH_NAMES["c1"]
        s.get(Product, w["p1"]).name_en = ENGLISH_NAMES["p1"]
        s.get(Product, w["p2"]).name_en = ENGLISH_NAMES["p2"]
        s.commit()
    _at(clock, 2026, 11, 23)
    chat = Chat(ot)
    cards: list[dict[str, Any]] = []

    def got(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cards.extend(r["card"] for r in replies if r.get("card"))
        return replies

    got(chat.say("li", "help"))
    got(chat.say("li", "new order"))
    got(chat.say("li", "order C001 SKU-001 x10 SKU-003 x1"))
    confirm = got(chat.say("li", "order C001 SKU-001 x10 SKU-003 x1"))[0]["card"]
    assert confirm["kind"] == "confirm"
    got(chat.click("li", button(confirm, "confirm_order")["token"]))
    for qty in (2, 3, 4):
        got(chat.say("li", f"order C001 SKU-002 x{qty}"))
    # Over C002's credit limit of 10,000: the finance step comes after the manager's.
    big_no = re.search(r"SO-\d{8}-\d{4}", got(chat.say("amy", "order C002 SKU-002 x300"))[0]["text"])[0]
    approvals = got(chat.say("wang", "pending"))[0]["card"]
    assert approvals["kind"] == "approval_list"
    first = got(chat.click("wang", approvals["buttons"][0]["token"]))[0]["card"]
    got(chat.click("wang", button(first, "approve")["token"]))
    rest = [c for c in chat.cards("wang", "approval_request")]
    big = next(c for c in rest if c["data"]["order_no"] == big_no)
    got(chat.click("wang", button(big, "approve")["token"]))
    reason = "价格太低" if locale == "zh-CN" else "price too low"
    third = next(c for c in chat.cards("wang", "approval_request") if c["data"]["order_no"] not in
                 (first["data"]["order_no"], big["data"]["order_no"]))
    got(chat.click("wang", button(third, "reject")["token"], {"reason": reason}))
    got(chat.say("qian", "pending"))  # the finance card with credit limit, open and overdue receivables
    finance = chat.cards("qian", "approval_request")
    assert finance and any("Credit limit" in json.dumps(c) or "信用额度" in json.dumps(c, ensure_ascii=False) for c in finance)
    tasks = got(chat.say("sun", "tasks"))
    task = next(r["card"] for r in tasks if r.get("card") and r["card"]["kind"] == "shipping_task")
    got(chat.click("sun", button(task, "ship")["token"], {"carrier": "顺丰", "tracking": "SF123"}))
    number = first["data"]["order_no"]
    got(chat.say("qian", f"paid {number} 100"))
    got(chat.say("qian", f"paid {big['data']['order_no']} 100"))  # not shipped: says why
    got(chat.say("qian", "statement C001"))
    got(chat.say("qian", "report"))
    got(chat.say("sun", "product ranking"))  # the warehouse's figures: by quantity, units in the reader's words
    got(chat.say("qian", "orders over 100 this month"))
    got(chat.say("li", number))
    got(chat.say("li", "my orders"))
    got(chat.say("li", "customer C001"))
    got(chat.say("li", "stock SKU-001"))
    got(chat.say("li", "low stock"))  # issue 13's on-demand lists, greeting and half-understood answers
    got(chat.say("li", "hi"))
    got(chat.say("li", "order C001 SKU-001"))
    got(chat.say("li", "paid"))
    got(chat.say("li", "invoice " + number))
    for who in ("li", "amy", "wang", "qian", "sun"):
        cards.extend(i["card"] for i in chat.inbox(who) if i.get("card"))
    # Receivables due: the morning digest; more open tasks than a page: the paging card.
    for qty in (5, 6, 7, 8, 9, 11):
        chat.say("li", f"order C001 SKU-002 x{qty}")
    for c in chat.cards("wang", "approval_request"):
        if c["buttons"]:
            chat.click("wang", button(c, "approve")["token"])
    got(chat.say("sun", "tasks"))
    _at(clock, 2027, 1, 11)  # a Monday
    ot.jobs.overdue_digest()
    cards.extend(i["card"] for i in chat.inbox("li") if i.get("card"))
    got(chat.say("qian", "overdue"))
    ot.jobs.daily_digest()  # the managers' digests: the daily card, the weekly report cards
    ot.jobs.weekly_digest()
    cards.extend(i["card"] for i in chat.inbox("wang") if i.get("card") and i["card"]["data"].get("digest"))
    got(chat.say("wang", "my subscriptions"))
    with ot.sessions() as s:
        data = [c.name for c in s.query(Customer) if not c.name_en] + [p.name for p in s.query(Product) if not p.name_en]
        data += [x for c in s.query(Customer) for x in (c.province, c.city, c.address, c.contact_name) if x]
        data += [u.display_name for u in s.query(User)] + ["上海仓", "广州仓", reason]
        data += [p.spec for p in s.query(Product)]
        if locale == "zh-CN":
            data += [c.name for c in s.query(Customer)] + [p.name for p in s.query(Product)]
    return [Card.model_validate(c) for c in cards], sorted(set(data), key=len, reverse=True)


def _texts(obj: Any, keys: set[str], out: list[str]) -> list[str]:
    """The strings a person reads in a platform payload: the values of its display keys (not ids, types, tokens)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, str) and v[:1] in "[{":
                try:
                    v = json.loads(v)  # DingTalk card variables carry lists as JSON strings
                except ValueError:
                    pass
            if isinstance(v, str):
                if k in keys:
                    out.append(v)
            else:
                _texts(v, keys, out)
    elif isinstance(obj, list):
        for v in obj:
            _texts(v, keys, out)
    return out


SHOWN = {"title", "subtitle", "label", "value", "note", "context", "confirm", "placeholder", "text", "desc",
         "keyname", "verdict", "columns", "rows", "customer", "sales", "step", "total", "status_text"}


def _rendered(card: Card) -> dict[str, list[str]]:
    """What each platform shows of the card, as the strings a person reads."""
    message = render_card(card)
    assert validate_message(message) == [], card.kind
    # `preview` is not shown on the card: it holds the chat-list line in both languages, and DingTalk picks the one of
    # the reader's client (tests/e2e/dingtalk/test_deployment.py)
    sandbox = card.model_dump(exclude={"data", "field_error", "key", "kind", "tone", "locale", "link", "preview"})
    for b in sandbox["buttons"]:
        b.pop("token"), b.pop("action"), b.pop("style"), b.pop("url"), b.pop("command")
        for p in b["presets"]:
            p.pop("token")
        for i in b["inputs"]:
            i.pop("name"), i.pop("kind"), i.pop("source"), i.pop("initial")
            for o in i["options"]:
                o.pop("value")
    for i in sandbox["inputs"]:
        i.pop("name"), i.pop("kind"), i.pop("source"), i.pop("initial")
    for a in sandbox["attachments"]:  # what the sandbox shows of a chart or file is its title (and the image)
        a.pop("key"), a.pop("kind"), a.pop("filename"), a.pop("mime"), a.pop("url")
    flat: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, str):
            flat.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(sandbox)
    out = {"sandbox": flat,
           "slack": _texts(message, {"text"}, []),
           "dingtalk": [card_markdown(card).text],
           "wecom": [render_markdown(card)]}
    try:  # interactive-card variables, for the kinds DingTalk has a template for
        out["dingtalk"] += _texts(card_params(card), SHOWN, [])
    except NotRenderable:
        pass
    template = render_template_card(card, "task-1")
    if template is not None:
        out["wecom"] += _texts(template, SHOWN, [])
    return out


def _strip(text: str, data: list[str]) -> str:
    text = URL.sub(" ", text)
    text = re.sub(r"<[^>]+>|\(dtmd://[^)]*\)", " ", text)  # markdown markup: <font color=…>, command links
    for d in data:
        text = text.replace(d, " ")
    return text


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_card_kind_speaks_one_language(ot, clock, locale):
    cards, data = _scenario(ot, clock, locale)
    kinds = {c.kind for c in cards}
    assert KINDS <= kinds, KINDS - kinds
    for card in cards:
        for platform, strings in _rendered(card).items():
            values = _strip("\n".join(strings), data)
            where = f"{locale} {card.kind} on {platform}"
            if locale == "en":
                assert not CJK.search(values), (where, CJK.findall(values)[:10], values[:400])
                assert not INTERNAL.search(values), (where, INTERNAL.findall(values))
            else:
                latin = re.findall(r"[A-Za-z]{2,}", LATIN_OK.sub(" ", values))
                assert not latin, (where, latin[:10], values[:400])
