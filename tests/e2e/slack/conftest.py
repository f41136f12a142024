from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import flask
import pytest

from adapters.slack import install
from adapters.slack.deliverer import SlackDeliverer, make_client
from adapters.slack.settings import SlackSettings
from bot.settings import Settings
from tests.e2e.slack.fake_slack import FakeSlack
from tests.e2e.slack.fakes import SIGNER, RecordingCore

SIGNING_SECRET = "test-signing-secret"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture
def settings(fake_slack: FakeSlack, tmp_path: Any) -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        data_dir=tmp_path,
    )


@pytest.fixture
def core() -> RecordingCore:
    return RecordingCore()


@pytest.fixture
def deliverer(settings: Settings) -> SlackDeliverer:
    # No 429 retry inside the client: the RetryLater mapping is under test, and tests stay fast.
    own = SlackSettings.from_root(settings)
    return SlackDeliverer(own, client=make_client(own, rate_limit_retries=0))


class SlackPoster:
    """Posts correctly signed Slack requests to the Flask app, as Slack would."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @staticmethod
    def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest}

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None, **sign: Any) -> Any:
        all_headers = {"Content-Type": content_type, **self.sign(body, **sign), **(headers or {})}
        return self.client.post("/slack/events", data=body, headers=all_headers)

    def event(self, event: dict[str, Any], event_id: str = "Ev0SALES42", headers: dict[str, str] | None = None,
              **sign: Any) -> Any:
        envelope = {
            "token": "legacy", "team_id": "T0ORDERS", "api_app_id": "A0BOT", "type": "event_callback",
            "event_id": event_id, "event_time": 1712345700, "event": event,
            "authorizations": [{"team_id": "T0ORDERS", "user_id": "UBOTSELF", "is_bot": True}],
        }
        return self.post(json.dumps(envelope), "application/json", headers, **sign)

    def interactive(self, payload: dict[str, Any], **sign: Any) -> Any:
        payload = {"team": {"id": "T0ORDERS"}, "api_app_id": "A0BOT", **payload}
        return self.post("payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded", **sign)

    def command(self, text: str, response_url: str, **sign: Any) -> Any:
        body = urlencode({
            "team_id": "T0ORDERS", "channel_id": "C0SALES", "user_id": "U0SALES7", "user_name": "zhang.wei",
            "command": "/order", "text": text, "response_url": response_url, "trigger_id": "7001.8002.cmd",
            "api_app_id": "A0BOT",
        })
        return self.post(body, "application/x-www-form-urlencoded", **sign)


@pytest.fixture
def flask_app(core: RecordingCore, settings: Settings) -> flask.Flask:
    app = flask.Flask("ordertalk-test")
    deliverer = install(app, core, SIGNER, SlackSettings.from_root(settings))
    assert deliverer is not None
    app.config["slack_deliverer"] = deliverer
    return app


@pytest.fixture
def slack(flask_app: flask.Flask) -> SlackPoster:
    return SlackPoster(flask_app.test_client())
