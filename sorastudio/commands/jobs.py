"""Your generations: `status`, `list`, `show`, `open`, `download`, `cancel`, `retry`, `delete`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sorastudio.commands.generate import Json, Timeout
from sorastudio.commands.output import (
    event_json,
    generation_json,
    generations_table,
    money,
    print_json,
    print_table,
    status_line,
)
from sorastudio.commands.progress import chatter, finish
from sorastudio.commands.runtime import EXIT_FAILED, EXIT_INVALID, cli_errors, fail, out, run
from sorastudio.domain import Mode, Status
from sorastudio.schemas import GenerationPublic
from sorastudio.studio import AsyncStudio

PANEL = "Your videos"
ACTIVE = [s for s in Status if not s.terminal]

Id = Annotated[str, typer.Argument(metavar="ID", help="Generation id (see `sorastudio list`).")]


def status(
    generation_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="One generation.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Run the engine here until it is final.")] = False,
    timeout: Timeout = None,
    as_json: Json = False,
) -> None:
    """One generation's status, or everything still in progress."""

    async def work(studio: AsyncStudio) -> None:
        if generation_id is not None:
            if wait:
                await finish(studio, [generation_id], wait=True, as_json=as_json, give_up_after=timeout)
                return
            info = await studio.get(generation_id)
            if as_json:
                print_json(generation_json(info))
            else:
                out.print(escape(f"{info.id}  {status_line(info)}"), highlight=False)
                if info.error:
                    out.print(escape(f"error: {info.error}"), highlight=False)
            return
        active: list[GenerationPublic] = []
        for state in ACTIVE:
            active += await studio.list(status=state.value, limit=500)
        active.sort(key=lambda g: g.created_at)
        if as_json:
            print_json([generation_json(g) for g in active])
        elif not active:
            out.print("Nothing in progress.")
        else:
            print_table(generations_table(active))
            if wait:
                await finish(studio, [g.id for g in active], wait=True, as_json=False, single=False)

    run(work, network=wait, generation=generation_id)


def list_(
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model.")] = None,
    mode: Annotated[Mode | None, typer.Option(help="Only this mode.")] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-q", help="Full-text search in prompts (best match first).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (paging).")] = 0,
    as_json: Json = False,
) -> None:
    """Your generations, newest first."""

    async def work(studio: AsyncStudio) -> None:
        rows = await studio.list(
            status=status.value if status else None,
            model=model,
            mode=mode.value if mode else None,
            query=search,
            limit=limit,
            offset=offset,
        )
        if as_json:
            print_json([generation_json(g) for g in rows])
        elif not rows:
            out.print(
                "No generations match." if (status or model or mode or search) else "No generations yet."
            )
        else:
            print_table(generations_table(rows))

    run(work)


def show(generation_id: Id, as_json: Json = False) -> None:
    """Everything about one generation: fields, costs, files and its event log."""

    async def work(studio: AsyncStudio) -> None:
        info = await studio.get(generation_id)
        events = await studio.events(generation_id)
        if as_json:
            print_json(generation_json(info) | {"events": [event_json(e) for e in events]})
            return
        skip = {"assets", "estimated_cost", "actual_cost"}
        for name, value in info.model_dump(exclude=skip).items():
            shown = value.value if isinstance(value, Status) else value
            out.print(escape(f"{name + ':':<16}{'-' if shown is None else shown}"), highlight=False)
        out.print(f"{'estimated_cost:':<16}{money(info.estimated_cost)}", highlight=False)
        out.print(f"{'actual_cost:':<16}{money(info.actual_cost)}", highlight=False)
        out.print("[bold]files[/bold]" if info.assets else "[bold]files[/bold]  none yet")
        for asset in info.assets:
            out.print(
                escape(f"  {asset.kind:<12} v{asset.variant}  {asset.bytes:>10} B  {asset.path}"),
                highlight=False,
            )
        out.print("[bold]events[/bold]")
        for event in events:
            when = event.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            progress = "" if event.progress is None else f"{event.progress:>3}%"
            out.print(
                escape(f"  {when}  {event.status.value:<13} {progress:>4}  {event.message or ''}"),
                highlight=False,
            )

    run(work)


def open_(
    generation_id: Id,
    variant: Annotated[int, typer.Option(min=0, help="Which variant's video.")] = 0,
) -> None:
    """Open the video with your system's default player (prints its path if there is none)."""
    info = run(lambda studio: studio.get(generation_id))
    if not info.paths:
        fail(f"generation {generation_id} is {info.status.value} and has no video yet", EXIT_FAILED)
    if variant >= len(info.paths):
        fail(
            f"variant={variant} is not allowed: generation {generation_id} has 0 to {len(info.paths) - 1}",
            EXIT_INVALID,
        )
    path = info.paths[variant]
    out.print(escape(str(path)), highlight=False)
    if typer.launch(str(path)) != 0:
        out.print("No program to open it here; the path above is the file.", highlight=False)


def download(
    generation_id: Id,
    output: Annotated[Path, typer.Option("--output", "-o", help="File name (one video) or folder.")] = Path(
        "."
    ),
) -> None:
    """Copy the video(s) to a file or folder."""
    copies = run(lambda studio: studio.download(generation_id, output))
    for path in copies:
        out.print(escape(f"Saved {path}"), highlight=False)


def cancel(generation_id: Id, as_json: Json = False) -> None:
    """Cancel a queued or running generation (it costs nothing)."""
    info = run(lambda studio: studio.cancel(generation_id), network=True, generation=generation_id)
    if as_json:
        print_json(generation_json(info))
    else:
        out.print(f"Cancelled {info.id}", highlight=False)


def retry(
    generation_id: Id,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow it to the end.")] = False,
    timeout: Timeout = None,
    as_json: Json = False,
) -> None:
    """Queue a failed, cancelled or expired generation again."""

    async def work(studio: AsyncStudio) -> None:
        handle = await studio.retry(generation_id)
        same = handle.id == generation_id
        chatter(as_json).print(
            f"Queued {handle.id}" + ("" if same else f" (a new generation like {generation_id})"),
            highlight=False,
        )
        await finish(studio, [handle.id], wait=wait, as_json=as_json, give_up_after=timeout)

    run(work, network=wait, generation=generation_id)


def delete(
    generation_id: Id,
    remote: Annotated[bool, typer.Option("--remote", help="Also delete the provider's copy.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a finished generation and its local files (the ledger keeps what was spent)."""
    if not yes:
        where = "its files here and the provider's copy" if remote else "its files here"
        typer.confirm(f"Delete generation {generation_id} and {where}?", abort=True)
    info = run(lambda studio: studio.delete(generation_id, remote), network=remote, generation=generation_id)
    out.print(f"Deleted {info.id}", highlight=False)


def register(app: typer.Typer) -> None:
    for fn, name in (
        (status, "status"),
        (list_, "list"),
        (show, "show"),
        (open_, "open"),
        (download, "download"),
        (cancel, "cancel"),
        (retry, "retry"),
        (delete, "delete"),
    ):
        app.command(name, rich_help_panel=PANEL)(cli_errors(fn))


__all__ = ["register"]
