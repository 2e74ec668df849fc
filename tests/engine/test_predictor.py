"""engine/predictor.py: end intervals from progress, learned durations, hints and the fallback bound.

Jobs are simulated as pure functions of time (like the emulator's): queued for a while, then progress
rises (linear, curved, noisy or stalled) and the job completes when it reaches 100.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import pytest

from sorastudio.engine.predictor import (
    DEFAULT_PREDICTOR_POLICY,
    DurationBook,
    JobTrack,
    PredictorPolicy,
    Prior,
    estimate_end,
    progress_interval,
)
from sorastudio.engine.progress_fit import fit_lines
from sorastudio.providers.polling import Observation, expected_duration

POLICY = DEFAULT_PREDICTOR_POLICY
KEY = ("https://res.openai.azure.com", "sora-2", 1280, 720, 8, 1)


@dataclass(frozen=True)
class SimJob:
    """Queued until `start`, then x(t) rises; done when x reaches 100 at `end`."""

    start: float
    end: float
    curve: float = 1.0
    noise: float = 0.0
    stall: tuple[float, float] | None = None  # progress frozen over (from, to): the end moves later

    def fraction(self, t: float) -> float:
        if self.stall is not None and t > self.stall[0]:
            t = self.stall[0] if t < self.stall[1] else t - (self.stall[1] - self.stall[0])
        return min(1.0, max(0.0, (t - self.start) / (self.end - self.start)))

    @property
    def done_at(self) -> float:
        return self.end + (self.stall[1] - self.stall[0] if self.stall else 0.0)

    def progress(self, t: float) -> int | None:
        """None once done (the caller sees "completed")."""
        if t >= self.done_at:
            return None
        value = 100 * self.fraction(t) ** self.curve
        if self.noise:
            value -= self.noise * random.Random(f"{self.end}:{int(t)}").random()
        return max(0, min(99, int(value)))


@dataclass(frozen=True)
class Run:
    polls: int  # status reads, the one that saw it done included
    delay: float  # seconds from the end to the read that saw it
    gaps: list[float]
    times: list[float]


def simulate(
    job: SimJob, prior: Prior | None, policy: PredictorPolicy = POLICY, hint: float | None = None
) -> Run:
    track = JobTrack(submitted=0.0, prior=prior)
    track.observe(0.0, 0)  # the create answer
    now, times = 0.0, []
    at = track.plan(now, hint, policy)
    for _ in range(500):
        times.append(at)
        progress = job.progress(at)
        if progress is None:
            gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
            return Run(len(times), at - job.done_at, gaps, times)
        track.observe(at, progress)
        now, at = at, track.plan(at, hint, policy)
        assert at >= now
    raise AssertionError("never detected")


def linear_observations(job: SimJob, times: list[float]) -> list[Observation]:
    return [Observation(t, job.progress(t)) for t in times]


# -- progress ------------------------------------------------------------------------------------------


def test_the_end_interval_of_linear_progress_always_holds_the_true_end() -> None:
    rng = random.Random(3)
    for _ in range(200):
        end = rng.uniform(30, 300)
        job = SimJob(start=0.1 * end, end=end)
        times = sorted(rng.uniform(0.15 * end, 0.97 * end) for _ in range(rng.randint(2, 5)))
        estimate = progress_interval(linear_observations(job, [0.0, *times]))
        assert estimate is not None and estimate.steady
        assert estimate.early - 1e-6 <= end <= estimate.late + 1e-6


def test_the_predictor_converges_on_steady_progress() -> None:
    job = SimJob(start=20.0, end=200.0)  # 1 point every 1.8 s once running
    observations = linear_observations(job, [0.0, 65.0])
    one = progress_interval(observations)
    assert one is not None and one.late >= 200.0  # one moving observation: an upper bound only
    two = progress_interval(linear_observations(job, [0.0, 65.0, 110.0]))
    three = progress_interval(linear_observations(job, [0.0, 65.0, 110.0, 170.0]))
    assert two is not None and three is not None
    assert abs(two.best - 200.0) / 200.0 < 0.03  # within a few % after two moving observations
    assert abs(three.best - 200.0) / 200.0 < 0.01
    assert three.late - three.early < two.late - two.early < 15.0  # and it keeps narrowing
    # Planned polls close in on the end: detected right after it, in few requests.
    run = simulate(job, Prior(190.0, 20.0, 10))
    assert run.polls <= 5 and 0 <= run.delay <= POLICY.precision + POLICY.margin


@pytest.mark.parametrize("seed", range(6))
def test_mixed_durations_are_detected_promptly_and_frugally(seed: int) -> None:
    rng, book = random.Random(seed), DurationBook()
    runs, seed_reads = [], 0
    for _ in range(40):
        seconds, base = rng.choice([(4, 45.0), (8, 137.0), (12, 230.0)])  # as in bench/polling.py
        end = base * rng.uniform(0.67, 1.33)
        key = (*KEY[:4], seconds, 1)
        runs.append(simulate(SimJob(0.1 * end, end), book.prior(key)))
        seed_reads += _seed_rule_reads(end)
        book.add(key, end)
    # One job at a time and from a cold start (no list reads sharing observations, unlike the engine).
    polls = sum(r.polls for r in runs) / len(runs)
    assert polls <= 5.5 and polls < seed_reads / len(runs) / 2
    assert sum(r.delay for r in runs) / len(runs) <= 0.5
    assert max(r.delay for r in runs) <= 2.5


def _seed_rule_reads(end: float) -> int:
    """Reads the seed's min(15, 3 + attempt) rule needs to see a job of `end` seconds finish."""
    now, reads = 0.0, 0
    while now < end:
        now, reads = now + min(15.0, 3.0 + reads), reads + 1
    return reads


