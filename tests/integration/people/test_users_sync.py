"""`ordertalk users sync slack|dingtalk|wecom`: each platform's directory read from a fake server in its own paged
shape, users linked by e-mail, mobile or exact name, and everything uncertain listed and left alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from domain.models import AuditEntry, PlatformIdentity, Role, User
from tests.conftest import TEST_SECRET_KEY
from tests.integration.people import fake_directories as fd
from tests.world import World, build_world


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    w = build_world(session_factory)
    with session_factory() as s:
        s.get(User, w["sales2"]).email = "amy@example.com"  # amy
        s.get(User, w["fin"]).mobile = "13800000009"  # qian
        for name in ("zw1", "zw2"):  # two people of the same name
            u = User(username=name, display_name="张伟", locale="zh-CN")
            u.roles = {Role.SALES}
            s.add(u)
        s.commit()
    return w


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("ORDERTALK_DATABASE_URL", db_url)
    monkeypatch.setenv("ORDERTALK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ORDERTALK_SECRET_KEY", TEST_SECRET_KEY)
    return monkeypatch


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output + (str(r.exception) if r.exit_code and r.exception else "")


def links(factory: sessionmaker[Session], platform: str) -> dict[str, str]:
    with factory() as s:
        return {u: e for u, e in s.execute(select(User.username, PlatformIdentity.external_id).join(PlatformIdentity.user)
                                           .where(PlatformIdentity.platform == platform))}


def member(uid: str, real: str = "", email: str = "", phone: str = "", **extra: object) -> dict[str, object]:
    return {"id": uid, "team_id": "T0ORDERS", "name": uid.lower(), "deleted": False, "real_name": real, "is_bot": False,
            "tz": "Asia/Shanghai", "locale": "en-US",
            "profile": {"real_name": real, "display_name": "", "email": email, "phone": phone}, **extra}


@pytest.fixture
def slack_dir(env: pytest.MonkeyPatch) -> Iterator[fd.Served]:
    served = fd.slack([
        member("U0AMY", "Amy C.", "AMY@example.com"),  # by e-mail, whatever the case
        member("U0QIAN", "Qian", phone="+86 138-0000-0009"),  # by mobile
        member("U0WANG", "王经理"),  # by exact name
        member("U0ZW", "张伟"),  # two users are called 张伟: not linked
        member("U0SUN1", "孙仓管"), member("U0SUN2", "孙仓管"),  # two accounts for one person: neither linked
        member("U_LI", "李四"),  # linked before
        member("U0LI2", "李四"),  # li is linked to U_LI already
        member("U0NEW", "Stranger", "nobody@example.com"),
        member("U0GONE", "管理员", deleted=True), member("B0BOT", "管理员", is_bot=True), member("USLACKBOT", "Slackbot"),
    ])
    env.setenv("ORDERTALK_SLACK_BOT_TOKEN", fd.SLACK_TOKEN)
    env.setenv("ORDERTALK_SLACK_SIGNING_SECRET", "slack-signing-secret")
    env.setenv("ORDERTALK_SLACK_API_URL", served.url + "/api/")
    yield served
    served.stop()


def test_slack_sync_links_the_certain_and_lists_the_rest(world: World, slack_dir: fd.Served,
                                                         session_factory: sessionmaker[Session]) -> None:
    code, out = run("users", "sync", "slack", "--dry-run")
    assert code == 0, out
    assert links(session_factory, "slack") == {"li": "U_LI"}  # a dry run links nothing
    assert "would link" in out and "3 would link, 1 already linked, 3 ambiguous, 1 conflicts, 1 unmatched" in out
    pages = [c for c in slack_dir.calls if c[0] == "users.list"]
    assert len(pages) == 4 and [c[1].get("cursor", "") for c in pages] == ["", "3", "6", "9"]  # followed every page

    code, out = run("users", "sync", "slack")
    assert code == 0, out
    assert links(session_factory, "slack") == {"li": "U_LI", "amy": "U0AMY", "qian": "U0QIAN", "wang": "U0WANG"}
    assert "amy" in out and "(by email)" in out and "(by mobile)" in out and "(by name)" in out
    for line in ("U0ZW 张伟", "U0SUN1 孙仓管", "U0SUN2 孙仓管"):
        assert any(line in row and "ambiguous" in row for row in out.splitlines()), out
    assert any("U0LI2" in row and "conflict" in row and "li" in row for row in out.splitlines())
    assert any("U0NEW" in row and "unmatched" in row for row in out.splitlines())
    assert "U0GONE" not in out and "B0BOT" not in out and "USLACKBOT" not in out
    with session_factory() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "linked")).all()
        assert sorted(a.details["external_id"] for a in audit) == ["U0AMY", "U0QIAN", "U0WANG"]
        assert {a.details["how"] for a in audit} == {"sync:email", "sync:mobile", "sync:name"}

    code, out = run("users", "sync", "slack")  # again: nothing new
    assert code == 0 and "0 linked, 4 already linked" in out


def test_dingtalk_sync_walks_every_department_and_page(world: World, env: pytest.MonkeyPatch,
                                                       session_factory: sessionmaker[Session]) -> None:
    served = fd.dingtalk(
        departments={1: [2, 3], 2: [4], 3: [], 4: []},
        users={1: [{"userid": "dt-admin", "name": "管理员"}],
               2: [{"userid": "dt-x", "name": "路人甲"}, {"userid": "dt-wang", "name": "王经理", "mobile": "13900000000"},
                   {"userid": "dt-amy", "name": "Amy", "email": "amy@example.com"}],
               4: [{"userid": "dt-qian", "name": "Q", "mobile": "13800000009"},
                   {"userid": "dt-wang", "name": "王经理", "mobile": "13900000000"}]})  # in two departments: once
    env.setenv("ORDERTALK_DINGTALK_APP_KEY", fd.DINGTALK_KEY)
    env.setenv("ORDERTALK_DINGTALK_APP_SECRET", fd.DINGTALK_SECRET)
    env.setenv("ORDERTALK_DINGTALK_API_URL", served.url)
    env.setenv("ORDERTALK_DINGTALK_OAPI_URL", served.url)
    try:
        code, out = run("users", "sync", "dingtalk")
    finally:
        served.stop()
    assert code == 0, out
    assert links(session_factory, "dingtalk") == {"admin": "dt-admin", "wang": "dt-wang", "amy": "dt-amy",
                                                  "qian": "dt-qian"}
    assert "dt-x 路人甲" in out and "(5 in the directory)" in out
    assert sorted(c[1]["dept_id"] for c in served.calls if c[0] == "listsub") == [1, 2, 3, 4]
    assert [c[1]["cursor"] for c in served.calls if c[0] == "user/list" and c[1]["dept_id"] == 2] == [0, 2]


def test_wecom_sync_reads_each_department_and_skips_who_left(world: World, env: pytest.MonkeyPatch,
                                                             session_factory: sessionmaker[Session]) -> None:
    served = fd.wecom([1, 2], {
        1: [{"userid": "WangJL", "name": "王经理"}, {"userid": "Gone", "name": "李四", "status": 5}],
        2: [{"userid": "AmyC", "name": "Amy", "email": "amy@example.com"}, {"userid": "WangJL", "name": "王经理"},
            {"userid": "ZhangW", "name": "张伟"}]})
    env.setenv("ORDERTALK_WECOM_CORP_ID", fd.WECOM_CORP)
    env.setenv("ORDERTALK_WECOM_SECRET", fd.WECOM_SECRET)
    env.setenv("ORDERTALK_WECOM_AGENT_ID", "1000002")
    env.setenv("ORDERTALK_WECOM_TOKEN", "callback-token")
    env.setenv("ORDERTALK_WECOM_AES_KEY", "a" * 43)
    env.setenv("ORDERTALK_WECOM_API_URL", served.url)
    try:
        code, out = run("users", "sync", "wecom")
    finally:
        served.stop()
    assert code == 0, out
    assert links(session_factory, "wecom") == {"wang": "WangJL", "amy": "AmyC"}
    assert "ZhangW" in out and "ambiguous" in out and "Gone" not in out
    assert [c[1]["department_id"] for c in served.calls if c[0] == "user/list"] == ["1", "2"]


def test_sync_needs_the_platform_configured(world: World, env: pytest.MonkeyPatch, engine: Engine) -> None:
    env.delenv("ORDERTALK_WECOM_CORP_ID", raising=False)
    code, out = run("users", "sync", "wecom")
    assert code != 0 and "not configured" in out
