"""DingTalk's own `ordertalk` commands (bot/cli.py adds them from the platform's descriptor), and the start-up check
that this process's callback mode is the one the deployment receives with."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from adapters.dingtalk.settings import DingTalkSettings
from adapters.platform import Cli
from bot.records import Receiver

NAME = "dingtalk"


def receiver_check(settings: DingTalkSettings, row: Receiver | None) -> str | None:
    """At start: a process whose mode disagrees with how this deployment receives card clicks is refused."""
    if not settings.enabled or row is None or row.mode == settings.dingtalk_mode:
        return None
    switch = ("ordertalk dingtalk register-card-callback" if settings.dingtalk_mode == "http"
              else "ordertalk dingtalk-stream")
    return (f"ORDERTALK_DINGTALK_MODE={settings.dingtalk_mode} here, but this deployment receives DingTalk card "
            f"clicks over {row.mode} (recorded by {row.recorded_by} at {row.recorded_at:%Y-%m-%d %H:%M} UTC). "
            f"Cards sent from this process would send their clicks where nothing listens: set "
            f"ORDERTALK_DINGTALK_MODE={row.mode} on every process, or switch the deployment deliberately ({switch}).")


def commands(cli: Cli) -> Iterable[click.Command]:
    def configured() -> tuple[Any, DingTalkSettings]:
        s = cli.settings()
        own = DingTalkSettings.from_root(s)
        if not own.enabled:
            raise click.ClickException("set ORDERTALK_DINGTALK_APP_KEY and ORDERTALK_DINGTALK_APP_SECRET")
        return s, own

    @click.command("dingtalk-stream")
    def dingtalk_stream() -> None:
        """Connect to DingTalk over Stream mode (no public URL needed): robot messages and card clicks."""
        from adapters.dingtalk.stream import run_stream
        from bot.receivers import who

        s, own = configured()
        if own.dingtalk_mode != "stream":
            raise click.ClickException("ORDERTALK_DINGTALK_MODE is http: cards ask DingTalk to send clicks to "
                                       "/dingtalk/card-callback, so a Stream receiver would get none. Set "
                                       "ORDERTALK_DINGTALK_MODE=stream on every process to receive over Stream.")
        ot = cli.build(s)
        ot.receivers.record(NAME, "stream", f"ordertalk dingtalk-stream on {who()}")  # senders follow this
        cli.start(ot)
        run_stream(ot.inbound, ot.ctx.signer, own)  # the root's signer checks card clicks

    @click.group(NAME)
    def dingtalk() -> None:
        """DingTalk setup."""

    @dingtalk.command("register-card-callback")
    @click.option("--url", default=None, help="Default: ORDERTALK_PUBLIC_URL + /dingtalk/card-callback.")
    @click.option("--force", is_flag=True, help="Replace an existing registration of the route key (forceUpdate).")
    def register_card_callback(url: str | None, force: bool) -> None:
        """HTTP mode: tell DingTalk where card clicks go (route key "ordertalk"), once per deployment."""
        from adapters.dingtalk.client import CARD_CALLBACK_ROUTE_KEY, DingTalkClient
        from bot.ports import PermanentFailure, RetryLater

        s, own = configured()
        if own.dingtalk_mode != "http":
            raise click.ClickException("ORDERTALK_DINGTALK_MODE is stream: card clicks come over the Stream "
                                       "connection and need no callback URL. Set ORDERTALK_DINGTALK_MODE=http on "
                                       "every process to receive them over HTTP instead.")
        target = url or s.link_base() + "/dingtalk/card-callback"  # ORDERTALK_PUBLIC_URL, when set
        if not target.startswith("https://"):
            click.echo(f"warning: DingTalk calls {target} from the internet; it must be a public HTTPS address", err=True)
        try:
            DingTalkClient(own).register_card_callback(target, force=force)
        except (PermanentFailure, RetryLater) as e:
            raise click.ClickException(f"DingTalk refused the registration: {e}") from e
        cli.build(s).receivers.record(NAME, "http", f"register-card-callback {target}")
        click.echo(f"card clicks (route key {CARD_CALLBACK_ROUTE_KEY}) now go to {target}")

    return [dingtalk_stream, dingtalk]
