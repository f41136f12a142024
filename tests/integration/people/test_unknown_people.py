"""Someone writes to the bot unlinked: a polite answer in their language, one card to the admins per person (not per
message), and the card's Link (a domain command, audited) or Ignore. Through Slack and WeCom end to end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine, func, select

from domain.models import AuditEntry, PlatformIdentity, Role, UnknownPerson, User
from tests.e2e.slack.harness import PEOPLE, dm_of, running
from tests.world import Clock


def unknown_cards(d, who: str) -> list:  # type: ignore[no-untyped-def]
    return [p for p in d.posts_to(who) if "ot_link_person_" in p.content]


def test_stranger_answered_in_their_language_admins_asked_once(engine: Engine, db_url: str, clock: Clock,
                                                               tmp_path: Path) -> None:
    with running(engine, db_url, clock, tmp_path) as d:
        with d.ot.sessions() as s:  # a new colleague, already a user, not yet linked on Slack
            u = User(username="chen", display_name="Chen Jing", locale="en")
            u.roles = {Role.SALES}
            s.add(u)
            s.commit()
            chen = u.id
        d.say("U0CHEN", "hello, can you show my orders?")
        [answer] = d.posts(dm_of("U0CHEN"))
        assert "Hello! I do not know your account yet" in answer.content and "slack / U0CHEN" in answer.content
        assert "您好" not in answer.content  # one language: the one they wrote in
        [card] = unknown_cards(d, "admin")
        assert "有新人在给 OrderTalk 发消息" in card.content and "hello, can you show my orders?" in card.content
        d.say("U0CHEN", "hello?")  # again: answered, admins not asked again
        assert len(d.posts(dm_of("U0CHEN"))) == 2 and len(unknown_cards(d, "admin")) == 1
        d.say("U0WU", "你好，我是新来的")  # someone else, in Chinese
        assert "您好！我还不认识您的账号" in d.posts(dm_of("U0WU"))[0].content
        assert len(unknown_cards(d, "admin")) == 2
        with d.ot.sessions() as s:
            assert s.scalar(select(UnknownPerson.messages).where(UnknownPerson.external_id == "U0CHEN")) == 2

        # a non-admin cannot link (the card is the admins', but a forwarded button must not work for others)
        view = d.open_modal("admin", card, "link_person")
        options = [o["value"] for b in view["blocks"] if b.get("block_id") == "user"
                   for o in b["element"].get("options", [])]
        assert "chen" in options and "li" not in options  # li is linked on Slack already
        d.submit("li", view, {"user": "chen"})
        with d.ot.sessions() as s:
            assert s.scalar(select(func.count()).select_from(PlatformIdentity)
                            .where(PlatformIdentity.external_id == "U0CHEN")) == 0
        d.submit("admin", d.open_modal("admin", card, "link_person"), {"user": "chen"})
        d.drain()
        with d.ot.sessions() as s:
            ident = s.scalars(select(PlatformIdentity).where(PlatformIdentity.external_id == "U0CHEN")).one()
            assert ident.user_id == chen and ident.platform == "slack"
            [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "linked")).all()
            assert entry.actor_id == d.world["admin"] and entry.details["how"] == "chat"
            person = s.scalars(select(UnknownPerson).where(UnknownPerson.external_id == "U0CHEN")).one()
            assert person.status == "linked" and person.decided_by_id == d.world["admin"]
        assert any("Welcome, Chen Jing" in p.content for p in d.posts(dm_of("U0CHEN")))
        assert any("已由管理员关联到Chen Jing" in p.content for p in d.updates())  # the card says who did it
        d.say("U0CHEN", "my orders")  # now they are someone
        assert "I do not know your account" not in d.posts(dm_of("U0CHEN"))[-1].content

        # ignore: the card is closed, the person still gets the polite answer, admins are not asked again
        [wu_card] = [c for c in unknown_cards(d, "admin") if "你好，我是新来的" in c.content]
        d.click("admin", wu_card, "ignore_person")
        d.say("U0WU", "在吗")
        assert len(unknown_cards(d, "admin")) == 2
        with d.ot.sessions() as s:
            assert s.scalar(select(UnknownPerson.status).where(UnknownPerson.external_id == "U0WU")) == "ignored"
        assert PEOPLE["admin"] == "U0ADMIN"


def test_slack_stranger_answered_in_their_slack_language(engine: Engine, db_url: str, clock: Clock,
                                                         tmp_path: Path) -> None:
    """Slack says a stranger's language when asked (users.info with include_locale): the answer is in it, whatever
    they wrote in; asked once per person; when Slack cannot say, the language they wrote in."""
    with running(engine, db_url, clock, tmp_path) as d:
        d.fake.locales.update({"U0XIA": "zh-CN", "U0EMMA": "en-US"})
        d.say("U0XIA", "hello, anyone there?")  # writes English, reads Chinese
        [answer] = d.posts(dm_of("U0XIA"))
        assert "您好！我还不认识您的账号" in answer.content and "Hello" not in answer.content
        [call] = d.fake.of("users.info")
        assert call.args["user"] == "U0XIA" and call.args["include_locale"] in ("1", "true")
        d.say("U0EMMA", "你好")  # writes Chinese, reads English
        [answer] = d.posts(dm_of("U0EMMA"))
        assert "Hello! I do not know your account yet" in answer.content and "您好" not in answer.content
        d.say("U0XIA", "hi?")  # again: their language kept, Slack not asked again
        assert "您好！我还不认识您的账号" in d.posts(dm_of("U0XIA"))[-1].content
        assert [c.args["user"] for c in d.fake.of("users.info")] == ["U0XIA", "U0EMMA"]
        with d.ot.sessions() as s:
            assert s.scalar(select(UnknownPerson.locale).where(UnknownPerson.external_id == "U0XIA")) == "zh-CN"
            assert s.scalar(select(UnknownPerson.locale).where(UnknownPerson.external_id == "U0EMMA")) == "en"

        d.fake.fail("users.info", "ratelimited", status=429, times=2)  # Slack cannot say now
        d.say("U0SONG", "有人吗")
        assert "您好！我还不认识您的账号" in d.posts(dm_of("U0SONG"))[0].content  # the language they wrote in
        d.say("U0NEW", "anyone?")  # not found on Slack (user_not_found): the language they wrote in
        assert "Hello! I do not know your account yet" in d.posts(dm_of("U0NEW"))[0].content
        assert len(unknown_cards(d, "admin")) == 4  # and the admins were asked about each, once


def test_link_refused_when_the_user_has_another_account(engine: Engine, db_url: str, clock: Clock,
                                                        tmp_path: Path) -> None:
    with running(engine, db_url, clock, tmp_path) as d:
        d.say("U0LI2", "李四的新账号")
        [card] = unknown_cards(d, "admin")
        view = d.open_modal("admin", card, "link_person")
        d.submit("admin", view, {"user": "li"})  # li is linked to U_LI: one account per platform
        d.drain()
        with d.ot.sessions() as s:
            assert s.scalar(select(PlatformIdentity.user_id).where(PlatformIdentity.external_id == "U0LI2")) is None
            assert s.scalar(select(UnknownPerson.status).where(UnknownPerson.external_id == "U0LI2")) == "pending"


def _new_user(ot, username: str, name: str) -> int:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        u = User(username=username, display_name=name, locale="zh-CN")
        u.roles = {Role.WAREHOUSE}
        u.warehouse_id = s.scalar(select(User.warehouse_id).where(User.username == "sun"))
        s.add(u)
        s.commit()
        return u.id


def test_wecom_admin_links_with_a_preset(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> None:
    from tests.e2e.wecom.harness import running as wecom_running

    with wecom_running(engine, db_url, clock, tmp_path) as wx:
        chen = _new_user(wx.ot, "chen", "陈静")
        wx.fake.users.add("ChenJing")
        wx.say("ChenJing", "你好")
        wx.drain()
        [told] = wx.texts_to("ChenJing")
        assert "wecom / ChenJing" in told and "管理员" in told
        [card] = wx.cards("admin", "有新人")
        wx.click("admin", card, card.key("link_person", str(chen)))  # WeCom has no select: a button per candidate
        wx.drain()
        with wx.ot.sessions() as s:
            assert s.scalar(select(PlatformIdentity.user_id).where(PlatformIdentity.platform == "wecom",
                                                                   PlatformIdentity.external_id == "ChenJing")) == chen
        assert any("欢迎，陈静" in t for t in wx.texts_to("ChenJing"))


@contextmanager
def dingtalk_running(engine: Engine, db_url: str, clock: Clock, tmp_path: Path, **overrides: Any) -> Iterator[Any]:
    from tests.e2e.dingtalk.fake_dingtalk import FakeDingTalk
    from tests.e2e.dingtalk.harness import DingTalkDriver, LiveServer, build_app, populate

    fake = FakeDingTalk().start()
    ot = build_app(fake, engine, db_url, clock, tmp_path, **overrides)
    server = LiveServer(ot)
    try:
        yield DingTalkDriver(ot, fake, server, populate(ot))
    finally:
        server.stop()
        fake.stop()


def test_dingtalk_admin_links_with_the_form(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> None:
    from tests.e2e.dingtalk.harness import ROBOT_PATH, robot_headers
    from tests.e2e.dingtalk.payloads import robot_message

    with dingtalk_running(engine, db_url, clock, tmp_path) as dt:
        ot = dt.ot
        chen = _new_user(ot, "chen", "陈静")
        body = robot_message("在吗", group=False, msg_id="msgStranger1==", staff_id="staff9001")
        assert dt.post(ROBOT_PATH, body, robot_headers()).status_code == 200
        assert dt.post(ROBOT_PATH, {**body, "msgId": "msgStranger2=="}, robot_headers()).status_code == 200
        dt.drain()
        [card] = dt.cards("unknown_person", to="admin")  # one card for two messages
        assert "chen" in card.params["btn1_inputs"]
        assert dt.click("admin", card, "link_person", {"user": "chen"}).status_code == 200
        dt.drain()
        with ot.sessions() as s:
            assert s.scalar(select(PlatformIdentity.user_id).where(PlatformIdentity.external_id == "staff9001")) == chen
        assert dt.cards("unknown_person", to="admin")[0].params["btn1_visible"] == "false"  # decided: no buttons


def test_dingtalk_without_templates_admin_links_from_the_markdown_card(engine: Engine, db_url: str, clock: Clock,
                                                                       tmp_path: Path) -> None:
    from tests.e2e.dingtalk.harness import ROBOT_PATH, robot_headers
    from tests.e2e.dingtalk.payloads import robot_message

    with dingtalk_running(engine, db_url, clock, tmp_path, dingtalk_card_template_approval="",
                          dingtalk_card_template_task="") as dt:
        ot = dt.ot
        chen = _new_user(ot, "chen", "陈静")
        body = robot_message("在吗", group=False, msg_id="msgStranger1==", staff_id="staff9001")
        assert dt.post(ROBOT_PATH, body, robot_headers()).status_code == 200
        dt.drain()
        assert not dt.cards("unknown_person", to="admin")  # no template: markdown
        [card] = [m for m in dt.texts_to("admin") if "staff9001" in m]
        links = [unquote(c) for c in re.findall(r"\(dtmd://dingtalkclient/sendMessage\?content=([^)]+)\)", card)]
        [press] = [c for c in links if c.startswith("关联到用户: 陈静 (#link_person@")]
        assert any(c.startswith("忽略 (#ignore_person@") for c in links)
        dt.say("admin", press)  # the link sends it as the admin's message: that click
        dt.drain()
        with ot.sessions() as s:
            assert s.scalar(select(PlatformIdentity.user_id).where(PlatformIdentity.external_id == "staff9001")) == chen
