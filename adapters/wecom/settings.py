"""The WeCom adapter's own settings (ORDERTALK_WECOM_*), read from the environment and `.env` by the model itself."""

from __future__ import annotations

from pydantic import Field, SecretStr

from adapters.settings import AdapterSettings


class WeComSettings(AdapterSettings):
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = None
    wecom_aes_key: SecretStr | None = None
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    wecom_warehouse_chat: str | None = None  # where the core posts warehouse tasks
    # client-side rate limits (bot.ratelimit, adapters/wecom/ratelimits.py); 0 turns one off
    wecom_per_second: float = Field(default=150.0, ge=0)  # 10,000/min per API per company
    wecom_member_per_minute: float = Field(default=20.0, ge=0)  # 30/min to one member, beyond it silently dropped

    @property
    def enabled(self) -> bool:
        return bool(self.wecom_corp_id and self.wecom_secret and self.wecom_token and self.wecom_aes_key)
