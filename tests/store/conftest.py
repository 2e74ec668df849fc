"""Store fixtures: every test gets a fresh database, on SQLite and — when configured — PostgreSQL.

PostgreSQL runs when `SORASTUDIO_TEST_POSTGRES_URL` is set (e.g. `postgresql+psycopg://u:p@host/db`);
each test works in its own schema, dropped afterwards, so the database only needs CREATE rights.
To run *only* PostgreSQL in a CI job, set `SORASTUDIO_TEST_BACKENDS=postgresql`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sorastudio.store.db import Store, open_store

POSTGRES_URL_ENV = "SORASTUDIO_TEST_POSTGRES_URL"
BACKENDS = os.environ.get("SORASTUDIO_TEST_BACKENDS", "sqlite,postgresql").split(",")


def _postgres_schema_url(base_url: str) -> Iterator[str]:
    schema = f"sorastudio_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL to an empty database (not migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_URL_ENV}=postgresql+psycopg://user:pw@host/db")
    yield from _postgres_schema_url(base)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on every configured backend."""
    opened = open_store(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A migrated SQLite store (for behaviour that does not depend on the backend)."""
    opened = open_store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")
    try:
        yield opened
    finally:
        opened.close()
