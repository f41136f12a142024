"""How this deployment receives each platform's callbacks, shared by every process through the database.

A DingTalk card says at creation how its clicks come back (`callbackType` STREAM or HTTP), and the process that
creates it (any worker) is not the one that receives them. So the receiving side records its mode: the
`ordertalk dingtalk-stream` receiver records "stream", `ordertalk dingtalk register-card-callback` (HTTP mode)
records "http". Senders follow the record; a process whose setting disagrees with it refuses to start.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot import platforms
from bot.records import Receiver
from bot.settings import Settings
from domain.types import utcnow

CACHE_SECONDS = 30.0  # a worker notices a re-registration within this


class ReceiverMismatch(RuntimeError):
    """This process is configured for another callback mode than the one the deployment receives with."""


def who() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


class Receivers:
    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sessions = sessions
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, str | None]] = {}

    def record(self, platform: str, mode: str, by: str) -> None:
        with self._sessions() as s:
            row = s.get(Receiver, platform) or Receiver(platform=platform)
            row.mode, row.recorded_by, row.recorded_at = mode, by[:200], self._clock()
            s.add(row)
            s.commit()
        with self._lock:
            self._cache[platform] = (self._monotonic(), mode)

    def recorded(self, platform: str) -> Receiver | None:
        with self._sessions() as s:
            row = s.get(Receiver, platform)
            if row is not None:
                s.expunge(row)
            return row

    def mode(self, platform: str) -> str | None:
        """The recorded mode (None: nothing recorded yet), read at most every CACHE_SECONDS."""
        with self._lock:
            hit = self._cache.get(platform)
        if hit is not None and self._monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        row = self.recorded(platform)
        mode = row.mode if row else None
        with self._lock:
            self._cache[platform] = (self._monotonic(), mode)
        return mode

    def check(self, settings: Settings) -> None:
        """At start: refuse a process whose settings disagree with how this deployment receives a platform's
        callbacks (each platform's descriptor says what disagrees, adapters/platform.py `receiver_check`)."""
        for p in platforms.installed():
            own = settings.own(p.settings)
            if p.receiver_check is not None and own.enabled:
                problem = p.receiver_check(own, self.recorded(p.name))
                if problem:
                    raise ReceiverMismatch(problem)
