"""Alembic environment: runs against `config.attributes["connection"]` when `store.db.upgrade()` passes
one, else against `sqlalchemy.url` from the config or `SORASTUDIO_DATABASE_URL` / the default SQLite file.

Full-text search objects (SQLite `generation_fts*` tables, PostgreSQL `ix_generations_prompt_tsv`) are
created by migrations only, so autogenerate must not see them.

SQLite runs in batch mode: an ALTER that SQLite cannot do recreates the table, which drops its
triggers — a migration that batch-alters `generations` must recreate the FTS triggers of 0001.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from sorastudio.store.db import create_db_engine, database_url
from sorastudio.store.models import Base

SEARCH_TABLE_PREFIX = "generation_fts"
SEARCH_INDEXES = frozenset({"ix_generations_prompt_tsv"})

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    if type_ == "table" and name and name.startswith(SEARCH_TABLE_PREFIX):
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the DDL for the configured URL's dialect (no connection)."""
    url = config.get_main_option("sqlalchemy.url") or database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        include_name=include_name,
        render_as_batch=url.startswith("sqlite"),
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
