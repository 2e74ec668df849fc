"""Injected faults: 429 with Retry-After, 500, the early 404, truncated downloads and JSON bodies in
process; dropped connections (which need a real socket) against uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from sorastudio.domain import Status, VideoRequest
from sorastudio.emulator.app import create_app
from sorastudio.emulator.config import EmulatorConfig, Faults
from sorastudio.emulator.server import running_server
from sorastudio.emulator.state import EmulatorState
from sorastudio.errors import ContentError, ServerError, SubmitOutcomeUnknown
from sorastudio.providers.auth import ApiKeyHeader
from sorastudio.providers.base import RemoteJob, find_submitted
from sorastudio.providers.endpoints import normalize_endpoint
from sorastudio.providers.polling import PollPolicy, wait
from sorastudio.providers.retry import RetryPolicy, TruncatedContent
from sorastudio.providers.videos_api import VideosAPI
from tests.providers.conftest import KEY, Emulator, probe

SORA2 = VideoRequest(prompt="A lighthouse in a storm", model="sora-2", size="720x1280", seconds=4)
SORA1 = VideoRequest(prompt="A red kite", model="sora", size="480x480", seconds=1)


def names_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def status_reads(emulator: Emulator, job_id: str) -> int:
    return sum(1 for r in emulator.requests if r.method == "GET" and r.url.path.endswith(job_id))


async def finished(emulator: Emulator, api: VideosAPI) -> RemoteJob:
    created = await api.submit(SORA2)
    done = await wait(api, created.id, sleep=emulator.sleep, clock=emulator.clock.now)
    assert done.status is Status.COMPLETED
    emulator.sleeps.clear()
    return done


# -- in process --------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_429_on_status_is_retried_after_the_time_asked(emulator: Emulator) -> None:
    async with emulator.azure_videos() as api:
        created = await api.submit(SORA2)
        emulator.faults(rate_limit=1.0, rate_limit_retry_after=2.5, paths=["/videos/"], methods=["GET"])
        emulator.on_sleep = lambda: emulator.faults()  # the service recovers while we wait
        job = await api.status(created.id)
    assert job.id == created.id
    assert emulator.sleeps == [2.5]  # Retry-After honoured exactly (retry-after-ms)
    assert emulator.state.fault_counts["rate_limit"] == 1
    assert status_reads(emulator, created.id) == 2


@pytest.mark.anyio
async def test_a_429_on_sora1_status_is_retried_too(emulator: Emulator) -> None:
    async with emulator.sora1() as sora:
        created = await sora.submit(SORA1)
        emulator.faults(rate_limit=1.0, rate_limit_retry_after=4.0, paths=["/jobs/"], methods=["GET"])
        emulator.on_sleep = lambda: emulator.faults()
        job = await sora.status(created.id)
    assert job.status is Status.QUEUED
    assert emulator.sleeps == [4.0]


@pytest.mark.anyio
async def test_a_500_on_status_is_retried_with_backoff(emulator: Emulator) -> None:
    async with emulator.openai() as api:
        created = await api.submit(SORA2)
        emulator.faults(server_error=1.0, paths=["/videos/"], methods=["GET"])
        emulator.on_sleep = lambda: emulator.faults()
        job = await api.status(created.id)
    assert job.id == created.id
    assert len(emulator.sleeps) == 1 and 0.375 <= emulator.sleeps[0] <= 0.5


@pytest.mark.anyio
async def test_a_persistent_500_is_reported_after_the_retry_budget(emulator: Emulator) -> None:
    async with emulator.openai(retry=RetryPolicy(attempts=3)) as api:
        created = await api.submit(SORA2)
        emulator.faults(server_error=1.0, paths=["/videos/"], methods=["GET"])
        with pytest.raises(ServerError, match="500"):
            await api.status(created.id)
    assert emulator.state.fault_counts["server_error"] == 3


@pytest.mark.anyio
async def test_the_early_404_after_create_is_waited_out(emulator: Emulator) -> None:
    emulator.faults(not_found_after_create_seconds=2.5)
    async with emulator.openai() as api:
        created = await api.submit(SORA2)
        done = await wait(api, created.id, sleep=emulator.sleep, clock=emulator.clock.now)
    assert done.status is Status.COMPLETED
    assert emulator.state.fault_counts["not_found_after_create"] >= 1
    assert emulator.sleeps[:2] == [1.0, 2.0]  # short waits while the job is not visible


@pytest.mark.anyio
async def test_a_json_body_on_content_is_never_saved(emulator: Emulator, tmp_path: Path) -> None:
    async with emulator.azure_videos() as api:
        done = await finished(emulator, api)
        emulator.faults(json_on_content=1.0)
        with pytest.raises(ContentError, match="JSON body instead of the file"):
            await api.download(done, tmp_path)
    assert names_in(tmp_path) == []
    assert emulator.state.fault_counts["json_on_content"] == 1  # a wrong body is not retried blindly


@pytest.mark.anyio
async def test_a_json_body_on_sora1_content_is_never_saved(emulator: Emulator, tmp_path: Path) -> None:
    async with emulator.sora1() as sora:
        created = await sora.submit(SORA1)
        done = await wait(sora, created.id, sleep=emulator.sleep, clock=emulator.clock.now)
        emulator.faults(json_on_content=1.0, json_on_content_status=200)
        with pytest.raises(
            ContentError, match=r"JSON body instead of the file \(The requested content is not available\.\)"
        ):
            await sora.download(done, tmp_path)
    assert names_in(tmp_path) == []


# -- a real server: dropped connections ---------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[tuple[str, FastAPI]]:
    app = create_app(EmulatorConfig(time_scale=0.01))
    with running_server(app=app) as url:
        yield url, app


class RetrySleep:
    """The providers' retry sleep for the real-server tests: records, runs a one-shot hook, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.hook: Callable[[], None] | None = None

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        await asyncio.sleep(0)


