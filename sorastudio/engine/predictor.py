"""When will a remote job finish, and when should we look next? Pure: every time is passed in.

Three sources, in this order of trust:

1. **Progress** (`/videos` reports an integer percent). A job's progress is modelled as a straight line
   x(t) = u + b·(t − t_ref); an observation of p at t says p ≤ x(t) < p + 1 (the service floors it) and a
   job that is not done has x < 100 (it completes when x reaches 100). The set of lines consistent with
   every observation is a convex polygon in (u, b); the end time (100 − u)/b over its vertices gives an
   *interval* [early, late] that holds for certain if progress is linear. Well-placed polls shrink it
   below a tick of progress. Noise is absorbed by a tolerance (a few points); a curve or a stall that no
   tolerance explains drops the oldest observations (a local line) and makes the plan cautious.
2. **History**: the median and spread of recent durations of the same (endpoint, model, size, seconds,
   variants), counted from submission (`DurationBook`); before any history, the catalog-size model
   (`providers.polling.expected_duration`) with a wide spread. It bounds the interval while progress
   says little (no rate yet) and is all we have for Sora 1, which reports no progress.
3. **Server hints** (`openai-poll-after-ms`, `retry-after-ms`, `Retry-After`): we never poll earlier than
   the server asked; with nothing predicted we poll exactly when it asked.

The plan (`JobTrack.plan`), from submission to detection:

* no moving observation yet: look half way to history's median (never past its early end, median −
  `weak_z` spreads) — a first progress report needs the job to be running; Sora 1 jobs, which never
  report progress, then get `history_polls` looks spread over history's interval;
* one moving observation: a second look just before history's early end, for a long baseline;
* two or more: `progress_fit.best_probe` weighs, for each candidate time, the chance that the job is
  done by then (and how late we would see it) against the polls still needed if not (`poll_cost`
  seconds of delay each). In practice: one look shortly before the end, a probe or two placed where
  a tick of progress is due, and a last poll just after the (by then sub-second) interval. A long
  extrapolation from two points, or noisy progress, is approached in steps (`curve_share`).

Past a failed prediction, or when progress stalls or curves beyond a line, polls get dense again and
back off to `fallback_cap`, which bounds the detection delay; with nothing to learn from at all, the
seed's ladder (3 s + 1 s per attempt, capped at `fallback_cap`). No gap is longer than the job has run.
Durations are in the clock's seconds: `PredictorPolicy.scaled()` for a time-scaled provider.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace

from sorastudio.engine.progress_fit import LineFit, best_probe, fit_lines
from sorastudio.providers.polling import Observation, expected_duration

DurationKey = tuple[str, str, int, int, int, int]  # endpoint, model, width, height, seconds, variants


@dataclass(frozen=True)
class PredictorPolicy:
    """Provider seconds (`scaled()` multiplies every duration; shares and counts stay)."""

    min_gap: float = 0.25  # never two polls of one job closer than this
    approach: float = 0.85  # share of the distance to the earliest plausible end covered per poll
    first_share: float = 0.5  # with no rate yet: share of the expected remaining time to wait
    curve_share: float = 0.6  # progress off a straight line by some points: approach in these steps
    verify: float = 1.0  # with two moving observations, extrapolating beyond this × their span needs a third
    weak_z: float = 2.0  # the second look: this many spreads before history's median
    history_polls: int = 8  # polls spread over history's interval when progress says nothing (Sora 1)
    precision: float = 0.6  # an end interval narrower than this is final: poll right after it
    poll_cost: float = 0.2  # a poll is worth this much detection delay (0: simple rules, no look-ahead)
    margin: float = 0.05  # after the late end (observation times are midpoints of a request)
    prior_k: float = 3.0  # the history interval is median ± prior_k·spread
    prior_spread: float = 0.35  # spread, as a share of the median, without enough history
    fallback_base: float = 3.0  # the seed's ladder, used when nothing can be learned…
    fallback_step: float = 1.0
    fallback_cap: float = 15.0  # …so a stalled or mispredicted job is detected within this
    dense_gap: float = 0.5  # first gap after a prediction turned out wrong
    max_gap: float = 600.0  # never longer between two polls…
    stretch: float = 1.0  # …nor longer than this share of the time since submission
    max_hint: float = 120.0  # a server hint above this is capped
    min_duration: float = 5.0  # bounds of the progress rate: 100 points in at least this…
    max_duration: float = 7200.0  # …and at most this

    def scaled(self, factor: float) -> PredictorPolicy:
        shares = {"approach", "curve_share", "first_share", "history_polls", "prior_k", "prior_spread"}
        shares |= {"stretch", "verify", "weak_z"}
        return replace(
            self, **{f.name: getattr(self, f.name) * factor for f in fields(self) if f.name not in shares}
        )


DEFAULT_PREDICTOR_POLICY = PredictorPolicy()


# -- history -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prior:
    """Expected duration from submission: `median` ± `spread` (a robust standard deviation)."""

    median: float
    spread: float
    samples: int = 0


class DurationBook:
    """The last `keep` durations (provider seconds) per `DurationKey`, as robust statistics."""

    def __init__(self, keep: int = 20, min_samples: int = 3) -> None:
        self.keep = keep
        self.min_samples = min_samples
        self._samples: dict[DurationKey, deque[float]] = {}

    def add(self, key: DurationKey, seconds: float) -> None:
        if seconds > 0:
            self._samples.setdefault(key, deque(maxlen=self.keep)).append(seconds)

    def extend(self, items: Iterable[tuple[DurationKey, float]]) -> None:
        for key, seconds in items:
            self.add(key, seconds)

    def samples(self, key: DurationKey) -> list[float]:
        return list(self._samples.get(key, ()))

    def prior(self, key: DurationKey, policy: PredictorPolicy = DEFAULT_PREDICTOR_POLICY) -> Prior:
        """Median and 1.4826·MAD of the last durations; the catalog-size model while there are fewer
        than `min_samples` (blended with what there is)."""
        _, model, width, height, seconds, variants = key
        guess = expected_duration(width, height, seconds, variants, pro=model.endswith("-pro"))
        found = self.samples(key)
        if len(found) < self.min_samples:
            median = statistics.median([guess, *found]) if found else guess
            return Prior(median, policy.prior_spread * median, len(found))
        median = statistics.median(found)
        mad = statistics.median(abs(s - median) for s in found)
        # A few samples can agree by chance: the spread shrinks from the catalog's only as they add up.
        floor = max(0.03, policy.prior_spread / math.sqrt(len(found))) * median
        return Prior(median, max(1.4826 * mad, floor), len(found))


# -- the end interval ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndEstimate:
    early: float
    late: float
    best: float
    basis: str  # "progress" or "history" (the catalog prior counts as history)
    steady: bool  # every observation fits one line (within a few points of noise)
    fit: LineFit | None = None


def _from_fit(fit: LineFit, steady: bool) -> EndEstimate:
    early, late = fit.ends()
    early = max(early, fit.ref)
    best = min(max(fit.central_end(), early), late)
    return EndEstimate(early, late, best, "progress", steady=steady, fit=fit)


def progress_interval(
    observations: Sequence[Observation], policy: PredictorPolicy = DEFAULT_PREDICTOR_POLICY
) -> EndEstimate | None:
    """The end interval from progress alone; None without a moving observation (no rate)."""
    fit = fit_lines(observations, policy.min_duration, policy.max_duration)
    return None if fit is None else _from_fit(fit, fit.start == 0)


def estimate_end(
    observations: Sequence[Observation],
    submitted: float,
    prior: Prior | None,
    policy: PredictorPolicy = DEFAULT_PREDICTOR_POLICY,
) -> EndEstimate | None:
    """The progress interval, narrowed (while it has a single moving observation) to the lines that
    also end within history's interval if any does; else either alone (progress wins: it is this
    job's own evidence)."""
    fit = fit_lines(observations, policy.min_duration, policy.max_duration)
    if prior is None:
        return None if fit is None else _from_fit(fit, fit.start == 0)
    low = submitted + max(0.0, prior.median - policy.prior_k * prior.spread)
    high = submitted + prior.median + policy.prior_k * prior.spread
    if fit is None:
        return EndEstimate(low, high, submitted + prior.median, "history", steady=True)
    steady = fit.start == 0
    # Only while progress bounds the rate from one side: later, the job's own evidence is sharper than
    # history, and a history that happens to be wrong would only cut the true end out.
    narrowed = fit.ending_between(low, high) if steady and fit.moving < 2 else None
    return _from_fit(narrowed or fit, steady)


