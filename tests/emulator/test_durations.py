"""Planned job durations (issue 3): 1–5 minutes by default, growing with seconds × pixels × variants,
scaled by `time_scale`; and the default Azure limits of the `sora-2` deployment."""

from __future__ import annotations

import random

import pytest

from sorastudio.emulator.clock import ManualClock
from sorastudio.emulator.config import Deployment, EmulatorConfig, Timing
from sorastudio.emulator.jobs import JobStore, Phase
from sorastudio.emulator.sora1_wire import SIZES as SORA1_SIZES
from sorastudio.emulator.sora1_wire import max_variants
from sorastudio.emulator.videos_wire import SECONDS
from sorastudio.emulator.videos_wire import SIZES as VIDEOS_SIZES

T0 = 1_760_000_000.0
Case = tuple[str, int, int, int, int]  # model, width, height, seconds, variants


def cases() -> list[Case]:
    """Every size the services accept, with short and long clips and each allowed variant count."""
    out: list[Case] = []
    for width, height in SORA1_SIZES:
        for seconds in (1, 5, 10, 20):
            for variants in range(1, max_variants(width, height) + 1):
                out.append(("sora", width, height, seconds, variants))
    for model, sizes in VIDEOS_SIZES.items():
        for size in sizes:
            width, height = (int(v) for v in size.split("x"))
            for seconds in SECONDS:
                out.append((model, width, height, int(seconds), 1))
    return out


def units(case: Case) -> float:
    _, width, height, seconds, variants = case
    return seconds * width * height * variants


class ExtremeJitter(random.Random):
    """Draws the jitter at one end of its range, so the test sees the worst case, not a lucky one."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


def store_for(config: EmulatorConfig) -> JobStore:
    return JobStore(config, ManualClock(T0))


def deployment(model: str) -> Deployment:
    return Deployment(name=model, model=model)


@pytest.mark.parametrize("high", [False, True], ids=["jitter-low", "jitter-high"])
def test_default_durations_stay_within_one_to_five_minutes(high: bool) -> None:
    store = store_for(EmulatorConfig(seed=1))
    store._rng = ExtremeJitter(high)
    outside = []
    for case in cases():
        model, width, height, seconds, variants = case
        duration = store.plan_duration(deployment(model), width, height, seconds, variants)
        if not 60.0 <= duration <= 300.0:
            outside.append((case, round(duration, 1)))
    assert outside == []


def test_default_durations_with_random_jitter_stay_within_range() -> None:
    store = store_for(EmulatorConfig(seed=7))
    durations = [
        store.plan_duration(deployment(model), width, height, seconds, variants)
        for _ in range(5)
        for model, width, height, seconds, variants in cases()
    ]
    assert min(durations) >= 60.0 and max(durations) <= 300.0
    # The range is used, not collapsed onto one end.
    assert min(durations) < 70.0 and max(durations) == 300.0


@pytest.mark.parametrize("model", ["sora", "sora-2", "sora-2-pro"])
def test_without_jitter_duration_never_shrinks_as_the_work_grows(model: str) -> None:
    store = store_for(EmulatorConfig(timing=Timing(jitter=0)))
    ordered = sorted((c for c in cases() if c[0] == model), key=units)
    durations = [store.plan_duration(deployment(model), *case[1:]) for case in ordered]
    assert durations == sorted(durations)
    assert durations[0] < durations[-1], "longer, larger clips take longer"


def test_time_scale_multiplies_the_planned_duration() -> None:
    real = store_for(EmulatorConfig(time_scale=1.0, timing=Timing(jitter=0)))
    fast = store_for(EmulatorConfig(time_scale=0.01, timing=Timing(jitter=0)))
    for model, width, height, seconds, variants in cases():
        full = real.plan_duration(deployment(model), width, height, seconds, variants)
        scaled = fast.plan_duration(deployment(model), width, height, seconds, variants)
        assert scaled == pytest.approx(0.01 * full)


def test_a_two_minute_job_at_scale_0_01_finishes_after_1_2_real_seconds() -> None:
    clock = ManualClock(T0)
    config = EmulatorConfig(time_scale=0.01, timing=Timing(jitter=0))
    store = JobStore(config, clock)
    sora = config.deployment("sora")
    assert sora is not None
    # 45 + 15 × 5 units (5 s at 1280x720) = 120 emulated seconds.
    job = store.create("sora1", sora, "a kite over a beach", 1280, 720, 5)
    assert job.duration == pytest.approx(1.2)
    assert not job.phase(T0 + 1.1).terminal
    assert job.phase(T0 + 1.21) is Phase.SUCCEEDED


def test_default_sora_2_deployment_allows_two_creates_per_minute_and_two_running_jobs() -> None:
    sora2 = EmulatorConfig().deployment("sora-2")
    assert sora2 is not None
    assert (sora2.model, sora2.creates_per_minute, sora2.running_cap) == ("sora-2", 2, 2)
