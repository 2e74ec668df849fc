"""Claims and slots: which steps a worker may take now (part of `manager`, which re-exports it).

Claims. A generation is worked on by one worker at a time: `claimed_by` / `claimed_until` (a lease the
worker renews while it works). A killed worker's claims end with their lease, or at once when a worker
on the same machine sees that the claiming process is gone (`release_dead_claims`).

Slots, per profile (= provider resource + deployment), counted in the database so that any number of
workers in any number of processes share them:
* running: generations submitted and not yet finished remotely (`submitted_at` set, status queued,
  preprocessing or running) must stay below `profile.running_cap`;
* create rate: generations submitted within the last `window` seconds (60 s, time-scaled) must stay
  below `profile.creates_per_minute` (0 = no limit).
Claiming a submission sets `submitted_at` in the same transaction, so the slot is taken before the
create is sent, and a create whose answer never arrived stays counted until it is reconciled.
Order: higher `priority` first, then oldest first; only jobs whose `next_attempt_at` has come.
PostgreSQL: rows are picked `FOR UPDATE SKIP LOCKED` and slot counting per profile is serialized by a
transaction advisory lock; SQLite: the whole claim is one `BEGIN IMMEDIATE` transaction.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from sorastudio.domain import Status
from sorastudio.store.db import begin_immediate, is_sqlite
from sorastudio.store.models import Generation, Profile

ACTIVE = (Status.QUEUED.value, Status.PREPROCESSING.value, Status.RUNNING.value)
UNFINISHED = (*ACTIVE, Status.DOWNLOADING.value)
_ADVISORY_BASE = 0x50A5_0000  # + profile id: one PostgreSQL advisory lock per profile


class WorkKind(StrEnum):
    SUBMIT = "submit"
    RECONCILE = "reconcile"  # submitted, remote id unknown: find the job before any resubmission
    POLL = "poll"
    DOWNLOAD = "download"


@dataclass(frozen=True)
class Work:
    """What a worker needs to take one step on one generation (a snapshot of its row)."""

    kind: WorkKind
    generation_id: str
    profile_id: int
    status: Status
    prompt: str
    model: str
    mode: str
    width: int
    height: int
    seconds: int
    variants: int
    fit: str | None
    input_image_path: str | None
    remix_source: str | None  # remote id of the parent video (remix)
    remote_id: str | None
    remote_generation_ids: tuple[str, ...]
    deployment: str | None
    created_at: datetime
    submitted_at: datetime | None
    expires_at: datetime | None
    attempts: int

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def _work(generation: Generation, kind: WorkKind, remix_source: str | None) -> Work:
    assert generation.profile_id is not None
    return Work(
        kind=kind,
        generation_id=generation.id,
        profile_id=generation.profile_id,
        status=Status(generation.status),
        prompt=generation.prompt,
        model=generation.model,
        mode=generation.mode,
        width=generation.width,
        height=generation.height,
        seconds=generation.seconds,
        variants=generation.variants,
        fit=generation.fit,
        input_image_path=generation.input_image_path,
        remix_source=remix_source,
        remote_id=generation.remote_id,
        remote_generation_ids=tuple(generation.remote_generation_ids or ()),
        deployment=generation.deployment,
        created_at=generation.created_at,
        submitted_at=generation.submitted_at,
        expires_at=generation.expires_at,
        attempts=generation.attempts,
    )


def _kind(generation: Generation) -> WorkKind:
    if generation.status == Status.DOWNLOADING:
        return WorkKind.DOWNLOAD
    if generation.remote_id is not None:
        return WorkKind.POLL
    if generation.submitted_at is not None:
        return WorkKind.RECONCILE
    return WorkKind.SUBMIT


# -- claims --------------------------------------------------------------------------------------------


def _due(now: datetime) -> object:
    return and_(
        or_(Generation.next_attempt_at.is_(None), Generation.next_attempt_at <= now),
        or_(Generation.claimed_until.is_(None), Generation.claimed_until < now),
    )


def claim(
    session: Session, *, worker_id: str, now: datetime, lease: float, window: float, limit: int
) -> list[Work]:
    """Claim up to `limit` steps that are due: polls, downloads, reconciliations, then submissions
    within each profile's free slots. `window` is the create-rate window in seconds (60 × time scale)."""
    if limit <= 0:
        return []
    begin_immediate(session)
    until = now + timedelta(seconds=lease)
    claimed: list[Generation] = []
    started = (
        select(Generation)
        .where(
            Generation.status.in_(UNFINISHED),
            or_(Generation.remote_id.is_not(None), Generation.submitted_at.is_not(None)),
            Generation.profile_id.is_not(None),
            _due(now),
        )
        .order_by(Generation.next_attempt_at, Generation.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed.extend(session.scalars(started))
    for profile in _profiles_with_queued(session, now):
        room = limit - len(claimed)
        if room <= 0:
            break
        claimed.extend(_claim_submissions(session, profile, now=now, window=window, room=room))
    work = []
    for generation in claimed:
        kind = _kind(generation)
        if kind is WorkKind.SUBMIT:
            generation.submitted_at = now
        generation.claimed_by = worker_id
        generation.claimed_until = until
        work.append(_work(generation, kind, _remix_source(session, generation)))
    session.flush()
    return work


def _profiles_with_queued(session: Session, now: datetime) -> list[Profile]:
    ids = select(Generation.profile_id).where(
        Generation.status == Status.QUEUED.value, Generation.submitted_at.is_(None), _due(now)
    )
    return list(session.scalars(select(Profile).where(Profile.id.in_(ids)).order_by(Profile.id)))


def slot_usage(session: Session, profile_id: int, *, now: datetime, window: float) -> tuple[int, int]:
    """(running jobs, creates within the last `window` seconds) for one profile."""
    running = session.scalar(
        select(func.count())
        .select_from(Generation)
        .where(
            Generation.profile_id == profile_id,
            Generation.submitted_at.is_not(None),
            Generation.status.in_(ACTIVE),
        )
    )
    recent = session.scalar(
        select(func.count())
        .select_from(Generation)
        .where(
            Generation.profile_id == profile_id,
            Generation.submitted_at.is_not(None),
            Generation.submitted_at > now - timedelta(seconds=window),
        )
    )
    return int(running or 0), int(recent or 0)


def _claim_submissions(
    session: Session, profile: Profile, *, now: datetime, window: float, room: int
) -> list[Generation]:
    if not is_sqlite(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_BASE + profile.id})
    running, recent = slot_usage(session, profile.id, now=now, window=window)
    free = profile.running_cap - running
    if profile.creates_per_minute:
        free = min(free, profile.creates_per_minute - recent)
    free = min(free, room)
    if free <= 0:
        return []
    stmt = (
        select(Generation)
        .where(
            Generation.profile_id == profile.id,
            Generation.status == Status.QUEUED.value,
            Generation.submitted_at.is_(None),
            _due(now),
        )
        .order_by(Generation.priority.desc(), Generation.created_at, Generation.id)
        .limit(free)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def _remix_source(session: Session, generation: Generation) -> str | None:
    if generation.parent_id is None or generation.mode != "remix":
        return None
    return session.scalar(select(Generation.remote_id).where(Generation.id == generation.parent_id))


def next_wakeup(session: Session, *, now: datetime, window: float) -> datetime | None:
    """The earliest moment after `now` at which more work may become claimable: a due time, a lease
    end, or the end of the create-rate window of the oldest recent create. Work that is due but was
    not claimed is waiting for a slot, which only a finishing job frees (the worker wakes itself then)."""
    unfinished = Generation.status.in_(UNFINISHED)
    times = [
        session.scalar(
            select(func.min(Generation.next_attempt_at)).where(unfinished, Generation.next_attempt_at > now)
        ),
        session.scalar(
            select(func.min(Generation.claimed_until)).where(unfinished, Generation.claimed_until > now)
        ),
    ]
    oldest = session.scalar(
        select(func.min(Generation.submitted_at)).where(
            Generation.submitted_at > now - timedelta(seconds=window)
        )
    )
    if oldest is not None:
        times.append(oldest + timedelta(seconds=window))
    found = [t for t in times if t is not None]
    return min(found) if found else None


def renew(session: Session, worker_id: str, generation_ids: Iterable[str], until: datetime) -> int:
    """Extend the lease of claims this worker still holds; returns how many."""
    ids = list(generation_ids)
    if not ids:
        return 0
    rows = session.scalars(
        select(Generation).where(Generation.id.in_(ids), Generation.claimed_by == worker_id)
    )
    count = 0
    for generation in rows:
        generation.claimed_until = until
        count += 1
    return count


def release_dead_claims(session: Session, is_dead: Callable[[str], bool]) -> int:
    """Free claims whose worker is known to be gone (e.g. a killed process on this machine)."""
    owners = session.scalars(
        select(Generation.claimed_by).where(Generation.claimed_by.is_not(None)).distinct()
    )
    dead = [owner for owner in owners if owner and is_dead(owner)]
    if not dead:
        return 0
    rows = list(session.scalars(select(Generation).where(Generation.claimed_by.in_(dead))))
    for generation in rows:
        generation.claimed_by = None
        generation.claimed_until = None
    return len(rows)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_owner_is_dead(owner: str) -> bool:
    """True if `owner` names a process on this machine that no longer runs (never for other hosts)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed child not yet reaped is a zombie: dead for our purpose
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in ("Z", "X")


__all__ = [
    "ACTIVE",
    "UNFINISHED",
    "Work",
    "WorkKind",
    "claim",
    "claim_owner_is_dead",
    "next_wakeup",
    "release_dead_claims",
    "renew",
    "slot_usage",
    "worker_identity",
]
