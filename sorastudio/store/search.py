"""Full-text search over prompts, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

The user's text is reduced to word tokens before it reaches a query language, so quotes, `AND`, `-`,
`NEAR` or `:` typed in a search box are just text. Every word must match, each as a prefix ("kit" finds
"kite"); both backends stem English words ("kites" finds "kite"). Best matches first, then newest.

The search objects are created by migration 0001: SQLite table `generation_fts` (kept in sync by
triggers on `generations`), PostgreSQL index `ix_generations_prompt_tsv` on
`to_tsvector('english', prompt)` — the expression below must stay identical for the index to be used.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from sorastudio.errors import ValidationError
from sorastudio.store.models import Generation

MAX_TERMS = 16
MAX_LIMIT = 1000
_WORD = re.compile(r"\w+")
_FTS = table("generation_fts", column("generation_id"), column("rank"))


def search_terms(query: str) -> list[str]:
    """The words of `query` that the search uses (at most `MAX_TERMS`)."""
    return _WORD.findall(query or "")[:MAX_TERMS]


def _check(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"{name}={value!r} is not allowed: a whole number from {low} to {high}", field=name, value=value
        )


def prompt_tsvector() -> ColumnElement[object]:
    """PostgreSQL expression matching the GIN index (a literal config, not a bound parameter)."""
    return func.to_tsvector(literal_column("'english'"), Generation.prompt)


def search_generations(session: Session, query: str, limit: int = 50, offset: int = 0) -> list[Generation]:
    """Generations whose prompt contains every word of `query`; `[]` if the query has no words."""
    _check("limit", limit, 1, MAX_LIMIT)
    _check("offset", offset, 0, 2**31 - 1)
    terms = search_terms(query)
    if not terms:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # Quoted so FTS5 operators (AND, OR, NOT, NEAR) typed by the user stay plain words.
        match = " ".join(f'"{term}"*' for term in terms)
        stmt = (
            select(Generation)
            .join(_FTS, _FTS.c.generation_id == Generation.id)
            .where(text("generation_fts MATCH :match").bindparams(match=match))
            .order_by(_FTS.c.rank, Generation.created_at.desc())
        )
    elif dialect == "postgresql":
        vector = prompt_tsvector()
        tsquery = func.to_tsquery(literal_column("'english'"), " & ".join(f"{term}:*" for term in terms))
        stmt = (
            select(Generation)
            .where(vector.op("@@")(tsquery))
            .order_by(func.ts_rank(vector, tsquery).desc(), Generation.created_at.desc())
        )
    else:  # no index: correct but slow
        stmt = select(Generation).order_by(Generation.created_at.desc())
        for term in terms:
            stmt = stmt.where(Generation.prompt.icontains(term, autoescape=True))
    return list(session.scalars(stmt.limit(limit).offset(offset)))
