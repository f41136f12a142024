"""The base of each adapter's own settings model.

An adapter reads only its own model (adapters/<platform>/settings.py), never the whole of bot.settings.Settings: the
composition root builds it with `from_root(settings)` and hands it to the adapter's `install()`. The fields keep the
names of the ORDERTALK_ variables they come from (`slack_bot_token` is ORDERTALK_SLACK_BOT_TOKEN).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class AdapterSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def from_root(cls, settings: Any) -> Self:
        """This adapter's fields, read off the application's settings (a pydantic model with the same names)."""
        return cls.model_validate({name: getattr(settings, name) for name in cls.model_fields})

    @property
    def enabled(self) -> bool:
        """Whether the platform is configured; an adapter that is not installs nothing."""
        raise NotImplementedError
