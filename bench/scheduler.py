"""Benchmark the scheduler: one emulated workload through sorastudio's engine and two reference pollers.

Run from the repo root:  .venv/bin/python bench/scheduler.py [--jobs 50] [--time-scale 0.02]

Workload: `--jobs` Sora 2 jobs (720p, 4/8/12 s mixed, seeded) on the emulator's Azure `sora-2` deployment
(2 running jobs, 2 creates a minute), queued at once. Each scheduler gets a fresh emulator with the same
seed, so the jobs have the same durations in every run. Printed per scheduler:

* makespan ÷ ideal — from the first create to the last video on disk, divided by the same durations
  packed in the same (FIFO) order on 2 slots with no delay at all (list scheduling);
* status requests per job — `GET /videos/{id}` and `GET /videos` (list) calls the emulator answered, ÷ jobs.

The reference pollers follow the rules of the apps they stand for, with the same 2-slot FIFO queue:
* fixed 10 s — poll every 10 s (alasano/sora-2-playground's `setInterval`);
* seed       — the seed guide's 3 s + 1 s per attempt, capped at 15 s.
Targets for sorastudio: makespan ÷ ideal ≤ 1.03; requests per job ≤ half of the seed scheme's.
All waits are time-scaled (`--time-scale`); rendering is replaced by one pre-rendered clip so CPU time
does not distort the timings (the bench measures scheduling, `bench/emulator_render.py` rendering).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sorastudio.domain import Mode, Status, VideoRequest
from sorastudio.emulator.app import create_app
from sorastudio.emulator.config import EmulatorConfig
from sorastudio.emulator.media import CannedMedia
from sorastudio.emulator.render import RenderedMedia, RenderSpec, render_media
from sorastudio.emulator.server import running_server
from sorastudio.engine.clock import SystemClock
from sorastudio.engine.worker import WorkerSettings
from sorastudio.errors import RateLimited
from sorastudio.providers.auth import ApiKeyHeader
from sorastudio.providers.endpoints import normalize_endpoint
from sorastudio.providers.videos_api import VideosAPI
from sorastudio.studio import AsyncStudio

SLOTS = 2
SEED = 42
KEY = "emulator-key"


@dataclass(frozen=True)
class Result:
    name: str
    makespan: float
    ideal: float
    status_requests: int
    jobs: int

    @property
    def ratio(self) -> float:
        return self.makespan / self.ideal

    @property
    def per_job(self) -> float:
        return self.status_requests / self.jobs


class StatusCounter:
    """Counts `GET …/videos/{id}` (status reads) and `GET …/videos` (list reads, which observe every
    job at once: the engine polls with them when several jobs run) the emulator answers."""

    def __init__(self, app: ASGIApp, counts: Counter[str]) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            parts = scope["path"].rstrip("/").split("/")
            if len(parts) >= 2 and "videos" in (parts[-2], parts[-1]):
                self.counts["status"] += 1

        async def forward(message: Message) -> None:
            await send(message)

        await self.app(scope, receive, forward)


def workload(jobs: int) -> list[tuple[str, str, int]]:
    rng = random.Random(SEED)
    return [
        (f"bench job {n}: a kite at dusk", rng.choice(["720x1280", "1280x720"]), rng.choice([4, 8, 12]))
        for n in range(jobs)
    ]


def ideal_makespan(durations: list[float]) -> float:
    """The same durations, in the same order, on `SLOTS` slots, with zero delay between jobs."""
    free = [0.0] * SLOTS
    for duration in durations:
        slot = free.index(min(free))
        free[slot] += duration
    return max(free)


Scheduler = Callable[[str, list[tuple[str, str, int]], float], Awaitable[float]]


def measure(
    name: str, scheduler: Scheduler, jobs: list[tuple[str, str, int]], scale: float, clip: RenderedMedia
) -> Result:
    app = create_app(EmulatorConfig(time_scale=scale, seed=SEED))
    app.state.emulator.media = CannedMedia(clip)
    counts: Counter[str] = Counter()
    app.add_middleware(StatusCounter, counts=counts)
    with running_server(app=app) as url:
        end = asyncio.run(scheduler(url, jobs, scale))
        emulated = sorted(app.state.emulator.store.all(), key=lambda job: (job.created_at, job.seq))
    assert len(emulated) == len(jobs), f"{name}: {len(emulated)} creates for {len(jobs)} jobs"
    start = emulated[0].created_at
    ideal = ideal_makespan([job.duration for job in emulated])
    return Result(name, end - start, ideal, counts["status"], len(jobs))


# -- sorastudio ------------------------------------------------------------------------------------------


async def run_sorastudio(url: str, jobs: list[tuple[str, str, int]], scale: float) -> float:
    home = tempfile.mkdtemp(prefix="sorastudio-bench-")
    settings = WorkerSettings(idle=0.05, lease=10.0)
    studio = AsyncStudio(home=home, emulator_url=url, clock=SystemClock(scale), worker_settings=settings)
    handles = [await studio.generate(prompt, size=size, seconds=seconds) for prompt, size, seconds in jobs]
    stop = asyncio.Event()
    worker = asyncio.create_task(studio.run_worker(stop))
    try:
        for _ in range(100_000):
            if all(h.status.terminal for h in handles):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker
    results = [await studio.get(h.id) for h in handles]
    assert all(r.status is Status.COMPLETED for r in results), [r.status for r in results]
    return max(r.completed_at.timestamp() for r in results if r.completed_at)


# -- reference pollers -----------------------------------------------------------------------------------


def fixed_10s(attempt: int) -> float:
    return 10.0


def seed_scheme(attempt: int) -> float:
    return min(15.0, 3.0 + attempt)


def reference(delay_rule: Callable[[int], float]) -> Scheduler:
    """A 2-slot FIFO queue; each slot submits, polls by `delay_rule` until done, downloads, repeats."""

    async def run(url: str, jobs: list[tuple[str, str, int]], scale: float) -> float:
        endpoint = normalize_endpoint(url, api="azure_videos")
        queue: asyncio.Queue[tuple[str, str, int]] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        folder = Path(tempfile.mkdtemp(prefix="sorastudio-bench-ref-"))
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
                    await api.download(job, folder / job.id)

            await asyncio.gather(*(slot() for _ in range(SLOTS)))
        return time.time()

    return run


SCHEDULERS: dict[str, Scheduler] = {
    "sorastudio": run_sorastudio,
    "fixed 10 s": reference(fixed_10s),
    "seed 3 s + 1 s/attempt": reference(seed_scheme),
}


def run_one(name: str, jobs: int, scale: float) -> tuple[Result, float]:
    """One scheduler in its own process (its own emulator, event loop and GIL)."""
    os.environ["SORASTUDIO_HOME"] = tempfile.mkdtemp(prefix="sorastudio-bench-home-")
    clip = render_media(RenderSpec("bench", 720, 1280, 4, audio=True, fps=2), Path(tempfile.mkdtemp()))
    started = time.monotonic()
    result = measure(name, SCHEDULERS[name], workload(jobs), scale, clip)
    return result, time.monotonic() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--time-scale", type=float, default=0.02)
    args = parser.parse_args(argv)
    scale = args.time_scale
    print(f"{args.jobs} jobs (Sora 2 720p, 4/8/12 s), {SLOTS} slots, 2 creates/min, time scale {scale}")
    print("(the three schedulers run at the same time, each in its own process with its own emulator)")
    # Mostly waiting, little CPU: running side by side keeps the bench under 2 minutes at a time scale
    # where a few milliseconds of Python and HTTP overhead stay small against a job.
    with ProcessPoolExecutor(len(SCHEDULERS), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {name: pool.submit(run_one, name, args.jobs, scale) for name in SCHEDULERS}
        runs = {name: future.result() for name, future in futures.items()}
    for name, (result, took) in runs.items():
        print(
            f"  {name:<24} makespan/ideal {result.ratio:6.3f}   status requests/job {result.per_job:5.2f}"
            f"   (makespan {result.makespan / scale:5.0f} s emulated, ideal {result.ideal / scale:5.0f} s;"
            f" ran {took:4.1f} s)"
        )
    ours, seed = runs["sorastudio"][0], runs["seed 3 s + 1 s/attempt"][0]
    half = seed.per_job / 2
    print(
        f"targets: makespan/ideal <= 1.03: {'PASS' if ours.ratio <= 1.03 else 'FAIL'} ({ours.ratio:.3f}); "
        f"requests/job <= half the seed's ({half:.2f}): {'PASS' if ours.per_job <= half else 'FAIL'} "
        f"({ours.per_job:.2f})"
    )


if __name__ == "__main__":
    main()
