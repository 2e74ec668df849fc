"""When to ask a provider again, and the loop that does it.

`next_poll_delay` is the one place that decides. In order:

1. Terminal job: 0 (stop).
2. Not visible yet (the early 404 right after a create): short, growing waits.
3. A prediction of the remaining time, from the rate of `progress` between two observations, else
   from the expected duration of this size×seconds×variants minus the time elapsed. We then wait a
   `fraction` of what remains: sparse polls early, dense ones near the predicted end. Past the
   predicted end we poll densely, backing off the further the prediction overshot.
4. Nothing known: the seed guide's baseline, 3 s + 1 s per attempt, capped at 15 s.

A server hint (`openai-poll-after-ms`, `retry-after-ms`, `Retry-After`) is the floor: we never poll
earlier than the server asked, and with no prediction we poll exactly when it asked.
All bounds live in `PollPolicy`; `PollPolicy.scaled()` shrinks them for a time-scaled emulator.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields, replace

from sorastudio.errors import NotFound, PollTimeout, RateLimited, ServerError, TransportError
from sorastudio.providers.base import RemoteJob, StatusReader


@dataclass(frozen=True)
class PollPolicy:
    min_delay: float = 2.0
    max_delay: float = 30.0
    fraction: float = 0.5  # of the predicted remaining time
    overdue_backoff: float = 0.25  # extra seconds of delay per second past the predicted end
    fallback_base: float = 3.0  # seed baseline: 3 s + 1 s per attempt, capped at 15 s
    fallback_step: float = 1.0
    fallback_cap: float = 15.0
    max_hint: float = 120.0  # a server hint above this is capped
    not_visible_delay: float = 1.0
    not_visible_polls: int = 6  # 404s tolerated before the job was ever seen
    max_consecutive_errors: int = 5  # transient errors the retrying reads already gave up on
    max_polls: int = 10_000
    history: int = 20  # observations kept for the progress rate

    def scaled(self, factor: float) -> PollPolicy:
        """Every duration multiplied by `factor` (counts unchanged): for an emulator's time_scale."""
        counts = {"fraction", "overdue_backoff", "not_visible_polls", "max_consecutive_errors", "max_polls"}
        changes = {
            f.name: getattr(self, f.name) * factor
            for f in fields(self)
            if f.name not in counts and f.name != "history"
        }
        return replace(self, **changes)


DEFAULT_POLICY = PollPolicy()


@dataclass(frozen=True)
class Observation:
    at: float  # clock seconds (monotonic)
    progress: int | None


def expected_duration(
    width: int, height: int, seconds: int, variants: int = 1, *, pro: bool = False
) -> float:
    """A typical generation time in seconds for this size×seconds×variants.

    The guide reports 1–5 minutes depending on resolution and duration; this spreads that range over
    the work (seconds of 720p-equivalent video). A learned predictor replaces it later.
    """
    units = seconds * (width * height) / (1280 * 720) * variants
    estimate = min(300.0, max(60.0, 45.0 + 15.0 * units))
    return estimate * (1.5 if pro else 1.0)


def predict_remaining(
    history: Sequence[Observation], expected: float | None = None, elapsed: float | None = None
) -> float | None:
    """Seconds until completion, or None if nothing is known. `history[-1]` is the latest observation."""
    if history and history[-1].progress is not None:
        latest = history[-1]
        baseline = _rate_baseline(history)
        if baseline is not None and baseline.progress is not None and latest.at > baseline.at:
            rate = (latest.progress - baseline.progress) / (latest.at - baseline.at)
            if rate > 0:
                return (100 - latest.progress) / rate
        if expected is not None and elapsed is None and latest.progress > 0:
            return expected * (100 - latest.progress) / 100
    if expected is not None and elapsed is not None:
        return expected - elapsed
    return None


def _rate_baseline(history: Sequence[Observation]) -> Observation | None:
    """The observation to measure the rate from: the first one showing progress (a wide baseline
    smooths noisy reports), else the last one at 0 (work started after it)."""
    latest = history[-1]
    earlier = [o for o in history[:-1] if o.progress is not None and o.progress < (latest.progress or 0)]
    moving = [o for o in earlier if o.progress]
    if moving:
        return moving[0]
    return earlier[-1] if earlier else None


