"""`sorastudio emulator` and the example settings file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from sorastudio.cli import app
from sorastudio.emulator import server
from sorastudio.emulator.config import EmulatorConfig, load_config

EXAMPLE = Path(__file__).parents[2] / "emulator.example.toml"
runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake_serve(config: EmulatorConfig, host: str, port: int) -> None:
        calls.append({"config": config, "host": host, "port": port})

    monkeypatch.setattr(server, "serve", fake_serve)
    return calls


def test_example_file_is_exactly_the_defaults() -> None:
    assert load_config(EXAMPLE) == EmulatorConfig()


def _setting_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        names.append(name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _setting_names(annotation, f"{prefix}{name}.")
    return names


def test_example_file_mentions_every_setting() -> None:
    text = EXAMPLE.read_text()
    keys = set(re.findall(r"^#?\s*(\w+) =", text, flags=re.MULTILINE))
    missing = [
        name
        for name in _setting_names(EmulatorConfig)
        if name not in keys | {"timing", "moderation", "faults", "deployments", "openai_models"}
    ]
    assert not missing
    for table in ("[timing]", "[moderation]", "[faults]", "[[deployments]]", "[[openai_models]]"):
        assert table in text
    for name in ("name", "model", "running_cap", "creates_per_minute"):
        assert name in keys


def test_emulator_prints_the_three_surfaces_and_applies_flags(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    config = tmp_path / "emulator.toml"
    config.write_text('time_scale = 0.5\nkeys = ["local-key"]\n[faults]\nrate_limit = 0.1\n')
    result = runner.invoke(
        app,
        ["emulator", "--port", "9001", "--config", str(config), "--seed", "7", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:9001/v1" in result.output
    assert "http://127.0.0.1:9001/openai/v1/ " in result.output
    assert "http://127.0.0.1:9001/openai/v1/video/generations/jobs?api-version=preview" in result.output
    assert "local-key" in result.output
    (call,) = served
    settings: EmulatorConfig = call["config"]
    assert (call["host"], call["port"]) == ("127.0.0.1", 9001)
    assert (settings.time_scale, settings.seed, settings.data_dir, settings.faults.rate_limit) == (
        0.5,
        7,
        tmp_path,
        0.1,
    )
    # A flag beats the file.
    runner.invoke(app, ["emulator", "--config", str(config), "--time-scale", "0.01"])
    assert served[-1]["config"].time_scale == 0.01


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("time_scale = \n", "is not valid TOML"),
        ("time_scale = -1\n", "time_scale: Input should be greater than 0"),
        ("[faults]\nrate_limits = 0.5\n", "faults.rate_limits: Extra inputs are not permitted"),
    ],
)
def test_bad_config_file_exits_nonzero_with_a_clear_message(
    served: list[dict[str, Any]], tmp_path: Path, content: str, expected: str
) -> None:
    config = tmp_path / "emulator.toml"
    config.write_text(content)
    result = runner.invoke(app, ["emulator", "--config", str(config)])
    assert result.exit_code == 2
    assert expected in result.output
    assert not served


def test_missing_config_file(served: list[dict[str, Any]], tmp_path: Path) -> None:
    result = runner.invoke(app, ["emulator", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "config file not found" in result.output


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sorastudio", "emulator", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "--time-scale" in result.stdout
