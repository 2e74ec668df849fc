"""Full-text search over prompts stays in sync with the generations table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from sorastudio.errors import ValidationError
from sorastudio.store.db import Store
from sorastudio.store.models import Generation
from sorastudio.store.search import search_generations, search_terms
from tests.store.factories import generation

PROMPTS = {
    "kite": "Wide shot of a child flying a red kite in a grassy park, golden hour",
    "train": "A train journey through snowy mountains with dramatic lighting",
    "waterfall": "A serene mountain landscape with cascading waterfalls, cinematic drone shot",
}


def _seed(store: Store) -> dict[str, str]:
    ids = {}
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with store.write() as session:
        for n, (name, prompt) in enumerate(PROMPTS.items()):
            row = generation(prompt=prompt, created_at=start + timedelta(minutes=n))
            session.add(row)
            session.flush()
            ids[name] = row.id
    return ids


def _found(store: Store, query: str, **kw: int) -> list[str]:
    with store.session() as session:
        return [g.id for g in search_generations(session, query, **kw)]


def test_finds_by_word_prefix_and_stem(store: Store) -> None:
    ids = _seed(store)
    assert _found(store, "kite") == [ids["kite"]]
    assert _found(store, "KIT") == [ids["kite"]]  # prefix, case-insensitive
    assert _found(store, "kites") == [ids["kite"]]  # stemmed
    assert set(_found(store, "mountain")) == {ids["train"], ids["waterfall"]}
    assert _found(store, "mountain drone") == [ids["waterfall"]]  # every word must match
    assert _found(store, "submarine") == []


def test_query_syntax_is_plain_text(store: Store) -> None:
    ids = _seed(store)
    assert _found(store, "zebra OR kite") == []  # OR is not an operator: every word must match
    assert _found(store, '"kite" (park') == [ids["kite"]]  # unbalanced syntax is not an error
    assert _found(store, 'red: "kite"* -golden') == [ids["kite"]]
    assert _found(store, "  ") == []
    assert search_terms("it's a -kite-") == ["it", "s", "a", "kite"]


def test_follows_prompt_update_and_delete(store: Store) -> None:
    ids = _seed(store)
    with store.write() as session:
        session.execute(
            update(Generation)
            .where(Generation.id == ids["kite"])
            .values(prompt="A blue balloon over the sea")
        )
    assert _found(store, "kite") == []
    assert _found(store, "balloon") == [ids["kite"]]
    with store.write() as session:
        session.execute(delete(Generation).where(Generation.id == ids["train"]))
    assert _found(store, "train") == []
    assert _found(store, "mountain") == [ids["waterfall"]]


def test_limit_offset_and_ties_newest_first(store: Store) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with store.write() as session:
        rows = [
            generation(prompt="purple lanterns glowing", created_at=start + timedelta(minutes=n))
            for n in range(5)
        ]
        session.add_all(rows)
        session.flush()
        newest_first = [r.id for r in reversed(rows)]
    assert _found(store, "purple lantern") == newest_first
    assert _found(store, "lantern", limit=2, offset=1) == newest_first[1:3]
    with store.session() as session, pytest.raises(ValidationError, match="limit=0"):
        search_generations(session, "lantern", limit=0)