def test_a_stalled_job_is_still_detected_within_the_fallback_bound() -> None:
    # Progress freezes at ~40 % for 10 minutes, then the job goes on and finishes.
    job = SimJob(start=10.0, end=120.0, stall=(55.0, 655.0))
    run = simulate(job, Prior(115.0, 10.0, 10))
    # Once a look shows no progress where the line said there would be (the second look, at ~95 s):
    stalled = [g for t, g in zip(run.times, run.gaps, strict=True) if 100.0 < t <= job.done_at]
    assert stalled and max(stalled) <= POLICY.fallback_cap
    assert 0 <= run.delay <= POLICY.fallback_cap
    assert run.polls < 655 / POLICY.fallback_cap + 20  # a bounded back-off, not a busy loop


def test_a_job_that_never_reports_progress_is_found_within_the_bound() -> None:
    # Sora 1 reports none: history's interval, then the ladder if history was wrong.
    late = 100.0 + POLICY.prior_k * 10.0
    for end in (80.0, 100.0, 300.0):
        track = JobTrack(submitted=0.0, prior=Prior(100.0, 10.0, 10))
        now, polls = 0.0, 0
        while True:
            now, polls = track.plan(now, None, POLICY), polls + 1
            if now >= end:
                break
            track.observe(now, None)
        assert now - end <= POLICY.fallback_cap
        if end <= late:  # within history's interval: `history_polls` spread over it
            assert now - end <= 2 * POLICY.prior_k * 10.0 / POLICY.history_polls and polls <= 12
        else:  # history was wrong: the ladder (a few dense looks, then every `fallback_cap`)
            assert polls <= 12 + 6 + (end - late) / POLICY.fallback_cap + 1


@pytest.mark.parametrize(("curve", "noise"), [(1.5, 0.0), (0.7, 0.0), (1.0, 3.0)])
def test_curves_and_noise_keep_delay_and_requests_bounded(curve: float, noise: float) -> None:
    rng = random.Random(5)
    for _ in range(30):
        end = rng.uniform(30, 300)
        run = simulate(
            SimJob(0.1 * end, end, curve=curve, noise=noise), Prior(end * rng.uniform(0.8, 1.2), 0.2 * end)
        )
        assert 0 <= run.delay <= POLICY.fallback_cap
        assert run.polls <= 40


def test_noise_is_absorbed_by_a_tolerance_and_a_curve_by_a_local_line() -> None:
    noisy = [Observation(0.0, 0), Observation(50.0, 27), Observation(80.0, 42), Observation(110.0, 63)]
    fit = fit_lines(noisy, 5.0, 7200.0)
    assert fit is not None and fit.start == 0 and 0 < fit.tol <= 3
    stalled = [Observation(0.0, 0), Observation(40.0, 20), Observation(100.0, 50), Observation(200.0, 50)]
    fit = fit_lines(stalled, 5.0, 7200.0)
    assert fit is not None and fit.start > 0  # the old points do not fit the stall: dropped
    estimate = progress_interval(stalled)
    assert estimate is not None and not estimate.steady


# -- hints ---------------------------------------------------------------------------------------------


