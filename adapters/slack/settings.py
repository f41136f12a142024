"""What the Slack adapter reads from the settings (ORDERTALK_SLACK_*), handed to install() by the root."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, SecretStr

from adapters.settings import AdapterSettings


class SlackFields(BaseModel):
    """The ORDERTALK_SLACK_* variables; the application's Settings has them by inheriting this."""

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # Socket Mode
    slack_api_url: str = "https://slack.com/api/"


class SlackSettings(SlackFields, AdapterSettings):
    default_locale: Literal["zh-CN", "en"] = "zh-CN"  # what a click that failed before the core is answered in

    @property
    def enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)
