"""Claims and slots in the database, without any network: order, running cap, create rate, leases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sorastudio.catalog import DEFAULT_CATALOG
from sorastudio.domain import Status, validate_request
from sorastudio.engine import manager
from sorastudio.engine.claims import claim_owner_is_dead
from sorastudio.engine.manager import WorkKind
from sorastudio.pricing import estimate
from sorastudio.providers.base import RemoteJob
from sorastudio.store.db import Store
from sorastudio.store.models import ApiKind, Generation, Profile
from sorastudio.store.profiles import add_profile

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WINDOW = 60.0


def _profile(store: Store, *, running_cap: int = 2, creates_per_minute: int = 0) -> int:
    with store.write() as session:
        return add_profile(
            session,
            "p",
            api_kind=ApiKind.AZURE_SORA1,
            endpoint="http://127.0.0.1:9",
            api_key="k",
            running_cap=running_cap,
            creates_per_minute=creates_per_minute,
        ).id


def _enqueue(store: Store, profile_id: int, prompt: str, *, at: datetime, priority: int = 0) -> str:
    validated = validate_request(
        {"prompt": prompt, "model": "sora", "size": "480x480", "seconds": 1},
        DEFAULT_CATALOG,
        provider="azure",
    )
    with store.write() as session:
        profile = session.get(Profile, profile_id)
        assert profile is not None
        row = manager.enqueue(session, validated, estimate(validated), profile, now=at, priority=priority)
        return row.id


def _claim(store: Store, now: datetime, worker: str = "w1", limit: int = 50) -> list[manager.Work]:
    with store.write() as session:
        return manager.claim(session, worker_id=worker, now=now, lease=30, window=WINDOW, limit=limit)


def _submitted(store: Store, work: manager.Work, worker: str, now: datetime) -> None:
    job = RemoteJob(id=f"task_{work.generation_id}", status=Status.RUNNING, raw_status="running")
    with store.write() as session:
        manager.record_submitted(
            session, work.generation_id, worker, job, now=now, next_poll=now + timedelta(seconds=100)
        )


def test_submissions_in_priority_then_fifo_order_within_running_cap(store: Store) -> None:
    pid = _profile(store, running_cap=2)
    a = _enqueue(store, pid, "a", at=T0)
    b = _enqueue(store, pid, "b", at=T0 + timedelta(seconds=1))
    c = _enqueue(store, pid, "c", at=T0 + timedelta(seconds=2), priority=5)
    first = _claim(store, T0 + timedelta(seconds=3))
    assert [w.generation_id for w in first] == [c, a]
    assert {w.kind for w in first} == {WorkKind.SUBMIT}
    # Both slots are taken from the moment of the claim (submitted_at is set), even by another worker.
    assert _claim(store, T0 + timedelta(seconds=4), worker="w2") == []
    with store.session() as session:
        assert manager.slot_usage(session, pid, now=T0 + timedelta(seconds=4), window=WINDOW) == (2, 2)
    # One job finishes remotely (downloading no longer holds a slot): b may go.
    for work in first:
        _submitted(store, work, "w1", T0 + timedelta(seconds=4))
    claimed = _claim(store, T0 + timedelta(seconds=200))  # polls are due by now
    assert {w.kind for w in claimed} == {WorkKind.POLL}
    with store.write() as session:
        done = RemoteJob(id=f"task_{c}", status=Status.COMPLETED, raw_status="succeeded")
        manager.start_download(session, c, "w1", done, now=T0 + timedelta(seconds=201))
        manager.release(session, a, "w1")
    nxt = _claim(store, T0 + timedelta(seconds=202))
    assert {(w.generation_id, w.kind) for w in nxt} == {(b, WorkKind.SUBMIT), (a, WorkKind.POLL)}


def test_create_rate_counts_a_sliding_window(store: Store) -> None:
    pid = _profile(store, running_cap=10, creates_per_minute=2)
    ids = [_enqueue(store, pid, f"job {i}", at=T0) for i in range(5)]
    assert len(_claim(store, T0)) == 2
    assert _claim(store, T0 + timedelta(seconds=30)) == []
    with store.session() as session:
        wake = manager.next_wakeup(session, now=T0 + timedelta(seconds=30), window=WINDOW)
    assert wake == T0 + timedelta(seconds=60)  # when the oldest create leaves the window
    later = _claim(store, T0 + timedelta(seconds=60, microseconds=1))
    assert [w.generation_id for w in later if w.kind is WorkKind.SUBMIT] == ids[2:4]


def test_a_429_gives_the_slot_back_and_waits(store: Store) -> None:
    pid = _profile(store, running_cap=1)
    gid = _enqueue(store, pid, "a", at=T0)
    (work,) = _claim(store, T0)
    with store.write() as session:
        manager.retry_later(
            session,
            gid,
            "w1",
            at=T0 + timedelta(seconds=10),
            message="rate limited",
            counts=False,
            unsubmit=True,
        )
    with store.session() as session:
        row = session.get(Generation, gid)
        assert row is not None
        assert (row.submitted_at, row.attempts, row.status) == (None, 0, "queued")
        assert manager.slot_usage(session, pid, now=T0, window=WINDOW) == (0, 0)
    assert _claim(store, T0 + timedelta(seconds=9)) == []
    assert [w.kind for w in _claim(store, T0 + timedelta(seconds=10))] == [WorkKind.SUBMIT]
    assert work.generation_id == gid


def test_leases_expire_and_a_lost_create_is_reconciled_not_resent(store: Store) -> None:
    pid = _profile(store)
    gid = _enqueue(store, pid, "a", at=T0)
    assert [w.kind for w in _claim(store, T0, worker="dead")] == [WorkKind.SUBMIT]
    assert _claim(store, T0 + timedelta(seconds=29), worker="w2") == []
    # The lease ran out with submitted_at set and no remote id: the create may have happened.
    (work,) = _claim(store, T0 + timedelta(seconds=31), worker="w2")
    assert (work.generation_id, work.kind) == (gid, WorkKind.RECONCILE)
    assert work.submitted_at == T0


def test_claims_of_a_dead_local_process_are_released(store: Store) -> None:
    pid = _profile(store)
    _enqueue(store, pid, "a", at=T0)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = f"{socket.gethostname()}:{child.pid}:x"
    alive = f"{socket.gethostname()}:{os.getppid()}:x"
    assert claim_owner_is_dead(dead)
    assert not claim_owner_is_dead(alive)
    assert not claim_owner_is_dead(f"elsewhere:{child.pid}:x")  # another machine: wait for the lease
    _claim(store, T0, worker=dead)
    with store.write() as session:
        assert manager.release_dead_claims(session, claim_owner_is_dead) == 1
    assert [w.kind for w in _claim(store, T0 + timedelta(seconds=1), worker="w2")] == [WorkKind.RECONCILE]
