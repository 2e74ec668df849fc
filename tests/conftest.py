"""Shared fixtures: every test gets its own home and data directories (as llm's env_setup)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("SORASTUDIO_HOME", str(home / "sorastudio"))
    # A developer's own settings must not leak into tests.
    monkeypatch.delenv("SORASTUDIO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SORASTUDIO_SECRET_KEY", raising=False)
    return home
