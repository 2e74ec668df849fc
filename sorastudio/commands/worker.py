"""`worker`: the engine on its own, until Ctrl-C — for `--no-wait` and `batch` queues, and servers."""

from __future__ import annotations

from typing import Annotated

import typer

from sorastudio.accounts import Profiles
from sorastudio.commands.runtime import cli_errors, err
from sorastudio.engine.__main__ import main as engine_main
from sorastudio.local_emulator import emulator_endpoint, local_emulator
from sorastudio.store.db import open_store
from sorastudio.store.profiles import EMULATOR_PROFILE

PANEL = "Engine"


def worker(
    time_scale: Annotated[
        float | None,
        typer.Option(
            help="Provider time scale, for a time-scaled emulator (default SORASTUDIO_TIME_SCALE or 1)."
        ),
    ] = None,
    idle: Annotated[float, typer.Option(min=0.05, help="Seconds between looks when nothing is due.")] = 1.0,
    concurrency: Annotated[int, typer.Option(min=1, help="Steps in flight at most.")] = 64,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Run the generation engine until Ctrl-C; every queued generation is seen through.

    Several workers (here or on other machines sharing the database) never do a step twice.
    If the built-in emulator profile is in use and nothing listens at its address, the emulator
    runs inside this worker.
    """
    store = open_store()
    try:
        names = {p.name for p in Profiles(store).list()}
        endpoint = emulator_endpoint(Profiles(store), EMULATOR_PROFILE) if EMULATOR_PROFILE in names else None
    finally:
        store.close()
    argv = ["--idle", str(idle), "--concurrency", str(concurrency), "--log-level", log_level]
    with local_emulator(endpoint, time_scale) as scale:
        if scale is not None:
            err.print(f"Serving the built-in emulator at {endpoint} (time scale {scale:g}).", highlight=False)
            time_scale = scale
        if time_scale is not None:
            argv += ["--time-scale", str(time_scale)]
        err.print("Engine running; Ctrl-C stops it (in-flight results are saved first).", highlight=False)
        code = engine_main(argv)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(cli_errors(worker))


__all__ = ["register"]
