"""Time for the engine: wall clock, sleep and the time scale, injected together.

The engine never calls `time.time()` or `asyncio.sleep()` directly (style habit 9): a `Clock` gives both,
so tests can run against a time-scaled emulator and a fake clock. `time_scale` says how many real
seconds one provider second takes (1.0 for a real cloud, 0.01 for an emulator run 100x faster); every
span the engine derives from provider behaviour (the create-rate window, expected job durations, poll
delays) is multiplied by it. Spans that measure our own processes (claim leases) are not.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from typing import Protocol

from sorastudio.errors import ValidationError

TIME_SCALE_ENV = "SORASTUDIO_TIME_SCALE"


class Clock(Protocol):
    time_scale: float

    def time(self) -> float:
        """Unix seconds."""
        ...

    def now(self) -> datetime:
        """Aware UTC datetime of `time()`."""
        ...

    async def sleep(self, seconds: float) -> None: ...


def check_time_scale(value: object) -> float:
    try:
        scale = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        scale = float("nan")
    if not (0 < scale <= 1000):
        raise ValidationError(
            f"time_scale={value!r} is not allowed: a positive number (1 = real time, 0.01 = 100x faster)",
            field="time_scale",
            value=value,
        )
    return scale


def default_time_scale() -> float:
    """`SORASTUDIO_TIME_SCALE` if set (for a time-scaled emulator), else 1."""
    raw = os.environ.get(TIME_SCALE_ENV)
    return check_time_scale(raw) if raw else 1.0


class SystemClock:
    """Real time. `time_scale` only describes the provider (see the module docstring)."""

    def __init__(self, time_scale: float | None = None) -> None:
        self.time_scale = default_time_scale() if time_scale is None else check_time_scale(time_scale)

    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


__all__ = ["TIME_SCALE_ENV", "Clock", "SystemClock", "check_time_scale", "default_time_scale"]
