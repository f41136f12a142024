"""Adding a platform touches only its package and one entry in bot/platforms.py: FakeChat (tests/unit/fakechat/)
is registered by that one entry and nothing else, and then has its settings from the environment, its route, its
messages through the inbox and the bot core, its replies through the outbox to its deliverer, and its command."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from bot import platforms
from bot.bootstrap import OrderTalk, build
from bot.cli import main
from bot.settings import Settings
from domain.directory import link
from domain.models import UnknownPerson
from tests.conftest import TEST_SECRET_KEY
from tests.unit.fakechat import FakeChatDeliverer, FakeChatSettings
from tests.world import Clock, build_world

TOKEN = "fakechat-token-0123456789"


@pytest.fixture
def fakechat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platforms, "PLATFORMS", [*platforms.PLATFORMS, "tests.unit.fakechat"])  # the one line
    monkeypatch.setenv("ORDERTALK_FAKECHAT_TOKEN", TOKEN)  # its own variable, read by its own settings model


@pytest.fixture
def app(fakechat: None, engine: Engine, db_url: str, clock: Clock, tmp_path) -> Iterator[OrderTalk]:  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, database_url=db_url, run_dispatcher=False, run_scheduler=False,
                        secret_key=TEST_SECRET_KEY, data_dir=tmp_path, inbox_inline=False)
    yield build(settings, clock=clock, engine=engine)


def _post(ot: OrderTalk, user: str, text: str, event: str, token: str = TOKEN) -> int:
    r = ot.flask.test_client().post("/fakechat/events", json={"user": user, "text": text, "id": event},
                                    headers={"X-Fakechat-Token": token})
    return r.status_code


def test_a_fourth_platform_receives_and_answers_through_the_core(app: OrderTalk) -> None:
    own = app.settings.own(FakeChatSettings)
    assert own.enabled and TOKEN in app.settings.secret_values()  # its secret is masked in logs like any other
    deliverer = app.deliverers["fakechat"]
    assert isinstance(deliverer, FakeChatDeliverer) and "fakechat" in app.ctx.linkable
    build_world(app.sessions)
    with app.sessions() as s:
        link(s, "li", "fakechat", "fc-li", linkable=app.ctx.linkable)
        s.commit()

    assert _post(app, "fc-li", "帮助", "e0", token="wrong") == 403
    assert _post(app, "fc-li", "帮助", "e1") == 200
    assert deliverer.delivered == []  # stored by the inbox; the worker processes it
    app.inbox.drain()
    app.dispatcher.drain()
    assert [d.recipient for d in deliverer.delivered] == ["fc-li"]
    reply = deliverer.delivered[0]
    assert reply.platform == "fakechat" and (reply.text or reply.card is not None)
    assert _post(app, "fc-li", "帮助", "e1") == 200  # a redelivered event has no second effect
    app.inbox.drain()
    app.dispatcher.drain()
    assert len(deliverer.delivered) == 1

    # Someone nobody linked yet: remembered for the admins, answered with their id on this platform.
    assert _post(app, "fc-stranger", "hello", "e2") == 200
    app.inbox.drain()
    app.dispatcher.drain()
    to_stranger = [d for d in deliverer.delivered if d.recipient == "fc-stranger"]
    assert to_stranger and "fakechat / fc-stranger" in (to_stranger[0].text or "")
    with app.sessions() as s:
        assert s.scalars(select(UnknownPerson.platform).where(UnknownPerson.external_id == "fc-stranger")).all() == [
            "fakechat"]


def test_without_its_entry_the_platform_is_not_there(engine: Engine, db_url: str, clock: Clock, tmp_path,  # type: ignore[no-untyped-def]
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERTALK_FAKECHAT_TOKEN", TOKEN)
    ot = build(Settings(_env_file=None, database_url=db_url, run_dispatcher=False, run_scheduler=False,
                        secret_key=TEST_SECRET_KEY, data_dir=tmp_path), clock=clock, engine=engine)
    assert "fakechat" not in ot.deliverers and TOKEN not in ot.settings.secret_values()
    assert ot.flask.test_client().post("/fakechat/events", json={}).status_code == 404
    assert "fakechat-ping" not in CliRunner().invoke(main, ["--help"]).output


def test_its_command_is_an_ordertalk_command(fakechat: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERTALK_SECRET_KEY", TEST_SECRET_KEY)
    runner = CliRunner()
    help_text = runner.invoke(main, ["--help"]).output
    assert "fakechat-ping" in help_text and "slack-socket" in help_text and "dingtalk-stream" in help_text
    result = runner.invoke(main, ["fakechat-ping"])
    assert result.exit_code == 0 and result.output.strip() == "fakechat on"
    monkeypatch.delenv("ORDERTALK_FAKECHAT_TOKEN")
    assert runner.invoke(main, ["fakechat-ping"]).output.strip() == "fakechat off"
    # the core's commands offer the platforms installed, this one included
    assert "fakechat" in runner.invoke(main, ["users", "link", "--help"]).output
