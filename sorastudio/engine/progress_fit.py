"""Which straight progress lines fit a job's observations, and where one more observation helps most.

A line is (u, b): progress u at the reference time `ref` (the latest observation) rising b points a
second, so x(t) = u + b·(t − ref). The service floors progress to an integer, so an observation of p at
t means p ≤ x(t) < p + 1; a job not yet done has x(t) < 100 and completes when x reaches 100. Every
observation cuts two half-planes out of (u, b) space; what is left is a convex polygon (`LineFit`), and
the end times (100 − u)/b of its vertices bound the end for certain while progress is linear. A point
of slack is always allowed; noise and curves are told apart by whether dropping the oldest
observations restores a line (a curve, or a stall) or only a wider tolerance does (noise).

`best_probe` picks the next poll time by one step of look-ahead: for each candidate time it splits the
polygon by the integer the service would report (or "done"), and weighs each outcome's expected cost —
the detection delay if done, else the polls still needed to narrow the end interval below `precision`
— by its share of the polygon's area (a uniform belief over the consistent lines).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sorastudio.providers.polling import Observation

Point = tuple[float, float]  # (u, b)

NOISE = 3.0  # points of noise a line may absorb over all observations before it counts as curved
_EPS = 1e-12


def clip(polygon: Sequence[Point], a: float, c: float, limit: float) -> list[Point]:
    """The part of a convex polygon where a·u + c·b ≤ limit (one Sutherland–Hodgman pass)."""
    out: list[Point] = []
    count = len(polygon)
    for i in range(count):
        p, q = polygon[i], polygon[(i + 1) % count]
        fp = a * p[0] + c * p[1] - limit
        fq = a * q[0] + c * q[1] - limit
        if fp <= _EPS:
            out.append(p)
        if (fp < -_EPS < fq) or (fq < -_EPS < fp):
            s = fp / (fp - fq)
            out.append((p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1])))
    return out


def area(polygon: Sequence[Point]) -> float:
    total = 0.0
    for i, (u0, b0) in enumerate(polygon):
        u1, b1 = polygon[(i + 1) % len(polygon)]
        total += u0 * b1 - u1 * b0
    return abs(total) / 2


def _mean(polygon: Sequence[Point]) -> Point:
    return sum(u for u, _ in polygon) / len(polygon), sum(b for _, b in polygon) / len(polygon)


@dataclass(frozen=True)
class LineFit:
    """The lines consistent with the observations `start:` within `tol` points."""

    polygon: tuple[Point, ...]
    ref: float
    tol: float
    start: int  # observations dropped from the front (a curve or a stall): 0 = all fit one line
    moving: int = 0  # observations in the fit showing progress (2 bound the rate both ways)

    def end(self, point: Point) -> float:
        u, b = point
        return self.ref + (100.0 - u) / b

    def ends(self) -> tuple[float, float]:
        times = [self.end(p) for p in self.polygon]
        return min(times), max(times)

    def central_end(self) -> float:
        return self.end(_mean(self.polygon))

    def ending_between(self, low: float, high: float) -> LineFit | None:
        """Only the lines that end within [low, high] (history's interval); None if none does.
        (100 − u)/b ≥ low − ref is linear in (u, b): u + b·(low − ref) ≤ 100, and likewise for high."""
        polygon = clip(self.polygon, 1.0, low - self.ref, 100.0)
        polygon = clip(polygon, -1.0, -(high - self.ref), -100.0) if polygon else polygon
        if not polygon or area(polygon) <= _EPS:
            return None
        return LineFit(tuple(polygon), self.ref, self.tol, self.start, self.moving)


def fit_lines(
    observations: Sequence[Observation], min_duration: float, max_duration: float
) -> LineFit | None:
    """The first fit `_search` finds: all observations on one line if a point of slack allows, else the
    latest ones (a curve or a stall: `start` > 0), else all within `NOISE` points (noisy reports).
    None without two observations of which one shows progress (no rate can be bounded)."""
    obs = [o for o in observations if o.progress is not None]
    if len(obs) < 2 or not any(o.progress for o in obs):
        return None
    ref = obs[-1].at
    b_low, b_high = 100.0 / max_duration, 100.0 / min_duration
    box: list[Point] = [(-1e4, b_low), (100.0, b_low), (100.0, b_high), (-1e4, b_high)]
    for start, tol in _search(len(obs)):
        window = obs[start:]
        if not any(o.progress for o in window):
            continue
        polygon = box
        for o in window:
            assert o.progress is not None
            d = o.at - ref
            polygon = clip(polygon, 1.0, d, min(o.progress + 1.0 + tol, 100.0))
            if o.progress >= 1:  # 0 also means "not started": any value below 1
                polygon = clip(polygon, -1.0, -d, tol - o.progress)
            if not polygon:
                break
        if polygon:
            return LineFit(tuple(polygon), ref, tol, start, sum(1 for o in window if o.progress))
    return None


def _search(count: int) -> list[tuple[int, float]]:
    """(first observation, tolerance) to try, best first: every observation within a point; the latest
    ones within a point (a curve: the local line); every observation within a few points (noise); the
    latest ones within a few points."""
    starts = range(count - 1)
    return [
        *((0, tol) for tol in (0.0, 1.0)),
        *((start, tol) for start in starts[1:] for tol in (0.0, 1.0) if count - start >= 3),
        *((0, tol) for tol in (2.0, NOISE)),
        *((start, NOISE) for start in starts[1:]),
    ]


def _outcomes(fit: LineFit, t: float) -> list[tuple[float, list[Point], bool]]:
    """(share of the polygon, the polygon after observing it, done?) per outcome of a poll at `t`:
    done, or each integer the service could report."""
    total = area(fit.polygon)
    d = t - fit.ref
    values = [u + b * d for u, b in fit.polygon]
    low, high = min(values), max(values)
    parts: list[tuple[float, list[Point], bool]] = []
    if high >= 100.0:
        done = clip(fit.polygon, -1.0, -d, -100.0)
        if done:
            parts.append((area(done) / total, done, True))
    for k in range(max(0, math.floor(low)), min(99, math.floor(high)) + 1):
        part = clip(fit.polygon, 1.0, d, min(k + 1.0, 100.0))
        if k >= 1:
            part = clip(part, -1.0, -d, -float(k))
        if part:
            parts.append((area(part) / total, part, False))
    return parts


def best_probe(
    fit: LineFit,
    now: float,
    late: float,
    *,
    min_gap: float,
    precision: float,
    margin: float,
    poll_cost: float,
    candidates: int = 24,
) -> float:
    """The poll time in [now + min_gap, late + margin] with the least expected cost (see the module)."""
    first, last = now + min_gap, max(now + min_gap, late + margin)
    total = area(fit.polygon)
    if total <= _EPS or last - first <= _EPS:
        return last

    def future(width: float) -> float:
        if width <= precision:
            return poll_cost + width / 2
        return poll_cost * (1 + math.log2(width / precision)) + precision / 2

    best_time, best_cost = last, math.inf
    for i in range(candidates + 1):
        t = first + (last - first) * i / candidates
        cost = 0.0
        for share, part, done in _outcomes(fit, t):
            if done:  # we learn of the end this late
                cost += share * max(0.0, t - fit.end(_mean(part)))
            else:
                ends = [fit.end(p) for p in part]
                cost += share * future(max(ends) - max(min(ends), t))
        if cost < best_cost - 1e-9:
            best_time, best_cost = t, cost
    return best_time


__all__ = ["NOISE", "LineFit", "area", "best_probe", "clip", "fit_lines"]
