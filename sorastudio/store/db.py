"""Where the database lives, how we connect to it, and how its schema is kept current.

* `data_home()` — `SORASTUDIO_HOME` if set, else the platform's user data dir; it holds the SQLite file,
  the media folder and the secret key file.
* `database_url()` — `SORASTUDIO_DATABASE_URL` (e.g. `postgresql+psycopg://…`) or
  `sqlite:///<data_home>/sorastudio.db`.
* `open_store()` — engine + session factory, after running the Alembic migrations to head.
* `begin_immediate(session)` — start a SQLite *write* transaction (`BEGIN IMMEDIATE`) so that
  read-check-write sequences (budget reservations, engine claims) serialize across processes.
  On PostgreSQL it is a no-op: there the callers lock rows with `SELECT … FOR UPDATE`.

SQLite connections run in WAL mode with `foreign_keys=ON` and a busy timeout. pysqlite's own implicit
transaction handling is switched off and we emit `BEGIN` ourselves (the SQLAlchemy-documented recipe),
because that is the only way to choose `BEGIN IMMEDIATE` and to get transactional DDL.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

HOME_ENV = "SORASTUDIO_HOME"
DATABASE_URL_ENV = "SORASTUDIO_DATABASE_URL"
DB_FILE_NAME = "sorastudio.db"
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Connection execution option read by the "begin" hook: "IMMEDIATE" or absent (plain BEGIN).
_BEGIN_OPTION = "sorastudio_sqlite_begin"
# session.info keys: marks sessions made by a Store, and the BEGIN mode of the open transaction.
_STORE_SESSION = "sorastudio.store_session"
_TX_MODE = "sorastudio.tx_mode"
# Any constant works; it only has to be the same for every process migrating the same database.
_PG_MIGRATION_LOCK = 0x50A2A5


def data_home() -> Path:
    """The folder holding the SQLite database, media and key file (created, owner-only, if missing)."""
    configured = os.environ.get(HOME_ENV)
    home = Path(configured).expanduser() if configured else Path(platformdirs.user_data_dir("sorastudio"))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


def database_url() -> str:
    """`SORASTUDIO_DATABASE_URL`, else the SQLite file in `data_home()`."""
    configured = os.environ.get(DATABASE_URL_ENV)
    if configured:
        return configured
    return f"sqlite:///{data_home() / DB_FILE_NAME}"


def create_db_engine(url: str | None = None) -> Engine:
    """An Engine for `url` (default `database_url()`); SQLite engines get the pragmas and BEGIN hooks."""
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pool_pre_ping: long-running workers outlive server-side idle timeouts.
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # Room for many worker/web threads; each holds a connection only for one short transaction.
    engine = create_engine(
        url, pool_size=10, max_overflow=40, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}
    )
    _install_sqlite_hooks(engine)
    return engine


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module docstring)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _enable_wal(cursor)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent; a no-op once done).

    Two connections switching a fresh file at the same moment can deadlock on the lock upgrade, and
    SQLite then answers one of them "database is locked" at once instead of calling the busy handler.
    The other one succeeds, so retrying briefly finds the file in WAL mode. Bounded: ~2.5 s at most.
    """
    for attempt in range(1, 31):
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 30:
                raise
            time.sleep(0.005 * attempt)


def is_sqlite(bind: Session | Engine | Connection) -> bool:
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name == "sqlite"
    return bind.dialect.name == "sqlite"


def begin_immediate(session: Session) -> None:
    """Make the session's current transaction a SQLite write transaction (`BEGIN IMMEDIATE`).

    Must be called before the transaction touches the database: SQLite cannot upgrade a transaction
    that has already read, without risking `database is locked` instead of waiting. Idempotent within
    one write transaction. No-op on other databases. The session must come from `Store.session()`.
    """
    if not is_sqlite(session):
        return
    if not session.info.get(_STORE_SESSION):
        raise RuntimeError("begin_immediate() needs a session from Store.session() / Store.write()")
    mode = session.info.get(_TX_MODE)
    if mode == "IMMEDIATE":
        return
    if mode is not None:
        raise RuntimeError(
            "this session's transaction already read from the database, so it cannot become a "
            "write transaction; commit or roll back first, then call begin_immediate()"
        )
    session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})


def in_write_transaction(session: Session) -> bool:
    """True if `begin_immediate()` started the current transaction (always True off SQLite)."""
    return not is_sqlite(session) or session.info.get(_TX_MODE) == "IMMEDIATE"


def in_db_transaction(session: Session) -> bool:
    """True if the session's current transaction already holds a connection (it has read or written)."""
    return session.info.get(_TX_MODE) is not None


def _track_transactions(factory: sessionmaker[Session]) -> None:
    @event.listens_for(factory, "after_begin")
    def _after_begin(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
        session.info[_TX_MODE] = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")

    @event.listens_for(factory, "after_transaction_end")
    def _after_end(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.info.pop(_TX_MODE, None)


class Store:
    """An engine and its session factory. Create with `open_store()`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, info={_STORE_SESSION: True})
        _track_transactions(self.sessions)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self) -> Session:
        return self.sessions()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction (`BEGIN IMMEDIATE` on SQLite); commits on success."""
        with self.sessions() as session:
            begin_immediate(session)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Connect to `url` (default `database_url()`) and bring its schema to the latest migration."""
    engine = create_db_engine(url)
    if migrate:
        upgrade(engine)
    return Store(engine)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config pointing into the package; no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        # ConfigParser interpolation: a URL-encoded password contains '%'.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(target: str | Engine | None = None, revision: str = "head") -> None:
    """Run `alembic upgrade <revision>` on `target` (URL or Engine; default `database_url()`).

    Concurrent callers (web + workers starting together) serialize: SQLite through `BEGIN IMMEDIATE`,
    PostgreSQL through a transaction-level advisory lock; the later one finds the schema current.
    """
    engine = target if isinstance(target, Engine) else create_db_engine(target)
    try:
        config = alembic_config()
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn = conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
    finally:
        if engine is not target:
            engine.dispose()
