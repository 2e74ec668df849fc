"""The only way a generation's status changes: `transition()`, checked against `ALLOWED`.

Every change (and every progress step worth showing) inserts a `GenerationEvent` in the caller's
transaction, so the status column and the event log can never disagree. Nothing here commits.

The life of a generation::

    queued ──> preprocessing ──> running ──> downloading ──> completed
      │              │              │             └────────> expired   (paid, but the files were gone)
      └──────────────┴──────────────┴──> failed | cancelled | expired
    failed, cancelled ──> queued                                       (retry: the same row again)

A status may "transition" to itself to record progress or a new message (no event if neither changed).
Backward moves (running → queued) are refused: a remote job does not un-start.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from sqlalchemy.orm import Session

from sorastudio.domain import Status
from sorastudio.errors import SorastudioError
from sorastudio.store.models import Generation, GenerationEvent, utcnow

_NOT_STARTED_EXITS = frozenset({Status.FAILED, Status.CANCELLED, Status.EXPIRED})

ALLOWED: Mapping[Status, frozenset[Status]] = MappingProxyType(
    {
        Status.QUEUED: frozenset(
            {Status.QUEUED, Status.PREPROCESSING, Status.RUNNING, Status.DOWNLOADING} | _NOT_STARTED_EXITS
        ),
        Status.PREPROCESSING: frozenset(
            {Status.PREPROCESSING, Status.RUNNING, Status.DOWNLOADING} | _NOT_STARTED_EXITS
        ),
        Status.RUNNING: frozenset({Status.RUNNING, Status.DOWNLOADING} | _NOT_STARTED_EXITS),
        # Once the provider has finished, the job is paid: it ends completed or (files lost) expired.
        Status.DOWNLOADING: frozenset({Status.DOWNLOADING, Status.COMPLETED, Status.EXPIRED}),
        Status.COMPLETED: frozenset(),
        Status.FAILED: frozenset({Status.QUEUED}),
        Status.CANCELLED: frozenset({Status.QUEUED}),
        Status.EXPIRED: frozenset(),
    }
)

# The seed's progress messages, by our status and by the provider's own word where it says more.
MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        Status.QUEUED: "Job queued...",
        Status.PREPROCESSING: "Preprocessing your request...",
        Status.RUNNING: "Generating video...",
        "processing": "Processing video...",
        "in_progress": "Generating video...",
        Status.DOWNLOADING: "Downloading video...",
        Status.COMPLETED: "Video ready.",
        Status.FAILED: "Generation failed.",
        Status.CANCELLED: "Cancelled.",
        Status.EXPIRED: "The video expired before it could be downloaded.",
    }
)


class InvalidTransition(SorastudioError):
    """A status change the table does not allow (e.g. completed → running, cancelled → downloading)."""

    def __init__(self, generation_id: str, current: Status, requested: Status) -> None:
        allowed = sorted(s.value for s in ALLOWED[current] if s is not current)
        choices = ", ".join(allowed) if allowed else "nothing (it is final)"
        super().__init__(
            f"generation {generation_id} is {current.value}: it cannot become {requested.value} "
            f"(from {current.value} it can become {choices})"
        )
        self.generation_id = generation_id
        self.current = current
        self.requested = requested


def message_for(status: Status, raw_status: str | None = None) -> str:
    """The user-facing line for a status, preferring the provider's finer word ("processing")."""
    if raw_status is not None and raw_status in MESSAGES and raw_status not in Status.__members__.values():
        return MESSAGES[raw_status]
    return MESSAGES.get(status, f"Status: {raw_status or status.value}")


def can_transition(current: Status | str, requested: Status | str) -> bool:
    return Status(requested) in ALLOWED[Status(current)]


def record_created(
    session: Session, generation: Generation, *, at: datetime | None = None
) -> GenerationEvent:
    """The first event of a new generation (its creation is not a change of status)."""
    event = GenerationEvent(
        generation_id=generation.id,
        at=at or utcnow(),
        status=generation.status,
        progress=generation.progress or 0,
        message=generation.status_message or MESSAGES[Status(generation.status)],
    )
    generation.status_message = event.message
    session.add(event)
    return event


def transition(
    session: Session,
    generation: Generation,
    status: Status | str,
    *,
    progress: int | None = None,
    message: str | None = None,
    error: str | None = None,
    at: datetime | None = None,
) -> GenerationEvent | None:
    """Move `generation` to `status` and log it; None when a self-transition changed nothing.

    Raises `InvalidTransition` if the table forbids the move. `error` is stored for failed/expired
    (and cleared on a retry to queued). Progress never goes backwards within one run.
    """
    current = Status(generation.status)
    target = Status(status)
    if target not in ALLOWED[current]:
        raise InvalidTransition(generation.id, current, target)
    when = at or utcnow()
    if target is Status.QUEUED and current is not Status.QUEUED:
        new_progress = 0  # a retry starts over
        generation.error = None
    elif target is Status.COMPLETED:
        new_progress = 100
    else:
        new_progress = max(
            generation.progress or 0, min(100, max(0, progress)) if progress is not None else 0
        )
    new_message = message or (generation.status_message if target is current else None) or message_for(target)
    if target is current and new_progress == generation.progress and new_message == generation.status_message:
        return None
    generation.status = target.value
    generation.progress = new_progress
    generation.status_message = new_message
    generation.updated_at = when
    if error is not None:
        generation.error = error
    if target is Status.COMPLETED:
        generation.completed_at = when
    event = GenerationEvent(
        generation_id=generation.id, at=when, status=target.value, progress=new_progress, message=new_message
    )
    session.add(event)
    return event


__all__ = [
    "ALLOWED",
    "MESSAGES",
    "InvalidTransition",
    "can_transition",
    "message_for",
    "record_created",
    "transition",
]
