"""Socket Mode through the durable inbox: a click arriving over the socket is committed to the inbox before its
envelope is acknowledged, decided by the inbox worker exactly once (a redelivered envelope changes nothing), and an
envelope that cannot be stored is never acknowledged (Slack sends it again)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from adapters.slack.app import socket_mode_handler
from adapters.slack.settings import SlackSettings
from bot.inbox import InboxCore, InboxEvent
from tests.e2e.slack.harness import TEAM, SlackDriver, running, settings_for
from tests.world import Clock

NUMBER = "SO-20261123-0001"


@pytest.fixture
def sl(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[SlackDriver]:
    with running(engine, db_url, clock, tmp_path) as driver:
        yield driver


class Socket:
    """The socket's side of an ack: which envelopes were acknowledged, and how many pending Slack rows another
    connection could read at that moment (so an ack before the commit would show)."""

    def __init__(self, sl: SlackDriver) -> None:
        self.sl = sl
        self.acks: list[tuple[str, int]] = []

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        with self.sl.ot.inbox.sessions() as s:
            stored = int(s.scalar(select(func.count()).select_from(InboxEvent)
                                  .where(InboxEvent.kind == "slack", InboxEvent.status == "pending")) or 0)
        self.acks.append((response.envelope_id, stored))


def click_envelope(sl: SlackDriver, envelope_id: str) -> SocketModeRequest:
    sl.say("li", "下单 华兴 SKU-001 x10")
    wang = sl.card_to("wang", NUMBER, "approve")
    payload = {"team": {"id": TEAM}, "api_app_id": "A0BOT", **sl.click_payload("wang", wang, wang.button("approve"))}
    return SocketModeRequest(type="interactive", envelope_id=envelope_id, payload=payload)


def handler_for(sl: SlackDriver, tmp_path: Path, inbound: Any) -> Any:
    settings = settings_for(sl.fake, sl.ot.settings.database_url, tmp_path, slack_app_token="xapp-1-test")
    return socket_mode_handler(inbound, SlackSettings.from_root(settings), sl.ot.ctx.signer)


def test_a_socket_click_is_stored_before_its_ack_and_decided_once_from_the_inbox(sl: SlackDriver, tmp_path: Path) -> None:
    req = click_envelope(sl, "env-click-1")
    handler = handler_for(sl, tmp_path, InboxCore(sl.ot.inbox, inline=False))  # the worker decides, as in production
    socket = Socket(sl)
    handler.handle(socket, req)
    assert socket.acks == [("env-click-1", 1)]  # acknowledged once its row was committed
    assert sl.order(NUMBER).status != "approved" and sl.audit("approve") == []  # nothing decided before the worker
    assert sl.ot.inbox.drain() == 1
    assert sl.order(NUMBER).status == "approved" and len(sl.audit("approve")) == 1
    handler.handle(socket, req)  # Slack sends the same envelope again: acknowledged, no second row, no second decision
    sl.ot.inbox.drain()
    assert [a[0] for a in socket.acks] == ["env-click-1", "env-click-1"] and socket.acks[1][1] == 0
    assert len(sl.audit("approve")) == 1 and len(sl.audit("approved")) == 1


class Refusing(InboxCore):
    """The database refuses the write: what the inbox's store raises then."""

    def store_raw(self, *args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO inbox …", {}, ConnectionRefusedError("connection refused"))


def test_a_socket_click_that_cannot_be_stored_is_not_acknowledged(sl: SlackDriver, tmp_path: Path) -> None:
    req = click_envelope(sl, "env-click-2")
    handler = handler_for(sl, tmp_path, Refusing(sl.ot.inbox, inline=False))
    socket = Socket(sl)
    handler.handle(socket, req)
    assert socket.acks == []  # no ack: Slack delivers the envelope again
    assert sl.ot.inbox.drain() == 0 and sl.order(NUMBER).status != "approved"
    handler_for(sl, tmp_path, InboxCore(sl.ot.inbox, inline=False)).handle(socket, req)  # the database is back
    assert socket.acks == [("env-click-2", 1)]
    sl.ot.inbox.drain()
    assert sl.order(NUMBER).status == "approved" and len(sl.audit("approve")) == 1
