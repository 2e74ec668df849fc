"""Read-side queries for the front doors (library, CLI, web): one generation, lists, events, delete.

Job-state changes are not here: they belong to `manager.py` and `transitions.py`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from sorastudio.domain import Mode, Status
from sorastudio.errors import ValidationError
from sorastudio.schemas import EventPublic, GenerationPublic
from sorastudio.store.models import Generation, GenerationEvent
from sorastudio.store.search import MAX_LIMIT, search_generations

_LOAD = (selectinload(Generation.assets), selectinload(Generation.profile))


def _missing(generation_id: str) -> ValidationError:
    return ValidationError(
        f"generation {generation_id!r} does not exist: `sorastudio list` shows the ids",
        field="generation_id",
        value=generation_id,
    )


def get_row(session: Session, generation_id: str) -> Generation:
    row = session.scalar(select(Generation).where(Generation.id == generation_id).options(*_LOAD))
    if row is None:
        raise _missing(generation_id)
    return row


def get(session: Session, generation_id: str) -> GenerationPublic:
    return GenerationPublic.of(get_row(session, generation_id))


def status(session: Session, generation_id: str) -> Status:
    value = session.scalar(select(Generation.status).where(Generation.id == generation_id))
    if value is None:
        raise _missing(generation_id)
    return Status(value)


def _choice(field: str, value: str, allowed: list[str]) -> str:
    if value not in allowed:
        raise ValidationError(
            f"{field}={value!r} is not allowed: choose one of {', '.join(allowed)}",
            field=field,
            value=value,
            allowed=allowed,
        )
    return value


def _check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit={limit!r} is not allowed: 1 to {MAX_LIMIT}", field="limit", value=limit)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValidationError(f"offset={offset!r} is not allowed: 0 or more", field="offset", value=offset)


def list_generations(
    session: Session,
    *,
    status: str | None = None,
    model: str | None = None,
    mode: str | None = None,
    query: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[GenerationPublic]:
    """Newest first (best match first with `query`), filtered by status, model and mode."""
    _check_page(limit, offset)
    if status is not None:
        _choice("status", str(status), [s.value for s in Status])
    if mode is not None:
        _choice("mode", str(mode), [m.value for m in Mode])
    if query and query.strip():
        # Full-text search ranks; filters apply to its matches (bounded by MAX_LIMIT).
        rows = search_generations(session, query, limit=MAX_LIMIT)
        rows = [
            r
            for r in rows
            if (status is None or r.status == status)
            and (model is None or r.model == model)
            and (mode is None or r.mode == mode)
        ][offset : offset + limit]
        return [get(session, r.id) for r in rows]
    stmt = select(Generation).options(*_LOAD).order_by(Generation.created_at.desc(), Generation.id.desc())
    if status is not None:
        stmt = stmt.where(Generation.status == str(status))
    if model is not None:
        stmt = stmt.where(Generation.model == model)
    if mode is not None:
        stmt = stmt.where(Generation.mode == str(mode))
    return [GenerationPublic.of(row) for row in session.scalars(stmt.limit(limit).offset(offset))]


def events(session: Session, generation_id: str, after: int = 0) -> list[EventPublic]:
    """The generation's events with id > `after`, oldest first."""
    rows = session.scalars(
        select(GenerationEvent)
        .where(GenerationEvent.generation_id == generation_id, GenerationEvent.id > after)
        .order_by(GenerationEvent.id)
    )
    return [EventPublic.of(row) for row in rows]


def delete(session: Session, generation_id: str) -> GenerationPublic:
    """Delete a finished generation's row (assets and events cascade; its ledger entry stays)."""
    row = get_row(session, generation_id)
    if not Status(row.status).terminal:
        raise ValidationError(
            f"generation {generation_id} is {row.status}: cancel it first, or wait for it to finish",
            field="generation_id",
            value=generation_id,
        )
    public = GenerationPublic.of(row)
    session.delete(row)
    session.flush()
    return public


__all__ = ["delete", "events", "get", "get_row", "list_generations", "status"]
