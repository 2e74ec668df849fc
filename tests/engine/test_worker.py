"""The worker against a live, time-scaled emulator: happy path, failure, resume, expiry, cancel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import av
import pytest

from sorastudio import ledger
from sorastudio.domain import Status
from sorastudio.emulator.config import Faults
from sorastudio.store.models import Generation, LedgerState
from sorastudio.studio import AsyncStudio
from tests.engine.conftest import FAST_SETTINGS, EmulatorRun, add_sora1_profile, fast_clock

pytestmark = pytest.mark.anyio


def _studio(run: EmulatorRun, database_url: str | None = None) -> AsyncStudio:
    studio = AsyncStudio(
        database_url=database_url, emulator_url=run.url, clock=fast_clock(), worker_settings=FAST_SETTINGS
    )
    add_sora1_profile(studio.store, run.url)
    return studio


async def _until(predicate: Callable[[], bool], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not reached within {seconds} s")


def _ledger_state(studio: AsyncStudio, generation_id: str) -> tuple[str, Decimal | None]:
    from sqlalchemy import select

    from sorastudio.store.models import LedgerEntry

    with studio.store.session() as session:
        entry = session.scalars(select(LedgerEntry).where(LedgerEntry.generation_id == generation_id)).one()
        return entry.state, entry.actual


async def test_generate_and_wait_downloads_every_variant(start_emulator: Callable[..., EmulatorRun]) -> None:
    run = start_emulator()
    studio = _studio(run)
    handle = await studio.generate("a red kite", size="480x480", seconds=1, variants=2, profile="sora1")
    assert handle.status is Status.QUEUED
    seen: list[tuple[Status, str | None]] = []
    result = await handle.wait(on_update=lambda event: seen.append((event.status, event.message)))
    assert result.status is Status.COMPLETED and result.progress == 100
    assert len(result.paths) == 2 and all(p.is_file() for p in result.paths)
    for path in result.paths:
        with av.open(str(path)) as container:
            assert container.streams.video[0].codec_context.width == 480
    assert {a.kind for a in result.assets} == {"video", "thumbnail"}
    assert seen[-1] == (Status.COMPLETED, "Video ready.")
    assert (Status.DOWNLOADING, "Downloading video...") in seen
    assert run.create_count == 1
    # 0.05 $/s × 1 s × 2 variants × (480×480)/(1280×720) = 0.025
    assert result.estimated_cost == result.actual_cost == Decimal("0.0250")
    assert _ledger_state(studio, handle.id) == (LedgerState.SETTLED, Decimal("0.0250"))
    events = await studio.events(handle.id)
    statuses = [e.status for e in events]
    assert statuses[0] is Status.QUEUED
    assert statuses[-2:] == [Status.DOWNLOADING, Status.COMPLETED]


async def test_two_workers_share_the_slots_on_every_backend(
    start_emulator: Callable[..., EmulatorRun], db_url: str
) -> None:
    run = start_emulator()
    studio = _studio(run, db_url)
    handles = [
        await studio.generate(f"shared {n}", size="480x480", seconds=1, profile="sora1") for n in range(4)
    ]
    stop = asyncio.Event()
    workers = [asyncio.create_task(studio.run_worker(stop)) for _ in range(2)]
    try:
        await _until(lambda: all(h.status.terminal for h in handles), 30)
    finally:
        stop.set()
        await asyncio.gather(*workers)
    assert [h.status for h in handles] == [Status.COMPLETED] * 4
    assert run.create_count == 4 and run.responses("POST", "collection", 429) == 0


async def test_a_failed_job_costs_nothing(start_emulator: Callable[..., EmulatorRun]) -> None:
    run = start_emulator()
    studio = _studio(run)
    handle = await studio.generate("blocked-by-moderation kite", size="480x480", seconds=1, profile="sora1")
    result = await handle.wait()
    assert result.status is Status.FAILED
    assert "moderation" in (result.error or "")
    assert result.actual_cost == Decimal("0")
    assert _ledger_state(studio, handle.id) == (LedgerState.RELEASED, Decimal("0"))
    with studio.store.session() as session:
        assert ledger.totals(session)[0].total == Decimal("0")


async def test_resume_mid_poll_after_restart(start_emulator: Callable[..., EmulatorRun]) -> None:
    run = start_emulator()
    studio = _studio(run)
    handle = await studio.generate("a lighthouse", size="480x480", seconds=1, profile="sora1")
    stop = asyncio.Event()
    first = asyncio.create_task(studio.run_worker(stop))
    await _until(lambda: handle.info.remote_id is not None)
    stop.set()
    await first
    info = handle.info
    assert info.status in (Status.QUEUED, Status.PREPROCESSING, Status.RUNNING)
    with studio.store.session() as session:
        row = session.get(Generation, handle.id)
        assert row is not None and row.claimed_by is None and row.next_attempt_at is not None
    result = await handle.wait()  # a new worker picks up the poll schedule from the database
    assert result.status is Status.COMPLETED and result.remote_id == info.remote_id
    assert run.create_count == 1


@pytest.mark.parametrize("expiry", [3600.0, 100.0])
async def test_job_completed_while_the_engine_was_down(
    start_emulator: Callable[..., EmulatorRun], expiry: float
) -> None:
    # Jobs take ~0.6 s; assets expire `expiry` emulated seconds (x 0.01) after creation.
    run = start_emulator(expiry_seconds=expiry)
    studio = _studio(run)
    handle = await studio.generate("an old harbour", size="480x480", seconds=1, profile="sora1")
    stop = asyncio.Event()
    worker = asyncio.create_task(studio.run_worker(stop))
    await _until(lambda: handle.info.remote_id is not None)
    stop.set()
    await worker
    await _until(lambda: run.running() == 0)  # completed remotely while we were down
    await asyncio.sleep(1.2 if expiry < 1000 else 0)  # …and, in the second case, expired
    result = await handle.wait()
    if expiry > 1000:
        assert result.status is Status.COMPLETED and result.paths[0].is_file()
    else:
        assert result.status is Status.EXPIRED
        assert "expired" in (result.error or "") and result.paths == []
    # Either way the video was made, so it was paid.
    assert result.actual_cost == result.estimated_cost
    assert _ledger_state(studio, handle.id)[0] == LedgerState.SETTLED


async def test_cancel_before_and_after_submission(start_emulator: Callable[..., EmulatorRun]) -> None:
    run = start_emulator()
    studio = _studio(run)
    queued = await studio.generate("never sent", size="480x480", seconds=1, profile="sora1")
    cancelled = await studio.cancel(queued.id)
    assert (cancelled.status, cancelled.actual_cost) == (Status.CANCELLED, Decimal("0"))

    running = await studio.generate("sent, then cancelled", size="480x480", seconds=1, profile="sora1")
    stop = asyncio.Event()
    worker = asyncio.create_task(studio.run_worker(stop))
    await _until(lambda: running.info.remote_id is not None)
    result = await studio.cancel(running.id)
    assert result.status is Status.CANCELLED and result.actual_cost == Decimal("0")
    await asyncio.sleep(0.3)  # the worker must not resurrect it
    stop.set()
    await worker
    assert running.status is Status.CANCELLED
    assert run.create_count == 1 and run.running() == 0  # deleted at the provider
    retried = await studio.retry(running.id)
    assert retried.id == running.id
    assert (await retried.wait()).status is Status.COMPLETED


async def test_a_stopped_engine_releases_its_claims_mid_download(
    start_emulator: Callable[..., EmulatorRun],
) -> None:
    run = start_emulator()
    run.app.state.faults.replace(Faults(slow=1.0, slow_seconds=1.5, paths=["/content"], methods=["GET"]))
    studio = _studio(run)
    studio.worker_settings = replace(FAST_SETTINGS, grace=0.0)  # cancel in-flight steps at once
    handle = await studio.generate("a slow download", size="480x480", seconds=1, profile="sora1")
    stop = asyncio.Event()
    worker = asyncio.create_task(studio.run_worker(stop))
    await _until(lambda: handle.status is Status.DOWNLOADING)
    await asyncio.sleep(0.2)  # the download is in flight
    stop.set()
    await worker
    with studio.store.session() as session:
        row = session.get(Generation, handle.id)
        assert row is not None
        assert (row.status, row.claimed_by, row.remote_id) == ("downloading", None, handle.info.remote_id)
    run.app.state.faults.replace(Faults())
    result = await handle.wait()  # resumes with the download; the job is not submitted again
    assert result.status is Status.COMPLETED and result.paths[0].is_file()
    assert run.create_count == 1
