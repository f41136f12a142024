"""Events API over HTTP: signatures, DMs, retries, loop prevention, mentions, App Home."""

from __future__ import annotations

import time

from tests.e2e.slack.conftest import SlackPoster
from tests.e2e.slack.fake_slack import BOT_ID, BOT_USER, FakeSlack
from tests.e2e.slack.fakes import RecordingCore

DM = {"type": "message", "channel_type": "im", "channel": "D0SALES7", "user": "U0SALES7",
      "text": "status SO-20261122-0007 &amp; &lt;urgent&gt;", "ts": "1712345700.000300",
      "event_ts": "1712345700.000300", "client_msg_id": "6f0c8e2e"}


def settle() -> None:
    """Give Bolt's listener thread a moment, for asserting that something did NOT happen."""
    time.sleep(0.2)


def test_forged_and_stale_requests_get_401_and_never_reach_the_core(slack: SlackPoster,
                                                                    core: RecordingCore) -> None:
    assert slack.event(DM, secret="not-the-secret").status_code == 401
    assert slack.event(DM, timestamp=int(time.time()) - 301).status_code == 401
    unsigned = slack.client.post("/slack/events", data="{}", headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    settle()
    assert core.messages == []


def test_url_verification_challenge(slack: SlackPoster) -> None:
    resp = slack.post('{"token": "x", "challenge": "abc123", "type": "url_verification"}', "application/json")
    assert resp.status_code == 200 and resp.get_json() == {"challenge": "abc123"}


def test_dm_reaches_core_once_with_envelope_event_id(slack: SlackPoster, core: RecordingCore) -> None:
    resp = slack.event(DM)
    assert resp.status_code == 200
    [(msg, deliver)] = core.wait("messages")
    assert deliver is True
    assert msg.platform == "slack" and msg.external_user_id == "U0SALES7"
    assert msg.event_id == "slack:Ev0SALES42"
    assert msg.text == "status SO-20261122-0007 & <urgent>"  # unescaped for the core
    assert msg.reply_to is not None and msg.reply_to.recipient == "D0SALES7"
    settle()
    assert len(core.messages) == 1


def test_retried_delivery_carries_the_same_event_id(slack: SlackPoster, core: RecordingCore) -> None:
    slack.event(DM)
    core.wait("messages")
    resp = slack.event(DM, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert resp.status_code == 200
    first, second = core.wait("messages", 2)
    assert first[0].event_id == second[0].event_id == "slack:Ev0SALES42"  # the core dedups on it


def test_event_without_envelope_id_falls_back_to_channel_and_ts(slack: SlackPoster, core: RecordingCore) -> None:
    slack.event(DM, event_id="")
    [(msg, _)] = core.wait("messages")
    assert msg.event_id == "slack:D0SALES7:1712345700.000300"


def test_bot_messages_are_ignored(slack: SlackPoster, core: RecordingCore) -> None:
    own = {**DM, "user": BOT_USER, "bot_id": BOT_ID}
    other_bot = {**DM, "user": "U0OTHERBOT", "bot_id": "B0OTHER"}
    classic = {**DM, "subtype": "bot_message", "user": None, "bot_id": "B0OLD"}
    own_user_only = {**DM, "user": BOT_USER}
    for n, event in enumerate([own, other_bot, classic, own_user_only]):
        assert slack.event(event, event_id=f"Ev{n}").status_code == 200
    edited = {**DM, "subtype": "message_changed", "message": {"text": "x"}}
    assert slack.event(edited, event_id="EvEdit").status_code == 200  # acked, not retried by Slack
    settle()
    assert core.messages == []


def test_channel_messages_without_mention_are_not_handled(slack: SlackPoster, core: RecordingCore) -> None:
    slack.event({**DM, "channel_type": "channel", "channel": "C0SALES"})
    settle()
    assert core.messages == []


def test_app_mention_replies_in_thread(slack: SlackPoster, core: RecordingCore) -> None:
    event = {"type": "app_mention", "user": "U0SALES7", "text": f"<@{BOT_USER}> status SO-1042 for <@U0BOSS>",
             "channel": "C0SALES", "ts": "1712345700.000300", "event_ts": "1712345700.000300"}
    assert slack.event(event, event_id="EvMention1").status_code == 200
    [(msg, deliver)] = core.wait("messages")
    assert deliver is True and msg.event_id == "slack:EvMention1"
    assert msg.text == "status SO-1042 for <@U0BOSS>"
    assert msg.reply_to is not None
    assert (msg.reply_to.recipient, msg.reply_to.kind, msg.reply_to.thread) == ("C0SALES", "group",
                                                                               "1712345700.000300")
    slack.event({**event, "thread_ts": "1712340000.000100", "ts": "1712345800.000100"}, event_id="EvMention2")
    _, (msg2, _) = core.wait("messages", 2)
    assert msg2.reply_to is not None and msg2.reply_to.thread == "1712340000.000100"


def test_app_home_opened_publishes_home_view(slack: SlackPoster, core: RecordingCore,
                                              fake_slack: FakeSlack) -> None:
    slack.event({"type": "app_home_opened", "user": "U0MGR01", "channel": "D0MGR01", "tab": "home",
                 "event_ts": "1712345700.000300"}, event_id="EvHome")
    [call] = fake_slack.wait_for("views.publish")
    assert call.args["user_id"] == "U0MGR01"
    assert call.args["view"]["type"] == "home" and call.args["view"]["blocks"][0]["type"] == "header"
    assert core.homes == [("slack", "U0MGR01")]
    slack.event({"type": "app_home_opened", "user": "U0MGR01", "channel": "D0MGR01", "tab": "messages",
                 "event_ts": "1712345701.000300"}, event_id="EvHome2")
    settle()
    assert len(fake_slack.of("views.publish")) == 1
