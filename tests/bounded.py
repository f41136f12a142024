"""A guard against pathological input (a regex that backtracks, int(Decimal("1e600000"))): the work must stay within
a budget of this thread's CPU time. CPU time, not the clock: on a loaded machine a request waits for a core far longer
than it computes, so a wall-clock limit fails good code there, while the CPU a backtracking pattern burns is the
same on any load. A generous wall limit stays, for a hang."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def within(call: Callable[[], T], *, cpu: float, wall: float = 15.0) -> T:
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    result = call()
    used, took = time.thread_time() - cpu0, time.perf_counter() - wall0
    assert used < cpu, f"{used:.2f} s of CPU (limit {cpu} s)"
    assert took < wall, f"{took:.2f} s (limit {wall} s)"
    return result
