"""Slack's own `ordertalk` commands (bot/cli.py adds them from the platform's descriptor)."""

from __future__ import annotations

from collections.abc import Iterable

import click

from adapters.platform import Cli
from adapters.slack.settings import SlackSettings


def commands(cli: Cli) -> Iterable[click.Command]:
    @click.command("slack-socket")
    def slack_socket() -> None:
        """Connect to Slack over Socket Mode (no public URL needed)."""
        from adapters.slack.app import run_socket_mode

        s = cli.settings()
        own = SlackSettings.from_root(s)
        if not own.slack_app_token:
            raise click.ClickException("set ORDERTALK_SLACK_APP_TOKEN (xapp-…) for Socket Mode")
        ot = cli.start(cli.build(s))
        run_socket_mode(ot.inbound, own, ot.ctx.signer)

    return [slack_socket]
