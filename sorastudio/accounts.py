"""Settings the library exposes as plain (synchronous) objects: budgets and provider profiles.

Both are quick database operations, shared by `AsyncStudio` and `Studio` (`studio.budgets`,
`studio.profiles`). Listings never contain key material (`ProfileInfo.has_key` only).
"""

from __future__ import annotations

import builtins
from decimal import Decimal
from typing import Any

from sorastudio import ledger
from sorastudio.store import profiles as profile_store
from sorastudio.store.db import Store
from sorastudio.store.profiles import ProfileInfo


class Budgets:
    """Spending limits (`ledger`): total, per day, per profile."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def set(self, scope: str, limit: Decimal | int | str | None, *, profile: str | None = None) -> None:
        """Set a budget (`limit=None` removes it). Scope: total, day or profile."""
        with self._store.write() as session:
            ledger.budget_set(session, scope, limit, profile=profile)

    def show(self) -> list[ledger.BudgetStatus]:
        with self._store.session() as session:
            return ledger.budget_show(session)


class Profiles:
    """Named provider connections; listings never contain key material."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, name: str, **settings: Any) -> ProfileInfo:
        """See `store.profiles.add_profile` for the settings (api_kind, endpoint, api_key, …)."""
        with self._store.write() as session:
            return profile_store.add_profile(session, name, **settings)

    def list(self) -> builtins.list[ProfileInfo]:
        with self._store.session() as session:
            return profile_store.list_profiles(session)

    def get(self, name: str) -> ProfileInfo:
        with self._store.session() as session:
            return profile_store.get_profile(session, name)

    def remove(self, name: str) -> None:
        with self._store.write() as session:
            profile_store.remove_profile(session, name)


__all__ = ["Budgets", "Profiles"]
