"""`sorastudio serve`: prints the URL, hands uvicorn the app, refuses an open server off loopback."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from sorastudio.cli import app
from sorastudio.commands import serve as serve_module


def test_serve_prints_the_url_and_runs_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(serve_module.uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))

    result = CliRunner().invoke(app, ["serve", "--port", "8765", "--no-open"])

    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765" in result.output
    assert isinstance(calls[0]["app"], FastAPI)
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8765


def test_serve_off_loopback_needs_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve_module.uvicorn, "run", lambda *a, **k: pytest.fail("must not start"))
    monkeypatch.delenv("SORASTUDIO_WEB_PASSWORD", raising=False)

    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--no-open"])

    assert result.exit_code == 2
    assert "SORASTUDIO_WEB_PASSWORD" in result.output
