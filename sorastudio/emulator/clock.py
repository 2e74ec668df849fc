"""Time for the emulator: real wall-clock seconds, injectable for tests.

Timestamps on the wire are real unix seconds; only *spans* (job durations, expiry, rate windows,
Retry-After) are multiplied by `time_scale`, so a client's own clock agrees with the emulator's.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