def next_poll_delay(
    attempt: int,
    job: RemoteJob | None,
    expected_duration: float | None = None,
    hint: float | None = None,
    *,
    history: Sequence[Observation] = (),
    elapsed: float | None = None,
    policy: PollPolicy = DEFAULT_POLICY,
) -> float:
    """Seconds to wait before status poll number `attempt + 1`.

    `job` is the latest status (None: not visible yet, e.g. a 404 right after create); `hint` overrides
    `job.poll_hint`; `history` are the observations so far (latest last); `elapsed` is the time since
    the job was created, in the same clock as `history`.
    """
    if job is not None and job.status.terminal:
        return 0.0
    if hint is None and job is not None:
        hint = job.poll_hint
    floor = min(max(hint, 0.0), policy.max_hint) if hint is not None else None
    if job is None:
        delay = min(policy.fallback_cap, policy.not_visible_delay * (attempt + 1))
        return max(delay, floor) if floor is not None else delay

    remaining = predict_remaining(history, expected_duration, elapsed)
    if remaining is None:
        if floor is not None:
            return floor
        return min(policy.fallback_cap, policy.fallback_base + policy.fallback_step * attempt)
    if remaining > 0:
        adaptive = _clamp(remaining * policy.fraction, policy.min_delay, policy.max_delay)
    else:
        # Past the predicted end: the prediction was wrong, so poll densely but back off with the overshoot.
        adaptive = _clamp(
            policy.min_delay + policy.overdue_backoff * -remaining, policy.min_delay, policy.fallback_cap
        )
    return max(adaptive, floor) if floor is not None else adaptive


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


OnUpdate = Callable[[RemoteJob], Awaitable[None] | None]


async def wait(
    provider: StatusReader,
    remote_id: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_update: OnUpdate | None = None,
    # A deadline on the injected clock, not asyncio.timeout: tests and time-scaled runs use fake time.
    timeout: float | None = None,  # noqa: ASYNC109
    expected_duration: float | None = None,
    policy: PollPolicy = DEFAULT_POLICY,
) -> RemoteJob:
    """Poll `remote_id` until it is terminal and return it (a failed job is returned, not raised).

    `expected_duration` is counted from the start of this call (the engine calls it right after submit).

    `on_update` (sync or async) sees each change of status or progress. Transient errors that the
    provider's own retries gave up on are waited out up to `policy.max_consecutive_errors` times.
    Raises `PollTimeout` after `timeout` seconds of `clock`, `NotFound` if the job never appears.
    """
    start = clock()
    history: list[Observation] = []
    last: RemoteJob | None = None
    not_found = errors = 0
    for attempt in range(policy.max_polls):
        job: RemoteJob | None = None
        hint: float | None = None
        try:
            job = await provider.status(remote_id)
            errors = 0
        except NotFound:
            not_found += 1
            if last is not None or not_found > policy.not_visible_polls:
                raise
        except (RateLimited, ServerError, TransportError) as exc:
            errors += 1
            if errors > policy.max_consecutive_errors:
                raise
            hint = getattr(exc, "retry_after", None) or policy.fallback_cap
        now = clock()
        if job is not None:
            if on_update is not None and (
                last is None or (job.status, job.progress) != (last.status, last.progress)
            ):
                result = on_update(job)
                if inspect.isawaitable(result):
                    await result
            last = job
            if job.status.terminal:
                return job
            history = [*history[-(policy.history - 1) :], Observation(now, job.progress)]
        if errors and job is None:
            delay = hint or policy.fallback_cap
        elif job is None:
            delay = next_poll_delay(not_found - 1, None, policy=policy)
        else:
            delay = next_poll_delay(
                attempt, job, expected_duration, history=history, elapsed=now - start, policy=policy
            )
        if timeout is not None:
            left = timeout - (now - start)
            if left <= 0:
                raise PollTimeout(
                    f"job {remote_id} did not finish within {timeout:g} s (last status: "
                    f"{last.raw_status if last else 'not seen yet'}); it keeps running remotely",
                    job_id=remote_id,
                    last_status=last.raw_status if last else None,
                )
            delay = min(delay, left)
        await sleep(delay)
    raise PollTimeout(
        f"job {remote_id} was polled {policy.max_polls} times without finishing",
        job_id=remote_id,
        last_status=last.raw_status if last else None,
    )


__all__ = [
    "DEFAULT_POLICY",
    "Observation",
    "OnUpdate",
    "PollPolicy",
    "expected_duration",
    "next_poll_delay",
    "predict_remaining",
    "wait",
]
