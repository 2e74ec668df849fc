"""CLI tests: each test has its own home (tests/conftest.py) and its own emulator address.

Nothing listens at `SORASTUDIO_EMULATOR_URL`, so commands that need the built-in emulator profile
start the emulator in-process there (sorastudio/local_emulator.py), time-scaled so a job takes ~1 s.
Bugs surface as tracebacks: `SORASTUDIO_RAISE_ERRORS=1`.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from sorastudio.cli import app
from sorastudio.store.db import open_store
from sorastudio.store.models import Generation

SCALE = "0.01"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("SORASTUDIO_EMULATOR_URL", url)
    monkeypatch.setenv("SORASTUDIO_TIME_SCALE", SCALE)
    monkeypatch.setenv("SORASTUDIO_RAISE_ERRORS", "1")
    return url


Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return run


def generation_count() -> int:
    store = open_store()
    try:
        with store.session() as session:
            return int(session.scalar(select(func.count()).select_from(Generation)) or 0)
    finally:
        store.close()


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def completed(invoke: Invoke) -> dict[str, Any]:
    """A finished sora-2 4 s video made through the CLI (its JSON record)."""
    result = invoke("generate", "a red kite over a park", "--seconds", "4", "--json")
    assert result.exit_code == 0, result.output
    info = as_json(result)
    assert info["status"] == "completed"
    assert Path(info["paths"][0]).is_file()
    return info  # type: ignore[no-any-return]


@pytest.fixture
def served_emulator(cli_env: str) -> Iterator[str]:
    """`sorastudio emulator` running for the whole test at the emulator profile's address."""
    from sorastudio.emulator.config import EmulatorConfig
    from sorastudio.emulator.server import running_server

    port = int(cli_env.rsplit(":", 1)[1])
    with running_server(EmulatorConfig(time_scale=float(SCALE)), port=port) as url:
        yield url
