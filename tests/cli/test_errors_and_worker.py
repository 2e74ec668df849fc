"""The one error wrapper (exit codes, SORASTUDIO_RAISE_ERRORS) and the standalone `worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sorastudio.errors import ServerError
from sorastudio.studio import AsyncStudio
from tests.cli.conftest import Invoke, as_json


def _explode(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("boom")


def test_a_bug_is_one_red_line_unless_asked_to_raise(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AsyncStudio, "list", _explode)
    shown = invoke("list", env={"SORASTUDIO_RAISE_ERRORS": ""})
    assert shown.exit_code == 1
    assert "unexpected RuntimeError: boom" in shown.stderr and "SORASTUDIO_RAISE_ERRORS=1" in shown.stderr
    assert "Traceback" not in shown.output
    raised = invoke("list")  # the fixture sets SORASTUDIO_RAISE_ERRORS=1
    assert isinstance(raised.exception, RuntimeError)


def test_a_sorastudio_error_exits_1_with_its_message(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing(*_args: object, **_kwargs: object) -> None:
        raise ServerError("the provider answered 503 Service Unavailable", status_code=503)

    monkeypatch.setattr(AsyncStudio, "list", failing)
    result = invoke("list")  # SorastudioErrors are reported even with SORASTUDIO_RAISE_ERRORS=1
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the provider answered 503")


def test_worker_runs_queued_generations_until_interrupted(invoke: Invoke, isolated_home: Path) -> None:
    queued = invoke("generate", "a kite", "-t", "4", "--no-wait", "--json")
    generation_id = as_json(queued)["id"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "sorastudio", "worker", "--idle", "0.1", "--log-level", "WARNING"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        status = "queued"
        while time.monotonic() < deadline and status != "completed":
            time.sleep(0.2)
            status = as_json(invoke("status", generation_id, "--json"))["status"]
        assert status == "completed"
    finally:
        worker.send_signal(signal.SIGINT)
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr
    assert "Serving the built-in emulator" in stderr
