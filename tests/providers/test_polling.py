"""providers/polling.py: the delay rule (hints, prediction, fallback) and the wait loop."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from sorastudio.domain import Status
from sorastudio.errors import NotFound, PollTimeout, RateLimited
from sorastudio.providers.base import RemoteJob
from sorastudio.providers.polling import (
    Observation,
    PollPolicy,
    expected_duration,
    next_poll_delay,
    predict_remaining,
    wait,
)

RUNNING = RemoteJob(id="v", status=Status.RUNNING, raw_status="in_progress", progress=10)
QUEUED = RemoteJob(id="v", status=Status.QUEUED, raw_status="queued", progress=0)
DONE = RemoteJob(id="v", status=Status.COMPLETED, raw_status="completed", progress=100)


def job(progress: int | None, status: Status = Status.RUNNING, hint: float | None = None) -> RemoteJob:
    return RemoteJob(id="v", status=status, raw_status=status.value, progress=progress, poll_hint=hint)


def test_a_terminal_job_is_not_polled_again() -> None:
    assert next_poll_delay(3, DONE) == 0.0


def test_without_any_knowledge_the_seed_baseline_applies() -> None:
    delays = [next_poll_delay(n, QUEUED) for n in range(15)]
    assert delays[:4] == [3.0, 4.0, 5.0, 6.0]
    assert max(delays) == 15.0 and delays[-1] == 15.0


def test_a_server_hint_is_used_when_nothing_is_predicted() -> None:
    assert next_poll_delay(0, job(0, hint=2.5)) == 2.5
    assert next_poll_delay(0, job(0, hint=2.5), hint=7.0) == 7.0  # an explicit hint wins
    assert next_poll_delay(0, job(0), hint=1000.0) == PollPolicy().max_hint  # absurd hints are capped


def test_a_server_hint_is_a_floor_under_the_prediction() -> None:
    # 2 s predicted to go → we would poll at the minimum, but the server asked for 5 s.
    assert next_poll_delay(5, job(50), 120.0, hint=5.0, elapsed=118.0) == 5.0


def test_expected_duration_polls_sparsely_early_and_densely_near_the_end() -> None:
    policy = PollPolicy(min_delay=2.0, max_delay=30.0, fraction=0.5)
    early = next_poll_delay(0, QUEUED, 120.0, elapsed=10.0, policy=policy)
    middle = next_poll_delay(3, RUNNING, 120.0, elapsed=100.0, policy=policy)
    late = next_poll_delay(4, RUNNING, 120.0, elapsed=119.0, policy=policy)
    assert (early, middle, late) == (30.0, 10.0, 2.0)


def test_past_the_predicted_end_polling_backs_off_with_the_overshoot() -> None:
    policy = PollPolicy(min_delay=2.0, overdue_backoff=0.25, fallback_cap=15.0)
    assert next_poll_delay(9, RUNNING, 60.0, elapsed=64.0, policy=policy) == 3.0
    assert next_poll_delay(9, RUNNING, 60.0, elapsed=600.0, policy=policy) == 15.0


def test_the_progress_rate_predicts_the_end() -> None:
    history = [Observation(0.0, 0), Observation(10.0, 10), Observation(20.0, 20)]
    # From the first moving observation: 10 points in 10 s → 80 s to go.
    assert predict_remaining(history) == pytest.approx(80.0)
    assert predict_remaining([*history, Observation(30.0, 90)]) == pytest.approx(10 / (80 / 20))
    # A single observation has no rate; the expected duration is the fallback.
    assert predict_remaining([Observation(5.0, 0)], 120.0, 5.0) == 115.0
    assert predict_remaining([Observation(5.0, 0)]) is None
    # Progress that stalls gives no rate.
    assert predict_remaining([Observation(0.0, 40), Observation(9.0, 40)], 100.0, 9.0) == 91.0


def test_an_early_404_gets_short_growing_waits() -> None:
    delays = [next_poll_delay(n, None) for n in range(3)]
    assert delays == [1.0, 2.0, 3.0]


def test_expected_duration_grows_with_the_work() -> None:
    small = expected_duration(480, 480, 1)
    large = expected_duration(1920, 1080, 20)
    assert small == 60.0 and large == 300.0
    assert expected_duration(1280, 720, 8) < expected_duration(1280, 720, 8, pro=True)


def simulate(duration: float, delay_for: str) -> tuple[int, float]:
    """Polls needed to see a linearly progressing job of `duration` s finish, and how late we saw it."""
    now, attempt, history = 0.0, 0, []
    while True:
        progress = min(100, int(100 * now / duration))
        status = Status.COMPLETED if now >= duration else Status.RUNNING
        history.append(Observation(now, progress))
        current = job(progress, status)
        if status is Status.COMPLETED:
            return attempt + 1, now - duration
        if delay_for == "baseline":
            delay = min(15.0, 3.0 + attempt)
        else:
            delay = next_poll_delay(
                attempt, current, expected_duration(1280, 720, 8), history=history, elapsed=now
            )
        now += delay
        attempt += 1


@pytest.mark.parametrize("duration", [70.0, 120.0, 200.0, 290.0])
def test_adaptive_polling_beats_the_seed_baseline(duration: float) -> None:
    base_polls, base_late = simulate(duration, "baseline")
    polls, late = simulate(duration, "adaptive")
    assert polls < base_polls
    assert late <= max(base_late, PollPolicy().min_delay)


def test_policies_scale_for_time_scaled_emulators() -> None:
    fast = PollPolicy().scaled(0.01)
    assert fast.min_delay == pytest.approx(0.02) and fast.fallback_cap == pytest.approx(0.15)
    assert fast.not_visible_polls == PollPolicy().not_visible_polls


# -- wait -------------------------------------------------------------------------------------------------


class Scripted:
    """A provider whose `status` answers from a script (a RemoteJob, or an exception to raise)."""

    def __init__(self, script: Iterable[RemoteJob | Exception]) -> None:
        self.script = list(script)
        self.calls = 0

    async def status(self, remote_id: str) -> RemoteJob:
        self.calls += 1
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        return item


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def not_found() -> NotFound:
    return NotFound("Video 'v' not found", status_code=404)


@pytest.mark.anyio
async def test_wait_tolerates_the_early_404_and_reports_each_change() -> None:
    provider = Scripted([not_found(), not_found(), QUEUED, QUEUED, job(40), job(80), DONE])
    time = FakeTime()
    seen: list[tuple[str, int | None]] = []

    async def on_update(j: RemoteJob) -> None:
        seen.append((j.raw_status, j.progress))

    final = await wait(provider, "v", sleep=time.sleep, clock=time.clock, on_update=on_update)
    assert final.status is Status.COMPLETED
    assert seen == [("queued", 0), ("running", 40), ("running", 80), ("completed", 100)]
    assert time.sleeps[:2] == [1.0, 2.0]  # the not-visible-yet waits
    assert provider.calls == 7


@pytest.mark.anyio
async def test_wait_gives_up_on_a_job_that_never_appears() -> None:
    provider = Scripted([not_found()])
    time = FakeTime()
    with pytest.raises(NotFound):
        await wait(provider, "v", sleep=time.sleep, clock=time.clock, policy=PollPolicy(not_visible_polls=3))
    assert provider.calls == 4


@pytest.mark.anyio
async def test_a_404_after_the_job_was_seen_is_an_error() -> None:
    provider = Scripted([QUEUED, not_found()])
    time = FakeTime()
    with pytest.raises(NotFound):
        await wait(provider, "v", sleep=time.sleep, clock=time.clock)
    assert provider.calls == 2


@pytest.mark.anyio
async def test_wait_waits_out_a_rate_limit_for_as_long_as_asked() -> None:
    provider = Scripted([QUEUED, RateLimited("slow down", retry_after=7.0), DONE])
    time = FakeTime()
    final = await wait(provider, "v", sleep=time.sleep, clock=time.clock)
    assert final is DONE
    assert time.sleeps[1] == 7.0


@pytest.mark.anyio
async def test_wait_times_out_on_its_clock_with_the_last_status() -> None:
    provider = Scripted([job(10)])
    time = FakeTime()
    with pytest.raises(PollTimeout) as caught:
        await wait(provider, "v", sleep=time.sleep, clock=time.clock, timeout=50.0)
    assert caught.value.last_status == "running"
    assert time.now == pytest.approx(50.0)  # the last sleep was shortened to the deadline
    assert provider.calls >= 2


@pytest.mark.anyio
async def test_wait_honours_the_server_hint() -> None:
    provider = Scripted([job(0, Status.QUEUED, hint=4.0), job(0, Status.QUEUED, hint=4.0), DONE])
    time = FakeTime()
    await wait(provider, "v", sleep=time.sleep, clock=time.clock)
    assert time.sleeps == [4.0, 4.0]
