"""The `sorastudio` commands, one module per group, each a thin wrapper over the library (`studio.py`).

    generate.py   generate, remix
    jobs.py       status, list, show, open, download, cancel, retry, delete
    money.py      cost, budget set/show
    profiles.py   profile add/list/test/remove
    batch.py      batch FILE.jsonl|.csv
    worker.py     worker

`runtime.py` holds the one error wrapper and the exit codes (0 ok, 1 failed, 2 invalid input,
130 interrupted); `local_emulator.py` serves the emulator in-process when the built-in emulator
profile is used and nothing listens at its address.
"""

from __future__ import annotations

import typer
from typer.models import DefaultPlaceholder

EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 failed (budget refused, provider error, job failed, timeout); "
    "2 invalid input; 130 interrupted."
)


def register(app: typer.Typer) -> None:
    """Add every command to the `sorastudio` app (called once, at the end of `cli.py`)."""
    if isinstance(app.info.epilog, DefaultPlaceholder):
        app.info.epilog = EXIT_CODES_HELP
    from sorastudio.commands import batch, generate, jobs, money, profiles, worker

    for module in (generate, batch, jobs, money, profiles, worker):
        module.register(app)


__all__ = ["register"]
