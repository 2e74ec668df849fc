"""Every command has help, and the top-level help documents the exit codes."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Invoke

COMMANDS = [
    ["generate"], ["remix"], ["batch"], ["status"], ["list"], ["show"], ["open"], ["download"],
    ["cancel"], ["retry"], ["delete"], ["cost"], ["budget", "set"], ["budget", "show"],
    ["profile", "add"], ["profile", "list"], ["profile", "test"], ["profile", "remove"], ["worker"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help(invoke: Invoke, command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout


def test_top_level_help_lists_commands_and_exit_codes(invoke: Invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("generate", "batch", "list", "budget", "profile", "worker", "emulator"):
        assert name in result.stdout
    assert "Exit codes" in result.stdout
