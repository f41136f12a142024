"""What the sandbox reads from the settings, handed to install() by the root."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from adapters.settings import AdapterSettings


class ConsoleSettings(AdapterSettings):
    sandbox: bool = False
    timezone: str = "Asia/Shanghai"  # the times the page shows

    @property
    def enabled(self) -> bool:
        return self.sandbox

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
