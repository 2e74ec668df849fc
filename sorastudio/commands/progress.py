"""Follow generations to the end: the engine runs in this process while a Rich progress bar (on a
terminal) or one line per change (in logs, pipes, tests) shows the seed's status messages —
"Job queued...", "Preprocessing your request...", "Generating video...", "Processing video..." —
as the engine records them in each generation's event log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from sorastudio.commands.output import generation_json, print_json, status_line
from sorastudio.commands.runtime import err, fail, out
from sorastudio.domain import Status
from sorastudio.engine.transitions import message_for
from sorastudio.schemas import GenerationPublic
from sorastudio.studio import AsyncStudio


class _Display:
    """One bar per generation when live; otherwise a line whenever a status or message changes."""

    def __init__(self, console: Console, ids: Sequence[str]) -> None:
        self.console = console
        self.ids = list(ids)
        self.live = console.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.tasks: dict[str, TaskID] = {}
        self.last: dict[str, tuple[str, str]] = {}

    def context(self) -> AbstractContextManager[object]:
        return self.progress if self.live else nullcontext()

    def _label(self, info: GenerationPublic) -> str:
        message = info.status_message or message_for(info.status)
        return escape(f"{info.id[-6:]} {message}" if len(self.ids) > 1 else message)

    def show(self, info: GenerationPublic) -> None:
        if self.live:
            if info.id not in self.tasks:
                self.tasks[info.id] = self.progress.add_task(self._label(info), total=100)
            self.progress.update(self.tasks[info.id], description=self._label(info), completed=info.progress)
            return
        key = (info.status.value, info.status_message or "")
        if self.last.get(info.id) != key:
            self.last[info.id] = key
            prefix = f"{info.id}  " if len(self.ids) > 1 else ""
            self.console.print(escape(prefix + status_line(info)), highlight=False)


async def follow(
    studio: AsyncStudio, ids: Sequence[str], console: Console, give_up_after: float | None = None
) -> list[GenerationPublic]:
    """Run the engine here until every generation in `ids` is final; return them in order.

    Each `wait` runs a worker that serves every due generation, so all of them advance together;
    after any event the display refreshes all of them. Raises `PollTimeout` after `give_up_after` seconds
    (per generation); the generations keep their place in the queue.
    """
    display = _Display(console, ids)

    async def refresh(_changed: GenerationPublic) -> None:
        for generation_id in display.ids:
            display.show(await studio.get(generation_id))

    results: list[GenerationPublic] = []
    with display.context():
        for generation_id in ids:
            display.show(await studio.get(generation_id))
        for generation_id in ids:
            results.append(await studio.wait(generation_id, on_update=refresh, timeout=give_up_after))
            await refresh(results[-1])
    return results


def chatter(as_json: bool) -> Console:
    """Where human-readable remarks go: stdout, or stderr when stdout carries JSON."""
    return err if as_json else out


async def finish(
    studio: AsyncStudio,
    ids: Sequence[str],
    *,
    wait: bool,
    as_json: bool,
    single: bool = True,
    give_up_after: float | None = None,
) -> None:
    """After queueing: follow (`wait`) and print the saved files, or say how to follow later.

    Exits 1 when a generation ended failed, cancelled or expired.
    """
    if not wait:
        infos = [await studio.get(generation_id) for generation_id in ids]
        if as_json:
            print_json(generation_json(infos[0]) if single else [generation_json(i) for i in infos])
            return
        target = ids[0] if len(ids) == 1 else "ID"
        out.print(
            f"It runs when an engine does: `sorastudio status {target} --wait` here, or `sorastudio worker`.",
            highlight=False,
        )
        return
    try:
        results = await follow(studio, ids, err, give_up_after)
    except asyncio.CancelledError:
        what, target = (f"{ids[0]} keeps its", ids[0]) if len(ids) == 1 else (f"{len(ids)} keep their", "ID")
        err.print(
            f"stopped waiting: {what} place in the queue; `sorastudio status {target} --wait` "
            "or `sorastudio worker` carries on",
            highlight=False,
        )
        raise
    if as_json:
        print_json(generation_json(results[0]) if single else [generation_json(r) for r in results])
    else:
        for info in results:
            for path in info.paths:
                out.print(f"Saved {escape(str(path))}", highlight=False)
    unfinished = [r for r in results if r.status is not Status.COMPLETED]
    if unfinished:
        fail(
            "; ".join(
                f"generation {r.id} {r.status.value}" + (f": {r.error}" if r.error else "")
                for r in unfinished
            )
        )


__all__ = ["chatter", "finish", "follow"]
