"""Limits acceptance: 8 jobs on a 2-slot resource never make a third running job, 429s stay transient,
and with 2 creates a minute there is never a third create within 60 s (all time-scaled).

The first test turns the emulator's own limits off, so only sorastudio's engine keeps them: the
emulator would otherwise refuse the third job and hide a scheduler that overbooks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from sorastudio.domain import Status
from sorastudio.emulator.config import Deployment
from sorastudio.engine.clock import SystemClock
from sorastudio.studio import AsyncStudio
from tests.engine.conftest import FAST_SETTINGS, EmulatorRun, add_sora1_profile

pytestmark = pytest.mark.anyio
SCALE = 0.02
WINDOW = 60 * SCALE  # the provider's create-rate window in real seconds
JOBS = 8


class RunningSampler:
    """Samples the emulator's count of non-terminal jobs every few milliseconds, in a thread."""

    def __init__(self, run: EmulatorRun) -> None:
        self.run = run
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.run.running())
            self._stop.wait(0.003)

    def __enter__(self) -> RunningSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)


async def _run_all(run: EmulatorRun) -> AsyncStudio:
    studio = AsyncStudio(emulator_url=run.url, clock=SystemClock(SCALE), worker_settings=FAST_SETTINGS)
    add_sora1_profile(studio.store, run.url, running_cap=2, creates_per_minute=2)
    handles = [
        await studio.generate(f"job {n}", size="480x480", seconds=1, profile="sora1") for n in range(JOBS)
    ]
    stop = asyncio.Event()
    worker = asyncio.create_task(studio.run_worker(stop))

    try:
        for _ in range(1200):  # at most 60 s
            if all(h.status.terminal for h in handles):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker
    assert [h.status for h in handles] == [Status.COMPLETED] * JOBS
    return studio


def _create_times(run: EmulatorRun) -> list[float]:
    return sorted(job.created_at for job in run.jobs)


async def test_the_engine_alone_keeps_two_running_and_two_creates_a_minute(
    start_emulator: Callable[..., EmulatorRun],
) -> None:
    unlimited = Deployment(name="sora", model="sora", running_cap=0, creates_per_minute=0)
    run = start_emulator(time_scale=SCALE, deployments=[unlimited])
    with RunningSampler(run) as sampler:
        await _run_all(run)
    assert max(sampler.samples) == 2  # both slots used, never a third
    assert len(sampler.samples) > 100
    times = _create_times(run)
    assert len(times) == JOBS == run.create_count
    gaps = [later - earlier for earlier, later in zip(times, times[2:], strict=False)]
    assert min(gaps) >= WINDOW, gaps  # any three creates span at least the window


async def test_against_the_emulators_limits_429s_stay_transient(
    start_emulator: Callable[..., EmulatorRun],
) -> None:
    run = start_emulator(time_scale=SCALE, sora_creates_per_minute=2)
    with RunningSampler(run) as sampler:
        await _run_all(run)
    assert max(sampler.samples) <= 2
    assert run.create_count == JOBS
    rejected = run.responses("POST", "collection", 429)
    assert rejected <= 2, f"{rejected} creates were refused with 429"
    assert run.responses("POST", "collection", 200) + run.responses("POST", "collection", 201) == JOBS
