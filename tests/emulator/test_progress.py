"""The emulator's `progress`: 0 while queued, rising with time, 99 at most until done, 100 when done;
optional curve and noise (`Timing.progress_curve`, `Timing.progress_noise`), at any time scale."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from sorastudio.emulator.clock import ManualClock
from sorastudio.emulator.config import EmulatorConfig, Timing
from sorastudio.emulator.jobs import Job, JobStore, Phase
from tests.emulator.test_videos_api import emulator, stub_render  # noqa: F401 - fixture

T0 = 1_760_000_000.0


def make_job(scale: float = 1.0, **timing: float) -> tuple[Job, JobStore]:
    config = EmulatorConfig(time_scale=scale, timing=Timing(**timing))
    store = JobStore(config, ManualClock(T0))
    deployment = config.openai_model("sora-2")
    assert deployment is not None
    return store.create("openai_videos", deployment, "a kite", 1280, 720, 8), store


def samples(job: Job, count: int = 400) -> list[tuple[float, int, Phase]]:
    """(seconds since creation, progress, phase) at `count` evenly spaced moments of the job."""
    step = job.duration / count
    return [(i * step, job.progress(T0 + i * step), job.phase(T0 + i * step)) for i in range(count)]


def test_progress_is_zero_while_queued_rises_with_time_and_is_100_when_done() -> None:
    job, _ = make_job()
    series = samples(job)
    queued = [p for _, p, phase in series if phase is Phase.QUEUED]
    running = [p for _, p, phase in series if phase is not Phase.QUEUED]
    assert queued and set(queued) == {0}
    assert running == sorted(running)  # never goes back without noise
    assert running[-1] == 99 and max(running) == 99  # not 100 before the job is done
    assert running[len(running) // 2] in range(45, 56)  # linear by default: half way, half done
    assert job.progress(T0 + job.duration + 1e-3) == 100 and job.phase(T0 + job.duration) is not Phase.QUEUED
    assert job.phase(T0 + job.duration + 1e-3) is Phase.SUCCEEDED


def test_a_linear_job_reports_the_floor_of_its_elapsed_share() -> None:
    job, _ = make_job()
    start = job.boundaries[0]
    for share in (0.015, 0.255, 0.505, 0.775, 0.995):  # mid-tick: clear of float rounding
        at = T0 + start + share * (job.duration - start)
        assert job.progress(at) == int(100 * share)


@pytest.mark.parametrize(("curve", "low", "high"), [(2.0, 20, 30), (0.5, 65, 75)])
def test_the_curve_bends_progress_but_keeps_its_ends(curve: float, low: int, high: int) -> None:
    job, _ = make_job(progress_curve=curve)
    start = job.boundaries[0]
    middle = T0 + start + 0.5 * (job.duration - start)
    assert low <= job.progress(middle) <= high  # 100 × 0.5^curve
    running = [p for _, p, phase in samples(job) if phase is not Phase.QUEUED]
    assert running == sorted(running)
    assert job.progress(T0 + start) == 0 and job.progress(T0 + job.duration + 1e-3) == 100


@pytest.mark.parametrize("scale", [1.0, 0.01])
def test_noise_stays_under_the_truth_and_changes_once_per_emulated_second(scale: float) -> None:
    noisy, store = make_job(scale, progress_noise=4.0)
    clean = replace(noisy, progress_noise=0.0)
    second = store.config.scaled(1.0)  # one emulated second, in real seconds
    start = noisy.boundaries[0]
    below = []
    for i in range(1, int((noisy.duration - start) / second) - 1):
        at = T0 + start + (i + 0.5) * second
        value, truth = noisy.progress(at), clean.progress(at)
        assert truth - 5 <= value <= truth  # at most `noise` (+1 for the floor) below, never above
        below.append(truth - value)
    # A fresh draw every emulated second: it wobbles all over its range, also at 100x speed.
    assert set(below) == {0, 1, 2, 3, 4}
    dips = sum(1 for a, b in itertools.pairwise(below) if b > a)
    assert dips > len(below) // 4  # a report often falls below the previous one ("monotone-ish")
    assert noisy.progress(T0 + noisy.duration + 1e-3) == 100 and noisy.progress(T0) == 0


@pytest.mark.anyio
async def test_the_videos_api_reports_rising_progress() -> None:
    async with emulator() as emu:
        video = await emu.created()
        assert (video["status"], video["progress"]) == ("queued", 0)
        job = emu.state.store.get(video["id"], "openai_videos")
        assert job is not None
        seen = []
        for share in (0.05, 0.3, 0.6, 0.9):
            emu.clock.advance(job.created_at + share * job.duration - emu.clock.now())
            body = await emu.video(video["id"])
            seen.append((body["status"], body["progress"]))
        assert seen[0] == ("queued", 0)
        assert [s for s, _ in seen[1:]] == ["in_progress"] * 3
        progress = [p for _, p in seen[1:]]
        assert progress == sorted(progress) and 0 < progress[0] < progress[-1] <= 99
        done = await emu.finish(video["id"])
        assert (done["status"], done["progress"]) == ("completed", 100)
