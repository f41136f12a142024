"""Wiring: install() on Flask, Socket Mode handler, and the signing scheme our test requests use."""

from __future__ import annotations

import flask
import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.signature import SignatureVerifier

from adapters.slack import install
from adapters.slack.app import build_app, socket_mode_handler
from adapters.slack.settings import SlackSettings
from bot.settings import Settings
from tests.e2e.slack.conftest import SlackPoster
from tests.e2e.slack.fakes import SIGNER, RecordingCore


def test_install_returns_none_when_slack_is_off(core: RecordingCore) -> None:
    app = flask.Flask("t")
    assert install(app, core, SIGNER, SlackSettings()) is None
    assert "/slack/events" not in {r.rule for r in app.url_map.iter_rules()}


def test_install_mounts_events_route_and_returns_deliverer(flask_app: flask.Flask) -> None:
    rules = {r.rule: r.methods for r in flask_app.url_map.iter_rules()}
    assert "POST" in rules["/slack/events"]
    deliverer = flask_app.config["slack_deliverer"]
    assert deliverer.platform == "slack" and callable(deliverer.deliver)


def test_http_app_requires_signing_secret(core: RecordingCore) -> None:
    with pytest.raises(ValueError, match="SIGNING_SECRET"):
        build_app(core, SlackSettings(_env_file=None, slack_bot_token="xoxb-x"), SIGNER)


def test_socket_mode_handler_is_built_from_app_token(core: RecordingCore, settings: Settings) -> None:
    with pytest.raises(ValueError, match="APP_TOKEN"):
        socket_mode_handler(core, SlackSettings.from_root(settings), SIGNER)
    socket_settings = SlackSettings(_env_file=None, slack_bot_token="xoxb-test", slack_app_token="xapp-1-test",
                                    slack_api_url=settings.own(SlackSettings).slack_api_url)  # no signing secret: not HTTP
    handler = socket_mode_handler(core, socket_settings, SIGNER)
    assert isinstance(handler, SocketModeHandler) and handler.app_token == "xapp-1-test"


def test_settings_secrets_are_not_printed(settings: Settings) -> None:
    own = SlackSettings.from_root(settings)  # where the secrets are held now
    assert own.slack_bot_token is not None and own.slack_bot_token.get_secret_value() == "xoxb-test"
    for shown in (repr(settings), str(settings), repr(own), str(own), own.model_dump_json()):
        assert "xoxb-test" not in shown and "test-signing-secret" not in shown


def test_request_signing_matches_slack_known_answer() -> None:
    """Slack's documented vector (slack.md §1.1), computed the way our test client signs requests."""
    body = ("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    headers = SlackPoster.sign(body, timestamp=1531420618, secret="8f742231b10e8888abcd99yyyzzz85a5")
    assert headers["X-Slack-Signature"] == expected

    class Clock:
        def now(self) -> float:
            return 1531420618 + 299.0

    verifier = SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5", clock=Clock())
    assert verifier.is_valid(body, "1531420618", expected)


def test_manifest_matches_what_the_app_handles() -> None:
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[3] / "adapters/slack/manifest.yaml").read_text())
    settings_ = manifest["settings"]
    assert set(settings_["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im", "app_home_opened"}
    assert settings_["interactivity"]["is_enabled"] and settings_["interactivity"]["message_menu_options_url"]
    assert settings_["socket_mode_enabled"] is False
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/order"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "im:history", "im:write", "app_mentions:read", "commands", "users:read",
            "users:read.email"} <= scopes
    urls = {settings_["event_subscriptions"]["request_url"], settings_["interactivity"]["request_url"],
            manifest["features"]["slash_commands"][0]["url"]}
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
