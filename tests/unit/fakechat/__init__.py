"""A fourth chat platform that lives only here: proof that adding one touches its own package and one entry in
bot/platforms.py's PLATFORMS. It has its own settings (ORDERTALK_FAKECHAT_*), a route that receives messages, a
deliverer that keeps what it is handed, and a command of its own."""

from __future__ import annotations

from collections.abc import Iterable

import click
import flask
from pydantic import SecretStr

from adapters.platform import Cli, Platform, Wiring
from adapters.settings import AdapterSettings
from bot.ports import Delivery, DeliveryReceipt, InboundMessage, ReplyTarget

NAME = "fakechat"


class FakeChatSettings(AdapterSettings):
    fakechat_token: SecretStr | None = None
    fakechat_group: str | None = None

    @property
    def enabled(self) -> bool:
        return self.fakechat_token is not None


class FakeChatDeliverer:
    platform = NAME

    def __init__(self) -> None:
        self.delivered: list[Delivery] = []

    def deliver(self, delivery: Delivery) -> DeliveryReceipt:
        self.delivered.append(delivery)
        return DeliveryReceipt(ref=f"{delivery.recipient}:{len(self.delivered)}")


def install(w: Wiring, settings: FakeChatSettings) -> FakeChatDeliverer | None:
    if not settings.enabled:
        return None
    token = settings.fakechat_token.get_secret_value() if settings.fakechat_token else ""
    bp = flask.Blueprint(NAME, __name__)

    @bp.post("/fakechat/events")
    def events() -> tuple[str, int]:
        if flask.request.headers.get("X-Fakechat-Token") != token:
            return "forbidden", 403
        body = flask.request.get_json()
        w.core.handle_message(InboundMessage(platform=NAME, external_user_id=body["user"], text=body["text"],
                                             event_id=body["id"], reply_to=ReplyTarget(recipient=body["user"])))
        return "ok", 200

    w.app.register_blueprint(bp)
    return FakeChatDeliverer()


def commands(cli: Cli) -> Iterable[click.Command]:
    @click.command("fakechat-ping")
    def ping() -> None:
        """Say whether FakeChat is configured."""
        own = FakeChatSettings.from_root(cli.settings())
        click.echo(f"fakechat {'on' if own.enabled else 'off'}")

    return [ping]


PLATFORM = Platform(name=NAME, settings=FakeChatSettings, install=install, commands=commands,
                    group_chat=lambda s: s.fakechat_group)
