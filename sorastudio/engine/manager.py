"""Every database query of the engine (procrastinate's `manager.py`): enqueue, claim, record, finish.

Functions take a `Session` inside a write transaction (`Store.write()`: `BEGIN IMMEDIATE` on SQLite) and
never commit; the caller's transaction makes each step atomic. The worker calls them and never writes
SQL itself. They return plain `Work` snapshots, never ORM objects, so nothing lazy crosses an `await`.
Claims and slot counting live in `claims.py` and are re-exported here (`manager.claim`, …).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from sorastudio import ledger
from sorastudio.domain import Status, ValidatedRequest
from sorastudio.engine.claims import (
    ACTIVE,
    UNFINISHED,
    Work,
    WorkKind,
    claim,
    next_wakeup,
    release_dead_claims,
    renew,
    slot_usage,
)
from sorastudio.engine.transitions import InvalidTransition, message_for, record_created, transition
from sorastudio.errors import ValidationError
from sorastudio.pricing import Estimate
from sorastudio.providers.base import Asset as RemoteAsset
from sorastudio.providers.base import RemoteJob
from sorastudio.store.db import begin_immediate
from sorastudio.store.models import Asset, Generation, Profile

# -- enqueue -------------------------------------------------------------------------------------------


def enqueue(
    session: Session,
    validated: ValidatedRequest,
    estimate: Estimate,
    profile: Profile,
    *,
    now: datetime,
    priority: int = 0,
    generation_id: str | None = None,
    parent_id: str | None = None,
    input_image_path: str | None = None,
    deployment: str | None = None,
    today: date | None = None,
) -> Generation:
    """Insert a queued generation and reserve its estimate, atomically (raises `BudgetExceeded`).
    `deployment` overrides the profile's (the wire model name the job is sent with)."""
    begin_immediate(session)
    request = validated.request
    generation = Generation(
        profile_id=profile.id,
        endpoint=profile.endpoint,
        deployment=deployment or profile.deployment,
        model=validated.entry.model,
        mode=request.mode.value,
        prompt=request.prompt,
        width=validated.width,
        height=validated.height,
        seconds=request.seconds,
        variants=request.variants,
        fit=request.fit.value if request.image is not None else None,
        input_image_path=input_image_path,
        parent_id=parent_id,
        status=Status.QUEUED.value,
        priority=priority,
        progress=0,
        estimated_cost=estimate.total,
        created_at=now,
        updated_at=now,
        next_attempt_at=now,
        remote_generation_ids=[],
    )
    if generation_id is not None:
        generation.id = generation_id
    session.add(generation)
    session.flush()
    record_created(session, generation, at=now)
    ledger.reserve(session, generation, estimate.total, today=today)
    return generation


def _held(session: Session, generation_id: str, worker_id: str) -> Generation:
    """The row, if this worker still holds its claim; else `LostClaim` (someone else owns it now)."""
    generation = session.get(Generation, generation_id, populate_existing=True)
    if generation is None or generation.claimed_by != worker_id:
        raise LostClaim(generation_id)
    return generation


class LostClaim(Exception):
    """The generation was deleted or claimed by another worker after our lease ran out: drop the step."""


def _release(generation: Generation, next_attempt_at: datetime | None) -> None:
    generation.claimed_by = None
    generation.claimed_until = None
    generation.next_attempt_at = next_attempt_at


# -- recording a step's outcome ------------------------------------------------------------------------


def record_submitted(
    session: Session,
    generation_id: str,
    worker_id: str,
    job: RemoteJob,
    *,
    now: datetime,
    next_poll: datetime,
) -> None:
    """The create answered (or reconciliation found the job): store the remote id, then poll."""
    generation = _held(session, generation_id, worker_id)
    generation.remote_id = job.id
    generation.remote_generation_ids = list(job.generation_ids)
    generation.attempts = 0
    _advance(session, generation, job, now=now)
    _release(generation, next_poll)


def _advance(session: Session, generation: Generation, job: RemoteJob, *, now: datetime) -> None:
    """Follow a non-terminal remote status forward (never backward) and its progress."""
    order = [Status.QUEUED, Status.PREPROCESSING, Status.RUNNING]
    current = Status(generation.status)
    target = job.status if job.status in order else current
    if current in order and order.index(target) < order.index(current):
        target = current
    message = message_for(target, job.raw_status)
    transition(session, generation, target, progress=job.progress, message=message, at=now)


def record_status(
    session: Session,
    generation_id: str,
    worker_id: str,
    job: RemoteJob,
    *,
    now: datetime,
    next_poll: datetime,
) -> None:
    generation = _held(session, generation_id, worker_id)
    generation.attempts = 0
    _advance(session, generation, job, now=now)
    _release(generation, next_poll)


def start_download(
    session: Session, generation_id: str, worker_id: str, job: RemoteJob, *, now: datetime
) -> None:
    """The provider finished: remember where the files are and until when; keep the claim to download."""
    generation = _held(session, generation_id, worker_id)
    generation.expires_at = job.expires_at or generation.expires_at
    if job.generation_ids:
        generation.remote_generation_ids = list(job.generation_ids)
    generation.attempts = 0
    transition(session, generation, Status.DOWNLOADING, progress=100, at=now)


