"""The per-resource request budget: a sliding window that polling never exceeds, however many jobs run.

The 200-job test drives `polls.Poller` (what the worker observes with) against a fake provider on a
virtual clock: hours of provider time in well under a second, every request timestamped.
"""

from __future__ import annotations

import asyncio
import builtins
import heapq
import itertools
import random
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from sorastudio.domain import Mode, Status, VideoRequest
from sorastudio.emulator.app import create_app
from sorastudio.emulator.config import Deployment
from sorastudio.emulator.server import running_server
from sorastudio.engine.budget import RequestBudget, max_in_window, pages_for
from sorastudio.engine.clock import SystemClock
from sorastudio.engine.manager import Work, WorkKind
from sorastudio.engine.polls import Poller, Result, Seen
from sorastudio.engine.predictor import DEFAULT_PREDICTOR_POLICY
from sorastudio.providers.base import Asset, Capabilities, ImageInput, RemoteJob
from sorastudio.store.models import ApiKind
from sorastudio.store.profiles import add_profile
from sorastudio.studio import AsyncStudio
from tests.engine.conftest import FAST_SETTINGS, KEY, emulator_config

pytestmark = pytest.mark.anyio
T = TypeVar("T")
T0 = 1_760_000_000.0
PROFILE = 1


class VirtualClock:
    """Engine clock on virtual time: `sleep` parks the caller until `drive` moves time to its wake-up,
    which it does whenever every task is parked (so concurrent sleeps overlap, as in real time)."""

    time_scale = 1.0

    def __init__(self) -> None:
        self.t = T0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = 0

    def time(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, tz=UTC)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        self._count += 1
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + seconds, self._count, wake))
        await wake

    async def drive(self, work: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(work)
        for _ in range(1_000_000):
            for _ in range(50):  # let every runnable task run until it parks
                await asyncio.sleep(0)
            if task.done():
                return task.result()
            assert self._sleepers, "deadlock: nothing runs and nothing sleeps"
            at, _, wake = heapq.heappop(self._sleepers)
            self.t = max(self.t, at)
            wake.set_result(None)
        raise AssertionError("virtual time ran away")


class FakeProvider:
    """Jobs that run linearly from `created + 0.1·d` to `created + d`; every request is timestamped."""

    capabilities = Capabilities(modes=frozenset({Mode.TEXT}), max_variants=1, assets=("video",))

    def __init__(self, clock: VirtualClock, durations: dict[str, float], *, latency: float = 0.05) -> None:
        self.clock = clock
        self.durations = durations
        self.latency = latency
        self.unlisted: set[str] = set()  # jobs a list page does not reach (older pages, say)
        self.requests: list[float] = []  # one timestamp per HTTP request (a list page counts once)
        self.status_calls = 0
        self.list_calls = 0

    def job(self, remote_id: str) -> RemoteJob:
        duration, t = self.durations[remote_id], self.clock.t - T0
        if t >= duration:
            return RemoteJob(id=remote_id, status=Status.COMPLETED, raw_status="completed", progress=100)
        progress = max(0, min(99, int(100 * (t - 0.1 * duration) / (0.9 * duration))))
        status = Status.RUNNING if t >= 0.1 * duration else Status.QUEUED
        created = datetime.fromtimestamp(T0, tz=UTC)
        return RemoteJob(
            id=remote_id, status=status, raw_status=status.value, progress=progress, created_at=created
        )

    async def status(self, remote_id: str) -> RemoteJob:
        self.status_calls += 1
        self.requests.append(self.clock.t)
        await self.clock.sleep(self.latency / 2)
        job = self.job(remote_id)
        await self.clock.sleep(self.latency / 2)
        return job

    async def list(self, since: datetime | None = None, limit: int = 100) -> builtins.list[RemoteJob]:
        self.list_calls += 1
        self.requests.extend([self.clock.t] * pages_for(limit))
        await self.clock.sleep(self.latency / 2)
        newest_first = [r for r in sorted(self.durations, reverse=True) if r not in self.unlisted][:limit]
        jobs = [self.job(remote_id) for remote_id in newest_first]
        await self.clock.sleep(self.latency / 2)
        return jobs

    async def submit(
        self, request: VideoRequest, *, image: ImageInput | None = None, model: str | None = None
    ) -> RemoteJob:
        raise NotImplementedError

    async def download(self, job: RemoteJob, directory: Path) -> builtins.list[Asset]:
        raise NotImplementedError

    async def remix(self, remote_id: str, prompt: str, *, model: str | None = None) -> RemoteJob:
        raise NotImplementedError

    async def delete(self, remote_id: str) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


def work(n: int, remote_id: str) -> Work:
    submitted = datetime.fromtimestamp(T0, tz=UTC)
    return Work(
        kind=WorkKind.POLL,
        generation_id=f"gen{n:04d}",
        profile_id=PROFILE,
        status=Status.RUNNING,
        prompt="p",
        model="sora-2",
        mode="text",
        width=1280,
        height=720,
        seconds=8,
        variants=1,
        fit=None,
        input_image_path=None,
        remix_source=None,
        remote_id=remote_id,
        remote_generation_ids=(remote_id,),
        deployment="sora-2",
        created_at=submitted,
        submitted_at=submitted,
        expires_at=None,
        attempts=0,
    )


def setup(
    jobs: int, per_minute: int, seed: int = 1
) -> tuple[VirtualClock, FakeProvider, Poller, dict[str, Work]]:
    rng = random.Random(seed)
    clock = VirtualClock()
    durations = {f"video_{n:04d}": rng.uniform(30.0, 300.0) for n in range(jobs)}
    provider = FakeProvider(clock, durations)
    budget = RequestBudget(time=clock.time, sleep=clock.sleep, window=60.0)
    budget.set_limit(PROFILE, per_minute)
    poller = Poller(clock, budget, DEFAULT_PREDICTOR_POLICY)  # type: ignore[arg-type]
    works = {}
    for n, remote_id in enumerate(durations):
        item = work(n, remote_id)
        works[item.generation_id] = item
    return clock, provider, poller, works


async def run_engine_polling(
    clock: VirtualClock, provider: FakeProvider, poller: Poller, works: dict[str, Work]
) -> dict[str, float]:
    """What the worker does with its poll steps, on a virtual clock: claim what is due, observe it in
    one go (`Poller.observe`), plan each job's next poll, re-plan the jobs a list read saw on the way.
    Returns when each generation was seen finished."""
    due_at: dict[str, float] = {}
    for gid, item in works.items():
        track = poller.track(item, ("e", "sora-2", 1280, 720, 8, 1), submitted=T0)
        track.observe(T0, 0)
        due_at[gid] = poller.plan(gid, T0)
    seen_done: dict[str, float] = {}
    for _ in range(100_000):
        if not due_at:
            return seen_done
        await clock.sleep(min(due_at.values()) - clock.t)
        due = [works[gid] for gid, at in due_at.items() if at <= clock.t]
        results, others = await poller.observe(provider, PROFILE, due)  # type: ignore[arg-type]
        for item in due:
            gid, result = item.generation_id, results[item.generation_id]
            assert isinstance(result, Seen)
            if result.job.status.terminal:
                seen_done[gid] = result.at
                poller.finish(gid, result.at)
                del due_at[gid]
            else:
                poller.tracks[gid].observe(result.at, result.job.progress)
                due_at[gid] = poller.plan(gid, clock.t, result.job.poll_hint)
        for gid, seen in others:
            if seen.job.status.terminal:
                poller.keep_seen(gid, seen)
                due_at[gid] = clock.t
            else:
                poller.tracks[gid].observe(seen.at, seen.job.progress)
                due_at[gid] = poller.plan(gid, clock.t)
    raise AssertionError("polling did not finish")


# -- the window ----------------------------------------------------------------------------------------


async def test_the_sliding_window_never_holds_more_than_the_limit() -> None:
    clock = VirtualClock()
    budget = RequestBudget(time=clock.time, sleep=clock.sleep, window=60.0, guard=0.0, burst=None)
    budget.set_limit("r", 3)
    assert [budget.take("r") for _ in range(4)] == [True, True, True, False]
    assert budget.wait_for("r") == pytest.approx(60.0)
    clock.t += 30.0
    assert budget.wait_for("r") == pytest.approx(30.0) and budget.used("r") == 3
    times: list[float] = []

    async def ten() -> None:  # waiters take tokens as the oldest ones leave the window
        for _ in range(10):
            await budget.acquire("r")
            times.append(clock.t)

    await clock.drive(ten())
    assert max_in_window(times, 59.999) <= 3
    assert times[-1] - T0 == pytest.approx(60.0 * 4)  # 3 a minute, not fewer: 13 requests in 4 minutes
    unlimited = RequestBudget(time=clock.time, sleep=clock.sleep)
    assert all(unlimited.take("x") for _ in range(1000)) and unlimited.wait_for("x") == 0.0


async def test_pacing_spreads_requests_and_keeps_the_window() -> None:
    clock = VirtualClock()
    budget = RequestBudget(time=clock.time, sleep=clock.sleep, window=60.0)  # burst 25 %, guard 1 %
    budget.set_limit("r", 60)
    times: list[float] = []

    async def many() -> None:
        for _ in range(200):
            await budget.acquire("r")
            times.append(clock.t)

    await clock.drive(many())
    assert times[14] == T0  # a burst of 15 at once…
    gaps = [b - a for a, b in itertools.pairwise(times[15:])]
    assert min(gaps) == pytest.approx(60.6 / 45)  # …then evenly, 45 a window
    assert max_in_window(times, 60.6) <= 60


async def test_the_guard_keeps_requests_apart_by_more_than_a_window() -> None:
    clock = VirtualClock()
    budget = RequestBudget(time=clock.time, sleep=clock.sleep, window=60.0, burst=None)  # 1 % guard
    budget.set_limit("r", 2)

    async def six() -> None:
        for _ in range(6):
            await budget.acquire("r")

    await clock.drive(six())
    assert budget.waited == pytest.approx(2 * 60.6)


async def test_concurrent_waiters_share_the_budget_in_order() -> None:
    clock = VirtualClock()
    budget = RequestBudget(time=clock.time, sleep=clock.sleep, window=60.0, guard=0.0)
    budget.set_limit("r", 2)
    order: list[tuple[int, float]] = []

    async def request(n: int) -> None:
        await budget.acquire("r")
        order.append((n, clock.t))

    async def five() -> None:
        await asyncio.gather(*(request(n) for n in range(5)))

    await clock.drive(five())
    assert [n for n, _ in order] == [0, 1, 2, 3, 4] and budget.taken["r"] == 5
    assert max_in_window([t for _, t in order], 59.999) <= 2


def test_bad_limits_are_refused_with_the_allowed_values() -> None:
    budget = RequestBudget(time=lambda: 0.0, sleep=VirtualClock().sleep)
    with pytest.raises(
        Exception, match="requests per minute=-1 is not allowed: a whole number, 0 for unlimited"
    ):
        budget.set_limit("r", -1)


# -- polling under the budget --------------------------------------------------------------------------


async def test_the_budget_holds_with_200_jobs_in_flight() -> None:
    clock, provider, poller, works = setup(200, per_minute=60)
    seen_done = await clock.drive(run_engine_polling(clock, provider, poller, works))
    assert len(seen_done) == 200  # every job was seen finished
    assert max_in_window(provider.requests, 60.0) <= 60
    assert len(provider.requests) > 60  # it ran long enough for the budget to matter
    # One list read observes them all (3 pages for 200 jobs), so detection stays prompt even so.
    delays = [seen_done[w.generation_id] - T0 - provider.durations[w.remote_id or ""] for w in works.values()]
    assert provider.list_calls > provider.status_calls
    # Even the first look of a cold start (no history: ~50 s in) and 200 jobs sharing 60 reads a minute
    # keep completion detection within seconds, half a minute at worst.
    assert sum(delays) / len(delays) < 6.0 and max(delays) < 30.0


async def test_a_tight_budget_slows_polling_but_never_breaks_it() -> None:
    clock, provider, poller, works = setup(30, per_minute=4)
    seen_done = await clock.drive(run_engine_polling(clock, provider, poller, works))
    assert len(seen_done) == 30
    assert max_in_window(provider.requests, 60.0) <= 4


async def test_one_list_read_observes_every_due_job_and_counts_once() -> None:
    clock, provider, poller, works = setup(5, per_minute=60)
    for item in works.values():
        poller.track(item, ("e", "sora-2", 1280, 720, 8, 1), submitted=T0)
    clock.t += 20.0
    due = list(works.values())[:3]
    results, others = await clock.drive(poller.observe(provider, PROFILE, due))  # type: ignore[arg-type]
    assert (provider.list_calls, provider.status_calls) == (1, 0)
    assert poller.budget.taken[PROFILE] == 1 and len(provider.requests) == 1
    assert set(results) == {w.generation_id for w in due}
    assert all(isinstance(r, Seen) and r.job.id == works[g].remote_id for g, r in results.items())
    assert {gid for gid, _ in others} == {w.generation_id for w in list(works.values())[3:]}  # seen for free


async def test_polls_that_come_due_while_a_list_read_waits_for_tokens_share_it() -> None:
    clock, provider, poller, works = setup(6, per_minute=4)
    for item in works.values():
        poller.track(item, ("e", "sora-2", 1280, 720, 8, 1), submitted=T0)
    assert poller.budget.take(PROFILE)  # the bucket is empty now: the next read waits ~20 s
    first, second = list(works.values())[:2], list(works.values())[2:4]

    async def both() -> list[tuple[dict[str, Result], list[tuple[str, Seen]]]]:
        return list(
            await asyncio.gather(
                poller.observe(provider, PROFILE, first), poller.observe(provider, PROFILE, second)
            )
        )  # type: ignore[arg-type]

    answers = await clock.drive(both())
    assert (provider.list_calls, provider.status_calls) == (1, 0)  # one read served both groups
    assert set(answers[0][0]) == {w.generation_id for w in first}
    assert set(answers[1][0]) == {w.generation_id for w in second}
    assert clock.t - T0 == pytest.approx(60.6 / 3, rel=0.01)


async def test_a_single_job_is_read_by_its_status_and_a_job_missing_from_the_list_too() -> None:
    clock, provider, poller, works = setup(3, per_minute=60)
    only = next(iter(works.values()))
    poller.track(only, ("e", "sora-2", 1280, 720, 8, 1), submitted=T0)
    results, _ = await clock.drive(poller.observe(provider, PROFILE, [only]))  # type: ignore[arg-type]
    assert (provider.list_calls, provider.status_calls) == (0, 1)  # one job in flight: a status read
    for item in works.values():
        poller.track(item, ("e", "sora-2", 1280, 720, 8, 1), submitted=T0)
    provider.unlisted.add(only.remote_id or "")  # the list will not show it…
    results, _ = await clock.drive(poller.observe(provider, PROFILE, list(works.values())))  # type: ignore[arg-type]
    assert (provider.list_calls, provider.status_calls) == (1, 2)  # …so it gets its own status read
    assert set(results) == set(works) and poller.budget.taken[PROFILE] == 3


# -- the worker ----------------------------------------------------------------------------------------


async def test_the_worker_keeps_every_request_within_the_profile_budget() -> None:
    scale, budget, jobs = 0.02, 12, 6
    times: list[tuple[float, str]] = []
    deployment = Deployment(name="sora-2", model="sora-2", running_cap=4, creates_per_minute=0)
    app = create_app(emulator_config(time_scale=scale, deployments=[deployment], poll_after_ms=0))
    app.add_middleware(Stamp, times=times)
    with running_server(app=app) as url:
        studio = AsyncStudio(emulator_url=url, clock=SystemClock(scale), worker_settings=FAST_SETTINGS)
        with studio.store.write() as session:
            add_profile(
                session,
                "tight",
                api_kind=ApiKind.AZURE_VIDEOS,
                endpoint=url,
                api_key=KEY,
                deployment="sora-2",
                model="sora-2",
                running_cap=4,
                creates_per_minute=0,
                requests_per_minute=budget,
            )
        handles = [
            await studio.generate(f"budget {n}", size="1280x720", seconds=4, profile="tight")
            for n in range(jobs)
        ]
        stop = asyncio.Event()
        worker = asyncio.create_task(studio.run_worker(stop))
        try:
            for _ in range(600):
                if all(h.status.terminal for h in handles):
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await worker
    assert [h.status for h in handles] == [Status.COMPLETED] * jobs
    # Tokens are taken as a request leaves; the window's 1 % guard covers its travel time.
    stamps = [at for at, _ in times]
    assert max_in_window(stamps, 60 * scale) <= budget
    assert any(kind == "list" for _, kind in times)  # observed with list reads
    assert len(stamps) <= jobs * 6  # creates and reads together


class Stamp:
    """ASGI middleware: arrival time and kind of every create, status and list request (not downloads)."""

    def __init__(self, app: ASGIApp, times: list[tuple[float, str]]) -> None:
        self.app = app
        self.times = times

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and "/videos" in path and "/content" not in path:
            tail = path.rstrip("/").rsplit("/videos", 1)[1]
            kind = "create" if scope["method"] == "POST" else ("status" if tail else "list")
            self.times.append((time.time(), kind))
        await self.app(scope, receive, send)


def test_pages_are_counted_per_hundred() -> None:
    assert [pages_for(n) for n in (1, 100, 101, 210)] == [1, 1, 2, 3]
