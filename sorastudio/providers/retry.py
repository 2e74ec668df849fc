"""Bounded retries for idempotent reads, honouring the server's Retry-After.

Only reads come here (status, list, content, delete): a create is never retried (see `http.py`).
Sleeping goes through the injected `sleep`, so tests and time-scaled runs never wait for real.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sorastudio.errors import ContentError, ProviderError, RateLimited, ServerError, TransportError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries for reads. `attempts` counts every try (4 = 1 + 3 retries).

    A server-requested wait longer than `max_retry_after` is not slept here: the error goes to the
    caller (the scheduler can park the job instead of holding a coroutine for minutes).
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0
    jitter: float = 0.25

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds before retry number `retry` (1-based), or None to give up."""
        if retry >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        backoff = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return backoff * (1 - self.jitter * rng.random())


class TruncatedContent(ContentError):
    """A download ended before `Content-Length` bytes arrived; worth another try, unlike a wrong body."""


def is_transient(exc: BaseException) -> bool:
    """Worth retrying a read: rate limits, server errors, transport failures, truncated downloads."""
    return isinstance(exc, RateLimited | ServerError | TransportError | TruncatedContent)


async def retrying(
    operation: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    sleep: Sleep,
    rng: random.Random,
    what: str,
) -> T:
    """Run a read, retrying transient failures per `policy`; the last error propagates unchanged."""
    for retry in range(1, max(1, policy.attempts) + 1):
        try:
            return await operation()
        except ProviderError as exc:
            wait = policy.delay(retry, getattr(exc, "retry_after", None), rng) if is_transient(exc) else None
            if wait is None:
                raise
            log.info("%s: %s; retry %d in %.2fs", what, type(exc).__name__, retry, wait)
            await sleep(wait)
    raise AssertionError("unreachable: the last attempt either returns or raises")


__all__ = ["RetryPolicy", "Sleep", "TruncatedContent", "is_transient", "retrying"]
