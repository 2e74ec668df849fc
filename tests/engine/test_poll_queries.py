"""engine/poll_queries.py against a real database: durations learned from finished generations, recorded
progress for a worker that takes a job over, and rescheduling only rows nobody holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from sorastudio.domain import Status
from sorastudio.engine import poll_queries
from sorastudio.engine.predictor import DurationBook
from sorastudio.store.models import Generation
from sorastudio.studio import AsyncStudio
from tests.engine.conftest import FAST_SETTINGS, SCALE, EmulatorRun, add_sora1_profile, fast_clock

pytestmark = pytest.mark.anyio


async def test_durations_observations_and_rescheduling(start_emulator: Callable[..., EmulatorRun]) -> None:
    run = start_emulator()
    studio = AsyncStudio(emulator_url=run.url, clock=fast_clock(), worker_settings=FAST_SETTINGS)
    profile_id = add_sora1_profile(studio.store, run.url)
    handles = [
        await studio.generate(f"learn {n}", size="480x480", seconds=1, profile="sora1") for n in range(2)
    ]
    for handle in handles:
        assert (await handle.wait()).status is Status.COMPLETED
    planned = {job.id: job.duration for job in run.jobs}  # real seconds, as the emulator planned them

    with studio.store.session() as session:
        learned = poll_queries.learned_durations(session)
        endpoint, per_minute = poll_queries.profile_budget(session, profile_id)
        rows = {g.remote_id: g for g in session.scalars(select(Generation))}
    assert per_minute == 60 and endpoint
    key = poll_queries.duration_key(endpoint, "sora", 480, 480, 1, 1)
    assert [k for k, _ in learned] == [key, key]
    # From submission until the worker saw it done: the planned duration, plus at most a poll's delay.
    by_submission = sorted(rows, key=lambda r: rows[r].submitted_at or rows[r].created_at)
    for (_, seconds), remote_id in zip(learned, by_submission, strict=True):
        assert planned[remote_id] - 0.05 <= seconds <= planned[remote_id] + 0.5
    book = DurationBook()
    book.extend((k, s / SCALE) for k, s in learned)  # provider seconds, as the worker stores them
    assert 40 < book.prior(key).median < 90  # the emulator's 60 s (× jitter), not the catalog's guess

    gid = handles[0].id
    with studio.store.session() as session:
        observed = poll_queries.past_observations(session, gid)
    assert observed and observed[0][1] == 0  # queued at 0 %, then whatever the polls recorded

    with studio.store.write() as session:
        first, second = (session.get(Generation, h.id) for h in handles)
        assert first is not None and second is not None
        for row in (first, second):
            row.status = Status.RUNNING.value  # pretend both still run, one claimed by a worker
        second.claimed_by = "someone"
        now = second.updated_at
        second.claimed_until = now + timedelta(seconds=30)
        at = now + timedelta(seconds=5)
        stale = [(first.id, "another-remote-id", at)]  # an observation of some other job: ignored
        assert poll_queries.reschedule(session, stale, now=now) == 0
        moves = [(first.id, first.remote_id or "", at), (second.id, second.remote_id or "", at)]
        assert poll_queries.reschedule(session, moves, now=now) == 1
        assert first.next_attempt_at == at and second.next_attempt_at != at
