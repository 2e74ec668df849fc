"""A request budget per resource: at most `limit` requests in any sliding window of `window` seconds.

The provider's quota (Azure's default for Sora: 60 requests a minute) counts every request, and a
worker with many jobs in flight would exceed it if each job polled on its own schedule. Every request
the engine sends to a resource — status reads, list reads (one per page), creates, reconciliation
lists — first takes a token here; a request that does not fit waits until the oldest one leaves the
window. Content downloads (a few per finished job) are not counted.

Exactness: a sliding log (one timestamp per request), so no window of `window` seconds ever holds more
than `limit` tokens — not just fixed minutes. Tokens are taken before the request is sent and the server
counts when it arrives, so a token expires only after `window × (1 + guard)`: requests that happen to
travel at different speeds cannot squeeze `limit + 1` into the server's window.

Pacing: a whole window's worth at once would leave nothing for the rest of the minute (and polls that
come due then would wait up to a minute). So tokens also come from a bucket that holds `burst × limit`
and refills at `(1 − burst) × limit` per window: bursts stay short, and under sustained load requests
are spread evenly — which lets the poller fold every job that comes due meanwhile into one list read.
(`burst=None`: no pacing, the sliding window alone.)

Scope: in-process, per worker. Several workers on one resource each enforce the whole budget unless
each is given a share (`WorkerSettings.request_share`, e.g. 0.5 for two workers): the split is static
and documented rather than coordinated through the database.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable

from sorastudio.errors import ValidationError

_SLACK = 1e-6  # seconds: below a clock's resolution near today's unix time (~2e-7 s)


class RequestBudget:
    """Sliding-window budgets keyed by resource; `time` and `sleep` are the engine clock's."""

    def __init__(
        self,
        *,
        time: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        window: float = 60.0,
        guard: float = 0.01,
        burst: float | None = 0.25,
    ) -> None:
        if window <= 0:
            raise ValidationError(
                f"window={window!r} is not allowed: a positive number of seconds", field="window"
            )
        self._time = time
        self._sleep = sleep
        self.window = window * (1 + guard)
        self.burst = burst
        self._limits: dict[Hashable, int] = {}
        self._log: dict[Hashable, deque[float]] = {}
        self._bucket: dict[Hashable, tuple[float, float]] = {}  # (tokens, when) per resource
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self.taken: Counter[Hashable] = Counter()  # tokens ever taken, per resource (tests, benches)
        self.waited: float = 0.0  # seconds spent waiting for tokens, all resources

    def set_limit(self, key: Hashable, limit: int) -> None:
        """`limit` requests per window for `key`; 0 = unlimited."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValidationError(
                f"requests per minute={limit!r} is not allowed: a whole number, 0 for unlimited",
                field="requests_per_minute",
                value=limit,
            )
        self._limits[key] = limit

    def limit(self, key: Hashable) -> int:
        return self._limits.get(key, 0)

    def _expire(self, key: Hashable, now: float) -> deque[float]:
        log = self._log.setdefault(key, deque())
        while log and log[0] <= now - self.window + _SLACK:
            log.popleft()
        return log

    def used(self, key: Hashable) -> int:
        """Tokens taken within the current window."""
        return len(self._expire(key, self._time()))

    def _level(self, key: Hashable, now: float) -> tuple[float, float, float]:
        """(tokens in the bucket now, its capacity, its refill rate per second)."""
        limit = self.limit(key)
        # A full bucket plus a window's refill is exactly `limit`: the pacing alone keeps the window.
        capacity = max(1.0, (self.burst or 1.0) * limit)
        rate = max(limit - capacity, 1.0) / self.window
        tokens, when = self._bucket.get(key, (capacity, now))
        return min(capacity, tokens + (now - when) * rate), capacity, rate

    def wait_for(self, key: Hashable, count: int = 1) -> float:
        """Seconds until `count` more requests fit (0: now)."""
        limit = self.limit(key)
        if not limit:
            return 0.0
        now = self._time()
        log = self._expire(key, now)
        count = min(count, limit)  # more than a whole window can never fit: take the whole window
        excess = len(log) + count - limit
        window_wait = max(0.0, log[excess - 1] + self.window - now) if excess > 0 else 0.0
        if self.burst is None:
            return window_wait if window_wait > _SLACK else 0.0
        tokens, capacity, rate = self._level(key, now)
        bucket_wait = max(0.0, (min(count, capacity) - tokens) / rate)
        wait = max(window_wait, bucket_wait)
        return wait if wait > _SLACK else 0.0  # float dust must not make a waiter sleep for nothing

    def take(self, key: Hashable, count: int = 1) -> bool:
        """Take `count` tokens if they fit now; never waits."""
        if self.wait_for(key, count) > 0:
            return False
        self._record(key, count)
        return True

    def _record(self, key: Hashable, count: int) -> None:
        if self.limit(key):
            count = min(count, self.limit(key))
            now = self._time()
            self._expire(key, now).extend([now] * count)
            if self.burst is not None:
                tokens, capacity, _ = self._level(key, now)
                self._bucket[key] = (tokens - min(count, capacity), now)
        self.taken[key] += count

    async def acquire(self, key: Hashable, count: int = 1) -> float:
        """Wait until `count` requests fit, take them, and return the seconds waited. Waiters are
        served in arrival order (asyncio locks are fair)."""
        started = self._time()
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            for _ in range(100_000):  # bounded; each turn waits for the oldest token to leave
                wait = self.wait_for(key, count)
                if wait <= 0:
                    self._record(key, count)
                    break
                await self._sleep(wait)
        waited = self._time() - started
        self.waited += waited
        return waited


def max_in_window(times: list[float], window: float) -> int:
    """The most timestamps any window of `window` seconds (closed at both ends) contains."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(ordered):
        while t - ordered[first] > window:
            first += 1
        best = max(best, last - first + 1)
    return best


def pages_for(count: int, page: int = 100) -> int:
    return max(1, math.ceil(count / page))


__all__ = ["RequestBudget", "max_in_window", "pages_for"]
