"""The base of each adapter's own settings model.

An adapter reads only its own model (adapters/<platform>/settings.py), never the whole of bot.settings.Settings. Each
model reads its own ORDERTALK_ variables (and `.env`) itself, so the application's Settings declares no platform
field: it builds each installed platform's model once (bot.settings.Settings.own) and the composition root hands it to
the adapter's install(). The fields keep the names of the variables they come from (`slack_bot_token` is
ORDERTALK_SLACK_BOT_TOKEN); a field the application's Settings also has (default_locale, timezone, sandbox) is handed
over from there, so one value reaches the core and the adapter.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AdapterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERTALK_", env_file=".env", extra="ignore", frozen=True)

    @classmethod
    def from_root(cls, settings: Any) -> Self:
        """This adapter's model as the application's settings built it (bot.settings.Settings.own)."""
        own: Self = settings.own(cls)
        return own

    @property
    def enabled(self) -> bool:
        """Whether the platform is configured; an adapter that is not installs nothing."""
        raise NotImplementedError

    def secret_values(self) -> list[str]:
        """Every secret set here, for bot.redaction to mask wherever a library would log one."""
        return [v.get_secret_value() for v in (getattr(self, name) for name in type(self).model_fields)
                if isinstance(v, SecretStr)]
