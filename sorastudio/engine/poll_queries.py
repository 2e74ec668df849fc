"""The database side of polling: learned durations, past observations, budgets and rescheduling.

Like `manager.py`, functions take a `Session` inside the caller's transaction and never commit; they
return plain values. Kept apart from `manager.py` (job lifecycle) because they only feed the predictor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sorastudio.domain import Status
from sorastudio.engine.claims import ACTIVE
from sorastudio.engine.predictor import DurationKey
from sorastudio.store.models import Generation, GenerationEvent, Profile

# Statuses that mean "the provider finished this job" (and when we noticed: the downloading event).
_FINISHED = (Status.DOWNLOADING.value, Status.COMPLETED.value, Status.EXPIRED.value)


def profile_budget(session: Session, profile_id: int) -> tuple[str, int]:
    """(endpoint, requests per minute; 0 = unlimited) of a profile."""
    profile = session.get(Profile, profile_id)
    if profile is None:
        return "", 0
    return profile.endpoint, profile.requests_per_minute


def duration_key(
    endpoint: str | None, model: str, width: int, height: int, seconds: int, variants: int
) -> DurationKey:
    return ((endpoint or "").rstrip("/").lower(), model, width, height, seconds, variants)


def learned_durations(session: Session, *, limit: int = 1000) -> list[tuple[DurationKey, float]]:
    """(key, seconds from submission until we saw the job finished) for the latest finished jobs,
    oldest first (so that a `DurationBook` keeps the newest). Seconds are the clock's (real) seconds."""
    seen = (
        select(GenerationEvent.generation_id, func.min(GenerationEvent.at).label("at"))
        .where(GenerationEvent.status == Status.DOWNLOADING.value)
        .group_by(GenerationEvent.generation_id)
        .subquery()
    )
    rows = session.execute(
        select(Generation, seen.c.at)
        .join(seen, seen.c.generation_id == Generation.id)
        .where(Generation.status.in_(_FINISHED), Generation.submitted_at.is_not(None))
        .order_by(Generation.submitted_at.desc())
        .limit(limit)
    ).all()
    found: list[tuple[DurationKey, float]] = []
    for generation, at in reversed(rows):
        assert generation.submitted_at is not None
        seconds = (_aware(at) - generation.submitted_at).total_seconds()
        if seconds > 0:
            key = duration_key(
                generation.endpoint,
                generation.model,
                generation.width,
                generation.height,
                generation.seconds,
                generation.variants,
            )
            found.append((key, seconds))
    return found


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def past_observations(session: Session, generation_id: str) -> list[tuple[datetime, int]]:
    """(time, progress) of the generation's recorded progress while it ran (for a worker that takes
    over a job another worker polled: events record every change of progress)."""
    rows = session.execute(
        select(GenerationEvent.at, GenerationEvent.progress)
        .where(GenerationEvent.generation_id == generation_id, GenerationEvent.status.in_(ACTIVE))
        .order_by(GenerationEvent.id)
    ).all()
    return [(at, progress) for at, progress in rows if progress is not None]


def reschedule(session: Session, items: Sequence[tuple[str, str, datetime]], *, now: datetime) -> int:
    """Move the next poll of generations nobody holds a claim on (`(id, remote id, when)`): after a list
    read observed them. Returns how many moved; rows claimed, finished or reassigned are left alone."""
    if not items:
        return 0
    wanted = {gid: (remote_id, at) for gid, remote_id, at in items}
    rows = session.scalars(
        select(Generation).where(Generation.id.in_(list(wanted)), Generation.status.in_(ACTIVE))
    )
    moved = 0
    for generation in rows:
        remote_id, at = wanted[generation.id]
        if generation.remote_id != remote_id:
            continue
        if generation.claimed_until is not None and generation.claimed_until >= now:
            continue
        generation.next_attempt_at = at
        moved += 1
    return moved


__all__ = [
    "duration_key",
    "learned_durations",
    "past_observations",
    "profile_budget",
    "reschedule",
]
