"""Persistence: database connection and migrations (`db`), schema (`models`), search, profiles.

Typical use::

    store = open_store()              # SQLite in the data dir, or SORASTUDIO_DATABASE_URL; migrated
    with store.write() as session:    # BEGIN IMMEDIATE on SQLite; commits on success
        ...
"""

from sorastudio.store.db import Store, begin_immediate, data_home, database_url, open_store, upgrade

__all__ = ["Store", "begin_immediate", "data_home", "database_url", "open_store", "upgrade"]