def finish_download(
    session: Session,
    generation_id: str,
    worker_id: str,
    assets: Sequence[tuple[RemoteAsset, str]],
    *,
    now: datetime,
    actual_cost: Decimal | None = None,
) -> None:
    """Store the asset rows (replacing any from an interrupted download), complete, settle the ledger."""
    generation = _held(session, generation_id, worker_id)
    for old in list(generation.assets):
        session.delete(old)
    session.flush()
    for asset, stored_path in assets:
        session.add(
            Asset(
                generation_id=generation.id,
                kind=asset.kind,
                variant=asset.variant,
                path=stored_path,
                bytes=asset.size_bytes,
                content_type=asset.content_type,
                sha256=asset.sha256,
                created_at=now,
            )
        )
    transition(session, generation, Status.COMPLETED, at=now)
    # The provider reports no price: what was estimated is what the published formula charges.
    ledger.settle(session, generation, actual_cost if actual_cost is not None else generation.estimated_cost)
    _release(generation, None)


def expire(
    session: Session, generation_id: str, worker_id: str | None, reason: str, *, now: datetime
) -> None:
    """The video was made (and paid) but could not be fetched before the provider dropped it."""
    generation = (
        _held(session, generation_id, worker_id) if worker_id else session.get(Generation, generation_id)
    )
    if generation is None:
        raise LostClaim(generation_id)
    transition(session, generation, Status.EXPIRED, error=reason, message=f"Expired: {reason}", at=now)
    ledger.settle(session, generation, generation.estimated_cost)
    _release(generation, None)


def fail(
    session: Session,
    generation_id: str,
    worker_id: str | None,
    reason: str,
    *,
    now: datetime,
    status: Status = Status.FAILED,
) -> None:
    """End as failed or cancelled: costs 0 (the reservation is released)."""
    generation = (
        _held(session, generation_id, worker_id) if worker_id else session.get(Generation, generation_id)
    )
    if generation is None:
        raise LostClaim(generation_id)
    label = "Failed" if status is Status.FAILED else "Cancelled"
    transition(session, generation, status, error=reason, message=f"{label}: {reason}", at=now)
    ledger.release(session, generation)
    _release(generation, None)


def retry_later(
    session: Session,
    generation_id: str,
    worker_id: str,
    *,
    at: datetime,
    message: str | None = None,
    counts: bool = True,
    unsubmit: bool = False,
    reset_attempts: bool = False,
) -> None:
    """Try the same step again at `at`. `unsubmit`: the create certainly did not happen (429,
    nothing sent, or reconciliation found no job), so the job gives its slot back."""
    generation = _held(session, generation_id, worker_id)
    if reset_attempts:
        generation.attempts = 0
    elif counts:
        generation.attempts += 1
    if unsubmit:
        generation.submitted_at = None
    if message:
        transition(session, generation, Status(generation.status), message=message, at=at)
    _release(generation, at)


def release(session: Session, generation_id: str, worker_id: str) -> None:
    """Give a claim back unchanged (shutdown); the step is due again at once."""
    generation = session.get(Generation, generation_id, populate_existing=True)
    if generation is not None and generation.claimed_by == worker_id:
        generation.claimed_by = None
        generation.claimed_until = None


def profile_row(session: Session, profile_id: int) -> Profile:
    profile = session.get(Profile, profile_id)
    if profile is None:
        raise ValidationError(f"profile #{profile_id} no longer exists", field="profile", value=profile_id)
    return profile


def known_remote_ids(session: Session, profile_id: int) -> set[str]:
    rows = session.scalars(
        select(Generation.remote_id).where(
            Generation.profile_id == profile_id, Generation.remote_id.is_not(None)
        )
    )
    return {row for row in rows if row}


# -- user actions ---------------------------------------------------------------------------------------


def cancel_queued(session: Session, generation_id: str, *, now: datetime, reason: str) -> Generation:
    """Cancel a job not yet sent (atomic against a claim). Returns the row, cancelled or as it is."""
    begin_immediate(session)
    generation = get_or_raise(session, generation_id)
    if generation.status == Status.QUEUED and generation.submitted_at is None:
        transition(
            session, generation, Status.CANCELLED, error=reason, message=f"Cancelled: {reason}", at=now
        )
        ledger.release(session, generation)
        _release(generation, None)
    return generation


def requeue(session: Session, generation_id: str, *, now: datetime, today: date | None = None) -> Generation:
    """Retry a failed or cancelled generation as the same row (reserving its estimate again)."""
    begin_immediate(session)
    generation = get_or_raise(session, generation_id)
    if Status(generation.status) not in (Status.FAILED, Status.CANCELLED):
        raise InvalidTransition(generation.id, Status(generation.status), Status.QUEUED)
    transition(session, generation, Status.QUEUED, at=now)
    generation.remote_id = None
    generation.remote_generation_ids = []
    generation.submitted_at = None
    generation.expires_at = None
    generation.completed_at = None
    generation.actual_cost = None
    generation.attempts = 0
    _release(generation, now)
    ledger.reserve(session, generation, generation.estimated_cost or Decimal(0), today=today)
    return generation


def get_or_raise(session: Session, generation_id: str) -> Generation:
    generation = session.get(Generation, generation_id, populate_existing=True)
    if generation is None:
        raise ValidationError(
            f"generation {generation_id!r} does not exist", field="generation_id", value=generation_id
        )
    return generation


__all__ = [
    "ACTIVE",
    "UNFINISHED",
    "InvalidTransition",
    "LostClaim",
    "Work",
    "WorkKind",
    "cancel_queued",
    "claim",
    "enqueue",
    "expire",
    "fail",
    "finish_download",
    "get_or_raise",
    "known_remote_ids",
    "next_wakeup",
    "profile_row",
    "record_status",
    "record_submitted",
    "release",
    "release_dead_claims",
    "renew",
    "requeue",
    "retry_later",
    "slot_usage",
    "start_download",
]
