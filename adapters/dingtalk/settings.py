"""The DingTalk adapter's own settings (ORDERTALK_DINGTALK_*), read from the environment and `.env` by the model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from adapters.settings import AdapterSettings


class DingTalkSettings(AdapterSettings):
    dingtalk_app_key: str | None = None
    dingtalk_app_secret: SecretStr | None = None
    dingtalk_robot_code: str | None = None  # defaults to the app key
    dingtalk_mode: Literal["stream", "http"] = "stream"
    dingtalk_card_template_approval: str | None = None
    dingtalk_card_template_task: str | None = None
    dingtalk_api_url: str = "https://api.dingtalk.com"
    dingtalk_oapi_url: str = "https://oapi.dingtalk.com"
    dingtalk_warehouse_group: str | None = None  # where the core posts warehouse tasks
    dingtalk_per_second: float = Field(default=20.0, ge=0)  # ~20 QPS per app per API (bot.ratelimit); 0: off
    default_locale: Literal["zh-CN", "en"] = "zh-CN"

    @property
    def enabled(self) -> bool:
        return bool(self.dingtalk_app_key and self.dingtalk_app_secret)
