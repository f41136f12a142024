"""One lock per key, for work that several threads may want at once and that must be done once: the dispatcher sends
a batch side by side, so two deliveries of one chart may both find it not yet uploaded, two answers to one person may
both open their DM. The first does the work; the others wait on the key's lock and then find its result."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: dict[Hashable, tuple[threading.Lock, list[int]]] = {}  # key → its lock, and how many want it

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        with self._guard:
            lock, users = self._held.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if not users[0]:  # nobody holds or waits for it: a long-running process keeps no lock per key ever seen
                    del self._held[key]

    def __len__(self) -> int:
        with self._guard:
            return len(self._held)


__all__ = ["KeyedLocks"]
