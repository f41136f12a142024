"""The installed chat platforms: the one list the composition root reads. Everything platform-specific — settings,
routes, deliverer, rate limits, file downloads, CLI commands, traits — is declared by each adapter's descriptor
(`PLATFORM` in its package, adapters/platform.py); the core loops over them and names no platform.

Adding a platform: write adapters/<platform>/ with its `PLATFORM`, and add its package here.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Any

from adapters.platform import Platform

PLATFORMS: list[str] = ["adapters.console", "adapters.slack", "adapters.dingtalk", "adapters.wecom"]


@cache
def _load(packages: tuple[str, ...]) -> tuple[Platform[Any], ...]:
    found: list[Platform[Any]] = []
    for package in packages:
        platform = import_module(package).PLATFORM
        if not isinstance(platform, Platform):
            raise TypeError(f"{package}.PLATFORM is not an adapters.platform.Platform")
        if any(p.name == platform.name for p in found):
            raise ValueError(f"two installed platforms are named {platform.name!r}")
        found.append(platform)
    return tuple(found)


def installed() -> tuple[Platform[Any], ...]:
    """The descriptors of PLATFORMS, in its order (read each time: a test may install one more)."""
    return _load(tuple(PLATFORMS))


def get(name: str) -> Platform[Any]:
    for p in installed():
        if p.name == name:
            return p
    raise KeyError(name)
