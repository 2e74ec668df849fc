"""Benchmark completion detection: sorastudio's engine against three reference pollers on one workload.

Run from the repo root:  .venv/bin/python bench/polling.py [--jobs 24] [--time-scale 0.1] [--noise 0]

Workload: `--jobs` Sora 2 jobs (720p, 4/8/12 s, seeded) on an emulated Azure `sora-2` deployment with
2 running slots and no create-rate limit (this bench measures polling, not the create quota). The
emulator's timing is overridden so that durations are unpredictable and span 30–300 emulated seconds:
45 / 137 / 230 s for 4 / 8 / 12 s clips, each × (1 ± 0.33) jitter — never a multiple of any poll
interval. Progress rises linearly after a 10 % queue (`--curve`, `--noise` make it non-linear / noisy).
The emulator sends no `openai-poll-after-ms` (whether Sora does is unknown), so the SDK rule is 1 s.

Schedulers, each on a fresh emulator with the same seed (same durations), 2-slot FIFO:
* sorastudio — the engine (`engine.worker.Worker`): predictor, list reads, 60 requests/minute budget;
* openai SDK — `poll()`: read at once, then every 1 s;
* seed       — the seed guide: wait min(15, 3 + attempt) s before each read;
* fixed 10 s — wait 10 s before each read (alasano/sora-2-playground).

Printed per scheduler, in emulated seconds (real seconds ÷ time scale):
* makespan ÷ ideal — first create to the last completion seen, over the same durations packed in
  creation order on 2 slots with zero delay;
* status requests per job — status reads + list reads (a list counts once per page) ÷ jobs;
* detection delay, mean / p95 — from a job's planned end (the emulator's `Job.boundaries`, exact) to the
  first read that could see it done (its status read, or a list read), timed as the emulator received it;
* max requests in any 60 s window (reads + creates; content downloads excluded) against the budget.

Time scale: the default 0.1 runs the whole bench in about 3 minutes (the four schedulers side by side,
each in its own process). Fixed costs are real milliseconds — an HTTP round trip, a SQLite commit, the
event loop — and they grow by 1 ÷ scale once expressed in emulated seconds: 10 ms of engine overhead
reads as 0.1 s of delay at 0.1, but 1 s at 0.01. So a smaller scale makes sorastudio look worse than it
would be against the real service; 0.1 keeps that inflation near 0.1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from sorastudio.domain import Mode, Status, VideoRequest
from sorastudio.emulator.app import create_app
from sorastudio.emulator.config import Deployment, EmulatorConfig, Timing
from sorastudio.emulator.media import CannedMedia
from sorastudio.emulator.render import RenderSpec, render_media
from sorastudio.emulator.server import running_server
from sorastudio.engine.budget import max_in_window
from sorastudio.engine.clock import SystemClock
from sorastudio.engine.worker import WorkerSettings
from sorastudio.errors import RateLimited
from sorastudio.providers.auth import ApiKeyHeader
from sorastudio.providers.endpoints import normalize_endpoint
from sorastudio.providers.videos_api import VideosAPI
from sorastudio.store.models import ApiKind
from sorastudio.store.profiles import add_profile
from sorastudio.studio import AsyncStudio

SLOTS = 2
SEED = 7
KEY = "emulator-key"
BUDGET = 60  # requests a minute (Azure's default for Sora; the profile's requests_per_minute)
# 4 / 8 / 12 s clips → 45 / 137.5 / 230 emulated seconds before jitter.
TIMING = {"base": -47.5, "per_unit": 23.125, "minimum": 30.0, "maximum": 300.0, "jitter": 0.33}


@dataclass(frozen=True)
class Request:
    at: float  # emulator clock (real unix seconds) when the request arrived
    kind: str  # "status", "list" or "create"
    video: str | None


@dataclass(frozen=True)
class Result:
    name: str
    makespan: float  # emulated seconds
    ideal: float
    status_reads: int
    list_reads: int
    jobs: int
    delays: list[float]  # emulated seconds
    max_window: int
    took: float = 0.0

    @property
    def ratio(self) -> float:
        return self.makespan / self.ideal

    @property
    def per_job(self) -> float:
        return (self.status_reads + self.list_reads) / self.jobs

    @property
    def mean_delay(self) -> float:
        return statistics.mean(self.delays)

    @property
    def p95_delay(self) -> float:
        ordered = sorted(self.delays)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class RequestLog:
    """ASGI middleware noting every `/videos` read and create with the time the emulator received it."""

    def __init__(self, app: ASGIApp, requests: list[Request], lock: threading.Lock) -> None:
        self.app = app
        self.requests = requests
        self.lock = lock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/content" not in scope["path"]:
            parts = [p for p in scope["path"].split("/") if p]
            if parts and "videos" in parts:
                tail = parts[parts.index("videos") + 1 :]
                kind = {"GET": "status" if tail else "list", "POST": "create"}.get(scope["method"])
                if kind is not None:
                    with self.lock:
                        self.requests.append(Request(time.time(), kind, tail[0] if tail else None))
        await self.app(scope, receive, send)


def workload(jobs: int) -> list[tuple[str, str, int]]:
    rng = random.Random(SEED)
    return [
        (
            f"polling bench {n}: a lantern on a pier",
            rng.choice(["720x1280", "1280x720"]),
            rng.choice([4, 8, 12]),
        )
        for n in range(jobs)
    ]


def ideal_makespan(durations: list[float]) -> float:
    """The durations, in creation order, on `SLOTS` slots with zero delay (list scheduling)."""
    free = [0.0] * SLOTS
    for duration in durations:
        slot = free.index(min(free))
        free[slot] += duration
    return max(free)


Scheduler = Callable[[str, list[tuple[str, str, int]], float], Awaitable[None]]


def emulator_config(scale: float, curve: float, noise: float) -> EmulatorConfig:
    timing = Timing(**TIMING, progress_curve=curve, progress_noise=noise)
    deployment = Deployment(name="sora-2", model="sora-2", running_cap=SLOTS, creates_per_minute=0)
    return EmulatorConfig(
        time_scale=scale, seed=SEED, poll_after_ms=0, deployments=[deployment], timing=timing
    )


def measure(
    name: str, scheduler: Scheduler, jobs: list[tuple[str, str, int]], args: argparse.Namespace
) -> Result:
    scale = args.time_scale
    app = create_app(emulator_config(scale, args.curve, args.noise))
    clip = render_media(RenderSpec("bench", 720, 1280, 4, audio=True, fps=2), Path(tempfile.mkdtemp()))
    app.state.emulator.media = CannedMedia(clip)
    requests: list[Request] = []
    app.add_middleware(RequestLog, requests=requests, lock=threading.Lock())
    with running_server(app=app) as url:
        asyncio.run(scheduler(url, jobs, scale))
        emulated = sorted(app.state.emulator.store.all(), key=lambda job: (job.created_at, job.seq))
    assert len(emulated) == len(jobs), f"{name}: {len(emulated)} creates for {len(jobs)} jobs"
    reads = sorted((r for r in requests if r.kind != "create"), key=lambda r: r.at)
    delays, seen_at = [], []
    for job in emulated:
        end = job.created_at + job.duration
        first = next(r.at for r in reads if r.at >= end and (r.kind == "list" or r.video == job.id))
        delays.append((first - end) / scale)
        seen_at.append(first)
    start = emulated[0].created_at
    window = max_in_window([r.at for r in requests], 60 * scale)
    return Result(
        name,
        makespan=(max(seen_at) - start) / scale,
        ideal=ideal_makespan([job.duration for job in emulated]) / scale,
        status_reads=sum(1 for r in reads if r.kind == "status"),
        list_reads=sum(1 for r in reads if r.kind == "list"),
        jobs=len(jobs),
        delays=delays,
        max_window=window,
    )


# -- sorastudio ------------------------------------------------------------------------------------------


async def run_sorastudio(url: str, jobs: list[tuple[str, str, int]], scale: float) -> None:
    home = tempfile.mkdtemp(prefix="sorastudio-bench-")
    settings = WorkerSettings(idle=0.5, lease=10.0)
    studio = AsyncStudio(home=home, emulator_url=url, clock=SystemClock(scale), worker_settings=settings)
    with studio.store.write() as session:
        add_profile(
            session,
            "bench",
            api_kind=ApiKind.AZURE_VIDEOS,
            endpoint=url,
            api_key=KEY,
            deployment="sora-2",
            model="sora-2",
            running_cap=SLOTS,
            creates_per_minute=0,
            requests_per_minute=BUDGET,
        )
    handles = [
        await studio.generate(prompt, size=size, seconds=seconds, profile="bench")
        for prompt, size, seconds in jobs
    ]
    stop = asyncio.Event()
    worker = asyncio.create_task(studio.run_worker(stop))
    try:
        for _ in range(100_000):
            if all(h.status.terminal for h in handles):
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await worker
    assert all(h.status is Status.COMPLETED for h in handles), [h.status for h in handles]


# -- reference pollers -----------------------------------------------------------------------------------


def sdk_rule(attempt: int) -> float:
    return 0.0 if attempt == 0 else 1.0  # `poll()` reads at once, then sleeps poll_interval_ms


def seed_rule(attempt: int) -> float:
    return min(15.0, 3.0 + attempt)


def fixed_10s(attempt: int) -> float:
    return 10.0


def reference(delay_rule: Callable[[int], float]) -> Scheduler:
    """A 2-slot FIFO queue; each slot submits, reads after `delay_rule(attempt)` s until done, repeats."""

    async def run(url: str, jobs: list[tuple[str, str, int]], scale: float) -> None:
        endpoint = normalize_endpoint(url, api="azure_videos")
        queue: asyncio.Queue[tuple[str, str, int]] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        async with VideosAPI(endpoint, auth=ApiKeyHeader(KEY), deployment="sora-2") as api:

            async def slot() -> None:
                while not queue.empty():
                    prompt, size, seconds = queue.get_nowait()
                    request = VideoRequest(
                        prompt=prompt, model="sora-2", size=size, seconds=seconds, mode=Mode.TEXT
                    )
                    for _ in range(1000):
                        try:
                            job = await api.submit(request)
                            break
                        except RateLimited as exc:
                            await asyncio.sleep(exc.retry_after or 10 * scale)
                    for attempt in range(100_000):
                        await asyncio.sleep(delay_rule(attempt) * scale)
                        job = await api.status(job.id)
                        if job.status.terminal:
                            break

            await asyncio.gather(*(slot() for _ in range(SLOTS)))

    return run


SCHEDULERS: dict[str, Scheduler] = {
    "sorastudio": run_sorastudio,
    "openai SDK 1 s": reference(sdk_rule),
    "seed min(15, 3+n) s": reference(seed_rule),
    "fixed 10 s": reference(fixed_10s),
}


def run_one(name: str, args: argparse.Namespace) -> Result:
    """One scheduler in its own process (its own emulator, event loop and GIL)."""
    os.environ["SORASTUDIO_HOME"] = tempfile.mkdtemp(prefix="sorastudio-bench-home-")
    started = time.monotonic()
    result = measure(name, SCHEDULERS[name], workload(args.jobs), args)
    return Result(**{**result.__dict__, "took": time.monotonic() - started})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--curve", type=float, default=1.0, help="progress curve exponent (1 = linear)")
    parser.add_argument("--noise", type=float, default=0.0, help="progress noise, percentage points")
    parser.add_argument("--only", choices=sorted(SCHEDULERS), action="append", help="run only these")
    args = parser.parse_args(argv)
    names = args.only or list(SCHEDULERS)
    print(
        f"{args.jobs} jobs (Sora 2 720p, 4/8/12 s → 30–300 s emulated), {SLOTS} slots, budget {BUDGET} "
        f"requests/min, time scale {args.time_scale}, progress curve {args.curve}, noise {args.noise}"
    )
    with ProcessPoolExecutor(len(names), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {name: pool.submit(run_one, name, args) for name in names}
        results = {name: future.result() for name, future in futures.items()}
    print(
        f"  {'scheduler':<20} {'makespan/ideal':>14} {'requests/job':>12} {'(status+list)':>13} "
        f"{'delay mean':>10} {'p95':>6} {'max/60s':>8}"
    )
    for name, r in results.items():
        print(
            f"  {name:<20} {r.ratio:14.4f} {r.per_job:12.2f} {f'({r.status_reads}+{r.list_reads})':>13} "
            f"{r.mean_delay:9.2f}s {r.p95_delay:5.2f}s {r.max_window:5d}/{BUDGET}"
            f"   (makespan {r.makespan:5.0f} s, ideal {r.ideal:5.0f} s; ran {r.took:4.0f} s)"
        )
    ours = results.get("sorastudio")
    if ours is not None:
        checks = [
            ("makespan/ideal <= 1.01", ours.ratio <= 1.01, f"{ours.ratio:.4f}"),
            ("requests/job <= 5", ours.per_job <= 5, f"{ours.per_job:.2f}"),
            ("mean delay <= 0.5 s", ours.mean_delay <= 0.5, f"{ours.mean_delay:.2f} s"),
            (f"max requests/60 s <= {BUDGET}", ours.max_window <= BUDGET, str(ours.max_window)),
        ]
        print(
            "targets: " + "; ".join(f"{label}: {'PASS' if ok else 'FAIL'} ({v})" for label, ok, v in checks)
        )


if __name__ == "__main__":
    main()
