"""Read-only queries the web pages need beyond `AsyncStudio.list`: keyset pages, the live queue,
the event feed and remix lineage. Nothing here writes; every change goes through `AsyncStudio`.

Gallery pages are keyset-paginated on `(created_at, id)` (the `ix_generations_*_created_at` indexes),
so page 2 000 costs what page 1 costs; `AsyncStudio.list` pages by offset, which scans every skipped
row. Search uses the full-text index (SQLite FTS5 / PostgreSQL GIN), newest first too; on SQLite it
pages by the FTS row id (see `_sqlite_search_page`). Cursors are opaque: callers pass back
`next_cursor`. (Candidates to move into `engine/queries.py` next to the library's listing.)
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, column, func, literal_column, or_, select, table, text
from sqlalchemy.orm import Session, selectinload

from sorastudio.domain import Mode, Status, join_choices
from sorastudio.errors import ValidationError
from sorastudio.schemas import EventPublic, GenerationPublic
from sorastudio.store.models import Generation, GenerationEvent
from sorastudio.store.search import prompt_tsvector, search_terms

MAX_PAGE = 200
MAX_LINEAGE = 500  # nodes shown in one lineage tree
MAX_DEPTH = 100  # remix-of-remix chain length followed up to the root
ACTIVE = tuple(s.value for s in Status if not s.terminal)
_LOAD = (selectinload(Generation.assets), selectinload(Generation.profile))
_FTS = table("generation_fts", column("generation_id"), column("rowid"))


@dataclass(frozen=True)
class GalleryFilter:
    status: str | None = None
    model: str | None = None
    mode: str | None = None
    since: date | None = None  # inclusive, UTC day
    until: date | None = None  # inclusive, UTC day
    query: str | None = None

    def checked(self) -> GalleryFilter:
        if self.status and self.status not in {s.value for s in Status}:
            raise _choice("status", self.status, [s.value for s in Status])
        if self.mode and self.mode not in {m.value for m in Mode}:
            raise _choice("mode", self.mode, [m.value for m in Mode])
        if self.since and self.until and self.since > self.until:
            raise ValidationError(
                f"since={self.since} is after until={self.until}: swap them",
                field="since",
                value=str(self.since),
            )
        return self


@dataclass(frozen=True)
class Page:
    items: list[GenerationPublic]
    next_cursor: str | None


@dataclass(frozen=True)
class LineageNode:
    generation: GenerationPublic
    depth: int
    children: list[LineageNode] = field(default_factory=list)


def _choice(name: str, value: str, allowed: list[str]) -> ValidationError:
    return ValidationError(
        f"{name}={value} is not allowed: choose {join_choices(allowed)}",
        field=name,
        value=value,
        allowed=allowed,
    )


def _encode(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise _bad_cursor(cursor) from None


def _bad_cursor(cursor: str) -> ValidationError:
    return ValidationError(
        "cursor is not one this server issued: use next_cursor from the previous page",
        field="cursor",
        value=cursor,
    )


def encode_cursor(row: Generation | GenerationPublic) -> str:
    return _encode(f"t|{row.created_at.astimezone(UTC).isoformat()}|{row.id}")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    kind, _, rest = _decode(cursor).partition("|")
    stamp, _, generation_id = rest.partition("|")
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        raise _bad_cursor(cursor) from None
    if kind != "t" or when.tzinfo is None or not generation_id:
        raise _bad_cursor(cursor)
    return when, generation_id


def _fts_cursor(cursor: str) -> int:
    kind, _, rowid = _decode(cursor).partition("|")
    if kind != "f" or not rowid.isdigit():
        raise _bad_cursor(cursor)
    return int(rowid)


def _filtered(stmt: Select[Any], flt: GalleryFilter) -> Select[Any]:
    if flt.status:
        stmt = stmt.where(Generation.status == flt.status)
    if flt.model:
        stmt = stmt.where(Generation.model == flt.model)
    if flt.mode:
        stmt = stmt.where(Generation.mode == flt.mode)
    if flt.since:
        stmt = stmt.where(Generation.created_at >= datetime.combine(flt.since, time.min, UTC))
    if flt.until:
        stmt = stmt.where(
            Generation.created_at < datetime.combine(flt.until + timedelta(days=1), time.min, UTC)
        )
    return stmt


def _page(rows: list[Generation], limit: int, cursor_of: Callable[[int], str]) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[GenerationPublic.of(row) for row in rows],
        next_cursor=cursor_of(len(rows) - 1) if more and rows else None,
    )


def _sqlite_search_page(
    session: Session, flt: GalleryFilter, terms: list[str], limit: int, cursor: str | None
) -> Page:
    """Search on SQLite, newest first by the FTS row id: FTS5 walks its matches in rowid order and
    stops at the page, where `id IN (all matches)` would collect every match of a common word first.
    The FTS row is written by the insert trigger, so rowid order is creation order."""
    # Quoted so FTS5 operators typed by the user (AND, NOT, NEAR) stay plain words; `*` = prefix.
    match = " ".join(f'"{term}"*' for term in terms)
    stmt = (
        select(Generation, _FTS.c.rowid)
        .join(_FTS, _FTS.c.generation_id == Generation.id)
        .where(text("generation_fts MATCH :match").bindparams(match=match))
        .options(*_LOAD)
    )
    if cursor:
        stmt = stmt.where(_FTS.c.rowid < _fts_cursor(cursor))
    rows = [
        (row[0], row[1])
        for row in session.execute(_filtered(stmt, flt).order_by(_FTS.c.rowid.desc()).limit(limit + 1))
    ]
    return _page([g for g, _ in rows], limit, lambda last: _encode(f"f|{rows[last][1]}"))


def _search(session: Session, terms: list[str]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.to_tsquery(literal_column("'english'"), " & ".join(f"{term}:*" for term in terms))
        return prompt_tsvector().op("@@")(tsquery)  # type: ignore[no-any-return]
    return and_(*(Generation.prompt.icontains(term, autoescape=True) for term in terms))


def gallery_page(session: Session, flt: GalleryFilter, *, limit: int = 24, cursor: str | None = None) -> Page:
    """One page of generations, newest first, after `cursor` (from the previous page's `next_cursor`)."""
    if isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit={limit} is not allowed: 1 to {MAX_PAGE}", field="limit", value=limit)
    flt = flt.checked()
    stmt = _filtered(select(Generation).options(*_LOAD), flt)
    if flt.query and flt.query.strip():
        terms = search_terms(flt.query)
        if not terms:
            return Page(items=[], next_cursor=None)  # only punctuation: nothing can match
        if session.get_bind().dialect.name == "sqlite":
            return _sqlite_search_page(session, flt, terms, limit, cursor)
        stmt = stmt.where(_search(session, terms))
    if cursor:
        when, last_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(Generation.created_at < when, and_(Generation.created_at == when, Generation.id < last_id))
        )
    stmt = stmt.order_by(Generation.created_at.desc(), Generation.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    return _page(rows, limit, lambda last: encode_cursor(rows[last]))


def active(session: Session, limit: int = MAX_PAGE) -> list[tuple[GenerationPublic, int | None]]:
    """Unfinished generations in the order the engine takes them, each with its place in our queue
    (1 = next to be sent) while it waits to be submitted; None once the provider has it."""
    rows = list(
        session.scalars(
            select(Generation)
            .options(*_LOAD)
            .where(Generation.status.in_(ACTIVE))
            .order_by(Generation.priority.desc(), Generation.created_at, Generation.id)
            .limit(limit)
        )
    )
    result: list[tuple[GenerationPublic, int | None]] = []
    waiting = 0
    for row in rows:
        place = None
        if row.status == Status.QUEUED.value and row.remote_id is None:
            waiting += 1
            place = waiting
        result.append((GenerationPublic.of(row), place))
    return result


def latest_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(GenerationEvent.id))) or 0)