def real_provider(url: str, sleep: RetrySleep) -> VideosAPI:
    return VideosAPI(
        normalize_endpoint(f"{url}/openai/v1", api="azure_videos"),
        auth=ApiKeyHeader(KEY),
        deployment="sora-2",
        sleep=sleep,
    )


def set_faults(app: FastAPI, **settings: Any) -> None:
    app.state.faults.replace(Faults(**settings))


@pytest.mark.anyio
async def test_a_dropped_connection_on_a_read_is_retried(server: tuple[str, FastAPI]) -> None:
    url, app = server
    sleep = RetrySleep()
    async with real_provider(url, sleep) as api:
        created = await api.submit(SORA2)
        set_faults(app, drop_connection=1.0, paths=["/videos/"], methods=["GET"])
        sleep.hook = lambda: set_faults(app)
        job = await api.status(created.id)
    assert job.id == created.id
    assert len(sleep.calls) == 1
    state: EmulatorState = app.state.emulator
    assert state.fault_counts["drop_connection"] == 1


@pytest.mark.anyio
async def test_a_dropped_create_is_not_resent_and_is_found_by_listing(
    server: tuple[str, FastAPI], tmp_path: Path
) -> None:
    url, app = server
    state: EmulatorState = app.state.emulator
    sleep = RetrySleep()
    async with real_provider(url, sleep) as api:
        set_faults(app, drop_connection=1.0, paths=["/videos"], methods=["POST"])
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await api.submit(SORA2)
        set_faults(app)
        lost = caught.value
        assert (lost.prompt, lost.model, lost.size, lost.seconds) == (SORA2.prompt, "sora-2", "720x1280", 4)
        assert state.store.create_count == 1  # the service did create it; we sent it once
        assert sleep.calls == []

        candidates = await find_submitted(api, lost)
        assert len(candidates) == 1
        job = candidates[0]
        done = await wait(api, job.id, policy=PollPolicy().scaled(0.01), timeout=30)
        assert done.status is Status.COMPLETED
        # A different prompt in the same window is not mistaken for it.
        other = await api.submit(SORA2.model_copy(update={"prompt": "gore elsewhere"}))
        assert [c.id for c in await find_submitted(api, lost)] == [job.id]
        assert other.id != job.id
        assets = await api.download(done, tmp_path)
    assert probe(assets[0].path).width == 720


@pytest.mark.anyio
async def test_a_connection_cut_mid_download_leaves_nothing_and_a_retry_succeeds(
    server: tuple[str, FastAPI], tmp_path: Path
) -> None:
    url, app = server
    state: EmulatorState = app.state.emulator
    sleep = RetrySleep()
    async with real_provider(url, sleep) as api:
        created = await api.submit(SORA2)
        done = await wait(api, created.id, policy=PollPolicy().scaled(0.01), timeout=30)
        set_faults(app, truncate_download=1.0)
        with pytest.raises(TruncatedContent, match="the connection broke after"):
            await api.download(done, tmp_path)
        assert names_in(tmp_path) == []  # no partial video, no temporary file
        assert state.fault_counts["truncate_download"] == RetryPolicy().attempts

        # A transient cut is retried within the same download call.
        set_faults(app, truncate_download=1.0)
        sleep.calls.clear()
        sleep.hook = lambda: set_faults(app)
        assets = await api.download(done, tmp_path)
    assert len(sleep.calls) == 1
    assert [a.kind for a in assets] == ["video", "thumbnail", "spritesheet"]
    info = probe(assets[0].path)
    assert (info.codec, info.width, info.height) == ("h264", 720, 1280)
    assert names_in(tmp_path) == sorted(a.path.name for a in assets)
