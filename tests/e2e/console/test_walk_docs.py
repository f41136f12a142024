"""The docs walk: every chat command the README and the help cards show is run, in both languages, through the
sandbox API on the demo company, and each must be understood — not the "没看懂 / Sorry, I did not get that" answer,
not a usage error, not a half-understood reply. A command that is refused for a business reason (not your
customer, already approved) was understood; that is fine here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import intents, order_lines
from bot.demo import PEOPLE, load_demo
from domain.approvals import pending_for
from domain.catalog import product_units
from domain.models import Order, Role, ShippingTask, User
from tests.sandbox import Chat, text_of

README = Path(__file__).resolve().parents[3] / "README.md"
NOT_UNDERSTOOD = ("没看懂", "Sorry, I did not get that", "格式不对", "Not understood")
WHO = {"everyone": Role.SALES, "sales": Role.SALES, "managers": Role.SALES_MANAGER, "finance": Role.FINANCE,
       "warehouse": Role.WAREHOUSE, "admins": Role.ADMIN}
ORDER_NO = re.compile(r"SO-(?:\d{8}-\d{4}|…)")
TASK = re.compile(r"\bT-\d+\b")


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def readme_commands() -> list[tuple[str, str, str]]:
    """(who, zh command, en command …) from the README's 'Talking to the bot' table: one row per command."""
    rows = []
    for line in _section(README.read_text(encoding="utf-8"), "Talking to the bot").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("中文", "---"):
            continue
        who = cells[2].split(",")[0].strip()
        for lang, cell in (("zh-CN", cells[0]), ("en", cells[1])):
            rows += [(who, lang, cmd) for cmd in re.findall(r"`([^`]+)`", cell)]
    return rows


def help_commands(card: dict[str, Any]) -> list[str]:
    out = []
    for line in card["text"]:
        out += re.findall(r"「([^」]+)」", line) + re.findall(r"'([^']+)'", line)
        out += re.findall(r"^SO-\d{8}-\d{4}", line)
    return out


@pytest.fixture
def demo(ot, clock):  # type: ignore[no-untyped-def]
    load_demo(ot.sessions, ot.settings, orders_count=30, now=clock())
    return Chat(ot)


def _user(chat: Chat, role: Role, locale: str) -> str:
    with chat.ot.sessions() as s:
        users = [u for u in s.scalars(select(User).order_by(User.id)) if u.has_role(role)]
        same = [u for u in users if u.locale == locale]
        return (same or users)[0].username


def _fill(chat: Chat, who: str, command: str) -> str:
    """Replace the placeholders by real ones: an order the person can act on, a task of their warehouse."""
    with chat.ot.sessions() as s:
        user = s.scalars(select(User).where(User.username == who)).one()
        pending = pending_for(s, user.id)
        number = pending[0].order.number if pending else s.scalars(select(Order.number).order_by(Order.id.desc())).first()
        tasks = select(ShippingTask).order_by(ShippingTask.id)
        if user.warehouse_id:
            tasks = tasks.where(ShippingTask.warehouse_id == user.warehouse_id)
        task = s.scalars(tasks).first()
    command = ORDER_NO.sub(number or "SO-20261122-0001", command)
    return TASK.sub(task.ref if task else "T-1", command)


def _problem(chat: Chat, who: str, command: str) -> str | None:
    with chat.ot.sessions() as s:
        units = order_lines.unit_words(product_units(s))  # as the core reads messages
    parsed = intents.parse(command, today=chat.ot.ctx.today(), units=units)
    if isinstance(parsed, intents.Unknown | intents.Invalid | intents.Partial):
        return f"parsed as {parsed}"
    replies = chat.say(who, command)
    if not replies:
        return "no answer"
    said = text_of(replies)
    for r in replies:
        card = r.get("card") or {}
        if card.get("kind") == "partial" or said.startswith(NOT_UNDERSTOOD) or any(
                t.startswith(NOT_UNDERSTOOD) for t in card.get("text", [])):
            return said
    return None


def test_every_readme_command_is_understood_in_both_languages(demo: Chat) -> None:
    rows = readme_commands()
    assert len({lang for _, lang, _ in rows}) == 2 and len(rows) >= 40, rows  # the table was found and read
    failures = []
    for who, lang, command in rows:
        user = _user(demo, WHO[who], lang)
        filled = _fill(demo, user, command)
        if problem := _problem(demo, user, filled):
            failures.append(f"{user}: {filled!r} -> {problem}")
    assert not failures, "\n".join(failures)


def test_chinese_commands_anywhere_in_the_readme_are_in_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    listed = {cmd for _, _, cmd in readme_commands()}
    chinese = {c for c in re.findall(r"`([^`\n]+)`", text) if re.search(r"[\u4e00-\u9fff]", c)}
    assert chinese <= listed, chinese - listed


def test_every_help_card_command_is_understood_in_both_languages(demo: Chat) -> None:
    failures, walked = [], 0
    for role in Role:
        for locale in ("zh-CN", "en"):
            who = _user(demo, role, locale)
            with demo.ot.sessions() as s:  # every role in both languages, admin included
                s.scalars(select(User).where(User.username == who)).one().locale = locale
                s.commit()
            cards = [r["card"] for r in demo.say(who, "帮助" if locale == "zh-CN" else "help") if r.get("card")]
            assert cards and cards[0]["kind"] == "help"
            commands = help_commands(cards[0])
            assert len(commands) >= 5, (who, cards[0]["text"])
            for command in commands:
                walked += 1
                filled = _fill(demo, who, command)
                if problem := _problem(demo, who, filled):
                    failures.append(f"{who} ({locale}): {filled!r} -> {problem}")
    assert walked >= 80 and not failures, "\n".join(failures)


def test_readme_demo_users_match_the_demo_data() -> None:
    """The README's table of demo users: every user, their role and their language, as bot/demo.py makes them."""
    table = _section(README.read_text(encoding="utf-8"), "Quick start")
    rows = {m[0]: (m[1], m[2], m[3]) for m in re.findall(r"^\| `(\w+)` \| ([^|]+?) \| ([^|]+?) \| (中文|English) \|$", table,
                                                        re.M)}
    role_words = {Role.ADMIN: "admin", Role.SALES_MANAGER: "sales manager", Role.SALES: "sales", Role.FINANCE: "finance",
                  Role.WAREHOUSE: "warehouse"}
    assert set(rows) == {p[0] for p in PEOPLE}
    for username, name, roles, locale, _manager, warehouse in PEOPLE:
        shown_name, shown_role, shown_lang = rows[username]
        assert shown_name == name
        assert shown_role.split(",")[0].split(" (")[0] == role_words[roles[0]]
        assert shown_lang == ("中文" if locale == "zh-CN" else "English")
        if warehouse:
            assert warehouse in shown_role
    assert {loc for *_, loc, _m, _w in PEOPLE} and all(
        any(p[2] == [role] and p[3] == "en" for p in PEOPLE) for role in (Role.FINANCE, Role.WAREHOUSE, Role.SALES,
                                                                           Role.SALES_MANAGER))
