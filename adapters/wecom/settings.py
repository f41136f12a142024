"""What the WeCom adapter reads from the settings (ORDERTALK_WECOM_*), handed to install() by the root."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from adapters.settings import AdapterSettings


class WeComFields(BaseModel):
    """The ORDERTALK_WECOM_* variables; the application's Settings has them by inheriting this."""

    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = None
    wecom_aes_key: SecretStr | None = None
    wecom_api_url: str = "https://qyapi.weixin.qq.com"


class WeComSettings(WeComFields, AdapterSettings):
    @property
    def enabled(self) -> bool:
        return bool(self.wecom_corp_id and self.wecom_secret and self.wecom_token and self.wecom_aes_key)