def test_server_hints_override_predictions() -> None:
    job = SimJob(start=10.0, end=100.0)
    track = JobTrack(submitted=0.0, prior=Prior(100.0, 10.0, 10))
    for t in (0.0, 50.0, 97.0):
        track.observe(t, job.progress(t))
    assert track.plan(97.0, None) - 97.0 < 4.0  # the prediction: ~3 s to go
    assert track.plan(97.0, 7.0) == pytest.approx(104.0)  # the server asked for 7 s: not sooner
    assert track.plan(97.0, 1000.0) == pytest.approx(97.0 + POLICY.max_hint)  # absurd hints are capped
    # Nothing known at all: the hint itself, not the fallback ladder.
    blind = JobTrack(submitted=0.0)
    blind.observe(0.0, None)
    assert blind.plan(0.0, 2.5) == pytest.approx(2.5)
    assert blind.plan(0.0, None) == pytest.approx(POLICY.fallback_base)


def test_with_a_hint_every_poll_respects_it() -> None:
    run = simulate(SimJob(10.0, 100.0), Prior(100.0, 10.0, 10), hint=6.0)
    assert min(run.gaps) >= 6.0 - 1e-9
    assert 0 <= run.delay <= 6.0 + POLICY.margin


# -- history -------------------------------------------------------------------------------------------


def test_the_duration_book_keeps_robust_statistics_of_the_latest() -> None:
    book = DurationBook(keep=5)
    assert book.prior(KEY).median == expected_duration(1280, 720, 8)  # no history: the catalog model
    assert book.prior(KEY).spread == pytest.approx(POLICY.prior_spread * book.prior(KEY).median)
    for seconds in (90.0, 100.0, 110.0, 105.0, 5000.0):  # one absurd outlier
        book.add(KEY, seconds)
    prior = book.prior(KEY)
    assert prior.median == 105.0 and prior.samples == 5
    # Robust: the outlier does not widen it beyond the small-sample floor (catalog spread ÷ √n).
    assert prior.spread == pytest.approx(POLICY.prior_spread / math.sqrt(5) * 105.0)
    many = DurationBook(keep=100)
    for seconds in (100.0, 104.0, 106.0) * 30:
        many.add(KEY, seconds)
    assert many.prior(KEY).spread < 0.05 * 104.0  # many agreeing samples: a tight prior
    for seconds in (200.0,) * 5:  # only the last `keep` count
        book.add(KEY, seconds)
    assert book.prior(KEY).median == 200.0
    other = (*KEY[:4], 12, 1)
    book.add(other, 50.0)  # fewer than `min_samples`: blended with the catalog model
    assert 50.0 < book.prior(other).median < expected_duration(1280, 720, 12)


def test_history_places_the_first_look_and_bounds_the_interval() -> None:
    track = JobTrack(submitted=0.0, prior=Prior(200.0, 10.0, 10))
    track.observe(0.0, 0)
    first = track.plan(0.0)
    assert first == pytest.approx(100.0)  # half way to the expected end
    estimate = estimate_end([Observation(0.0, 0), Observation(100.0, 40)], 0.0, Prior(200.0, 10.0, 10))
    assert estimate is not None and estimate.basis == "progress"
    # progress ∩ median ± 3 spreads
    assert estimate.early >= 170.0 - 1e-9 and estimate.late <= 230.0 + 1e-9
    wrong = estimate_end([Observation(0.0, 0), Observation(100.0, 90)], 0.0, Prior(400.0, 10.0, 10))
    assert wrong is not None and wrong.late < 200.0  # history disagrees with the job: the job wins


def test_policies_scale_durations_but_not_shares() -> None:
    fast = POLICY.scaled(0.01)
    assert fast.fallback_cap == pytest.approx(0.15) and fast.min_gap == pytest.approx(POLICY.min_gap / 100)
    assert fast.approach == POLICY.approach and fast.history_polls == POLICY.history_polls
    assert math.isclose(fast.min_duration, POLICY.min_duration / 100)


def test_the_learned_end_lies_between_the_last_look_and_the_detection() -> None:
    job = SimJob(start=10.0, end=100.0)
    track = JobTrack(submitted=0.0)
    for t in (0.0, 40.0, 80.0, 98.0):
        track.observe(t, job.progress(t))
    track.plan(98.0)
    assert 98.0 <= track.end_seen(103.0) <= 103.0
    assert track.end_seen(103.0) == pytest.approx(100.0, abs=0.6)
