"""The Slack adapter's own settings (ORDERTALK_SLACK_*), read from the environment and `.env` by the model itself."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from adapters.settings import AdapterSettings


class SlackSettings(AdapterSettings):
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # Socket Mode
    slack_api_url: str = "https://slack.com/api/"
    slack_warehouse_channel: str | None = None  # where the core posts warehouse tasks
    # client-side rate limits (bot.ratelimit, adapters/slack/ratelimits.py); 0 turns one off
    slack_post_per_second: float = Field(default=10.0, ge=0)  # chat.postMessage: ~1/s per channel + workspace limit
    slack_tier3_per_minute: float = Field(default=50.0, ge=0)  # chat.update
    slack_tier4_per_minute: float = Field(default=100.0, ge=0)  # views.publish
    default_locale: Literal["zh-CN", "en"] = "zh-CN"  # what a click that failed before the core is answered in

    @property
    def enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)