# -- the plan ------------------------------------------------------------------------------------------


@dataclass
class JobTrack:
    """What we know of one remote job, and when to look at it next (`plan`)."""

    submitted: float  # clock seconds
    prior: Prior | None = None
    observations: list[Observation] = field(default_factory=list)
    polls: int = 0
    overdue: int = 0  # consecutive observations past a predicted end, or while nothing is learnable
    keep: int = 40
    last: EndEstimate | None = None

    def observe(self, at: float, progress: int | None) -> None:
        """A non-terminal observation — the create's answer, a status read, or a list read — at `at`
        (when the server looked: the middle of the request)."""
        self.polls += 1
        if self.overdue or (self.last is not None and at >= self.last.late):
            self.overdue += 1  # once a prediction failed, every further poll widens the back-off
        self.observations.append(Observation(at, progress))
        del self.observations[: -self.keep]

    def end_seen(self, at: float) -> float:
        """When a job seen finished at `at` most likely finished: the last progress estimate, kept
        between the last observation that was not done and `at` (for learning durations)."""
        before = self.observations[-1].at if self.observations else self.submitted
        if self.last is not None and self.last.basis == "progress":
            return min(at, max(before, self.last.best))
        return at

    def estimate(self, policy: PredictorPolicy = DEFAULT_PREDICTOR_POLICY) -> EndEstimate | None:
        return estimate_end(self.observations, self.submitted, self.prior, policy)

    def plan(
        self, now: float, hint: float | None = None, policy: PredictorPolicy = DEFAULT_PREDICTOR_POLICY
    ) -> float:
        """The clock time of the next poll (≥ now + the hint, if the server sent one)."""
        estimate = self.last = self.estimate(policy)
        if estimate is None:  # nothing to learn from: the server's word, else the fallback ladder
            if hint is not None:
                return now + min(max(hint, 0.0), policy.max_hint)
            self.overdue += 1
            return now + self._ladder(policy)
        fit = estimate.fit
        if estimate.basis == "history" or fit is None:
            at = self._by_history(now, estimate, policy)
        elif fit.moving < 2:
            at = self._second_look(now, estimate, policy)
        else:
            at = max(now + policy.min_gap, self._target(now, estimate, policy))
            if not estimate.steady:  # a curve or a stall: the local line, but never beyond the bound
                at = min(at, now + policy.fallback_cap)
            elif estimate.early - now > policy.precision and (
                fit.tol > 0 or (fit.moving == 2 and estimate.early - now > policy.verify * self._span())
            ):
                # Noise or a gentle curve, or a long extrapolation from two points that cannot show a
                # curve: approach the end in steps rather than trusting one jump.
                at = min(at, now + max(policy.min_gap, policy.curve_share * (estimate.early - now)))
        if self.overdue:
            at = min(at, now + min(policy.fallback_cap, policy.dense_gap * 2 ** (self.overdue - 1)))
        if estimate.basis == "progress":
            # Never extrapolate further than the job has run: an early rate is the least certain.
            at = min(at, now + max(policy.min_gap, policy.stretch * (now - self.submitted)))
        if hint is not None:
            at = max(at, now + min(max(hint, 0.0), policy.max_hint))
        return at

    def _ladder(self, policy: PredictorPolicy) -> float:
        return min(policy.fallback_cap, policy.fallback_base + policy.fallback_step * (self.overdue - 1))

    def _span(self) -> float:
        """Seconds between the first and the last observation showing progress."""
        moving = [o.at for o in self.observations if o.progress]
        return moving[-1] - moving[0] if moving else 0.0

    def _second_look(self, now: float, estimate: EndEstimate, policy: PredictorPolicy) -> float:
        """One moving observation bounds the end from above only (had the job started right at
        submission); history says how early it may come. Look again shortly before history's
        `weak_z`-sigma early end, for the longest baseline that is still unlikely to miss the end."""
        at = now + policy.approach * (estimate.late - now)
        if self.prior is not None:
            likely_early = self.submitted + self.prior.median - policy.weak_z * self.prior.spread
            if likely_early > now:
                at = min(at, likely_early)
            else:
                at = min(at, now + policy.first_share * (estimate.best - now))
        return max(now + policy.min_gap, at)

    def _by_history(self, now: float, estimate: EndEstimate, policy: PredictorPolicy) -> float:
        """No rate yet (or none ever, as on Sora 1): approach the interval history gives, then cover it
        with `history_polls` evenly spaced polls."""
        early = estimate.early
        if self.prior is not None:
            early = max(early, self.submitted + self.prior.median - policy.weak_z * self.prior.spread)
        if now < early - policy.min_gap:
            # Halfway to the expected end (a first rate needs a moving observation), but not past
            # where the job may well have finished: history can be wrong, or missing.
            wait = min(policy.first_share * (estimate.best - now), early - now)
            return now + max(policy.min_gap, wait)
        if now >= estimate.late:  # history was wrong: the fallback ladder (`plan` caps the gap)
            return now + policy.fallback_cap
        step = (estimate.late - estimate.early) / policy.history_polls
        return now + min(max(policy.min_gap, step), policy.fallback_cap)

    def _target(self, now: float, estimate: EndEstimate, policy: PredictorPolicy) -> float:
        if estimate.fit is not None and policy.poll_cost > 0:
            late = min(estimate.late, now + policy.max_gap)
            return best_probe(
                estimate.fit,
                now,
                late,
                min_gap=policy.min_gap,
                precision=policy.precision,
                margin=policy.margin,
                poll_cost=policy.poll_cost,
            )
        width = estimate.late - estimate.early
        if width <= policy.precision:
            return estimate.late + policy.margin
        if now < estimate.early - policy.precision:
            return now + min(policy.max_gap, policy.approach * (estimate.early - now))
        return min(now + policy.max_gap, (max(now, estimate.early) + estimate.late) / 2)


__all__ = [
    "DEFAULT_PREDICTOR_POLICY",
    "DurationBook",
    "DurationKey",
    "EndEstimate",
    "JobTrack",
    "PredictorPolicy",
    "Prior",
    "estimate_end",
    "progress_interval",
]