def events_after(
    session: Session, after: int, *, generation_id: str | None = None, limit: int = 200
) -> list[EventPublic]:
    """Events with id > `after` across all generations (or one), oldest first."""
    stmt = select(GenerationEvent).where(GenerationEvent.id > after)
    if generation_id:
        stmt = stmt.where(GenerationEvent.generation_id == generation_id)
    return [EventPublic.of(row) for row in session.scalars(stmt.order_by(GenerationEvent.id).limit(limit))]


def lineage(session: Session, generation_id: str) -> LineageNode:
    """The remix tree containing `generation_id`: from its root source down through every remix."""
    current = session.get(Generation, generation_id)
    if current is None:
        raise ValidationError(
            f"generation {generation_id!r} does not exist", field="generation_id", value=generation_id
        )
    root = current
    for _ in range(MAX_DEPTH):
        if root.parent_id is None:
            break
        parent = session.get(Generation, root.parent_id)
        if parent is None:
            break
        root = parent
    rows: dict[str, Generation] = {}
    frontier: Sequence[str] = [root.id]
    rows[root.id] = root
    while frontier and len(rows) < MAX_LINEAGE:
        children = list(
            session.scalars(
                select(Generation)
                .where(Generation.parent_id.in_(frontier))
                .order_by(Generation.created_at, Generation.id)
                .limit(MAX_LINEAGE - len(rows))
            )
        )
        frontier = [child.id for child in children if child.id not in rows]
        rows.update((child.id, child) for child in children)
    loaded = {
        row.id: GenerationPublic.of(row)
        for row in session.scalars(select(Generation).options(*_LOAD).where(Generation.id.in_(list(rows))))
    }

    def build(generation_id: str, depth: int) -> LineageNode:
        node = LineageNode(generation=loaded[generation_id], depth=depth)
        kids = sorted(
            (g for g in loaded.values() if g.parent_id == generation_id), key=lambda g: g.created_at
        )
        node.children.extend(build(kid.id, depth + 1) for kid in kids if depth < MAX_DEPTH)
        return node

    return build(root.id, 0)


__all__ = [
    "GalleryFilter",
    "LineageNode",
    "Page",
    "active",
    "decode_cursor",
    "encode_cursor",
    "events_after",
    "gallery_page",
    "latest_event_id",
    "lineage",
]
