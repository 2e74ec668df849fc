"""The `sorastudio` command line (Typer + Rich). Later issues add commands; each stays a thin wrapper."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

app = typer.Typer(
    help="sorastudio — AI video generation on Azure OpenAI Sora and OpenAI /v1/videos.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@app.callback()
def main() -> None:
    """sorastudio — AI video generation on Azure OpenAI Sora and OpenAI /v1/videos."""


@app.command()
def emulator(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8089,
    host: Annotated[
        str, typer.Option(help="Interface to bind (keep 127.0.0.1 unless you mean to share it).")
    ] = ("127.0.0.1"),
    time_scale: Annotated[
        float | None,
        typer.Option(
            help="Multiply every emulated span: 0.01 makes a 2-minute job take 1.2 s (default 1.0)."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML settings (see emulator.example.toml); flags override it.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for ids, job durations and outcomes.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep rendered media here (default: a temporary folder).")
    ] = None,
) -> None:
    """Run the Sora API emulator: Azure Sora 1, Azure Sora 2 and OpenAI /v1/videos on one port."""
    from sorastudio.emulator import server
    from sorastudio.emulator.config import load_config

    try:
        settings = load_config(config, time_scale=time_scale, seed=seed, data_dir=data_dir)
    except FileNotFoundError:
        _fail(f"config file not found: {config}")
    except tomllib.TOMLDecodeError as exc:
        _fail(f"config file {config} is not valid TOML: {exc}")
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()
        )
        _fail(f"invalid settings in {config or 'the command line'}:\n{problems}")

    base = f"http://{host}:{port}"
    videos = ", ".join(d.name for d in settings.deployments if d.api == "videos") or "none"
    sora1 = ", ".join(d.name for d in settings.deployments if d.api == "sora1") or "none"
    console.print(f"[bold]sorastudio emulator[/bold] on {base}  (time scale {settings.time_scale})")
    console.print(
        f"  OpenAI /v1/videos      {base}/v1   models: {', '.join(m.name for m in settings.openai_models)}"
    )
    console.print(f"  Azure Sora 2 /videos   {base}/openai/v1/   model = deployment: {videos}")
    console.print(
        f"  Azure Sora 1 jobs      {base}/openai/v1/video/generations/jobs?api-version=preview   "
        f"model = deployment: {sora1}"
    )
    # The emulator's key is a local stand-in, not a credential: clients need it to connect.
    console.print(f"  API key                {settings.keys[0]}")
    console.print(f"  Admin                  {base}/_emulator/stats")
    server.serve(settings, host=host, port=port)


def _fail(message: str) -> NoReturn:
    errors.print(f"[bold red]error:[/bold red] {message}", markup=True, highlight=False)
    raise typer.Exit(code=2)


# The commands live in sorastudio/commands/, one module per group.
from sorastudio.commands import register as _register_commands  # noqa: E402

_register_commands(app)
import sorastudio.commands.serve  # noqa: E402, F401  (registers `serve`)
