"""What the DingTalk adapter reads from the settings (ORDERTALK_DINGTALK_*), handed to install() by the root."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, SecretStr

from adapters.settings import AdapterSettings


class DingTalkFields(BaseModel):
    """The ORDERTALK_DINGTALK_* variables; the application's Settings has them by inheriting this."""

    dingtalk_app_key: str | None = None
    dingtalk_app_secret: SecretStr | None = None
    dingtalk_robot_code: str | None = None  # defaults to the app key
    dingtalk_mode: Literal["stream", "http"] = "stream"
    dingtalk_card_template_approval: str | None = None
    dingtalk_card_template_task: str | None = None
    dingtalk_api_url: str = "https://api.dingtalk.com"
    dingtalk_oapi_url: str = "https://oapi.dingtalk.com"


class DingTalkSettings(DingTalkFields, AdapterSettings):
    default_locale: Literal["zh-CN", "en"] = "zh-CN"

    @property
    def enabled(self) -> bool:
        return bool(self.dingtalk_app_key and self.dingtalk_app_secret)
