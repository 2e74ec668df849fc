"""`generate` and `remix`: show the estimate, queue the work durably, then (by default) see it through."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sorastudio.commands.output import estimate_json, print_json
from sorastudio.commands.progress import chatter, finish
from sorastudio.commands.runtime import cli_errors, run
from sorastudio.domain import Fit
from sorastudio.studio import AsyncStudio

PANEL = "Make videos"

Wait = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="Run the engine here until the video is saved (default), or only queue it.",
    ),
]
Timeout = Annotated[
    float | None, typer.Option(help="Stop waiting after this many seconds (the job stays queued).")
]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON (stable keys).")]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="Profile to use (default: your first, else the emulator)."),
]


def generate(
    prompt: Annotated[
        str, typer.Argument(help="What the video shows: shot, subject, action, light, camera.")
    ],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="sora, sora-2, sora-2-pro… (default: the profile's).")
    ] = None,
    size: Annotated[
        str | None, typer.Option("--size", "-s", help="WIDTHxHEIGHT, e.g. 1280x720 (default: the model's).")
    ] = None,
    seconds: Annotated[
        int | None, typer.Option("--seconds", "-t", help="Duration: sora-2 4, 8 or 12; sora 1-20.")
    ] = None,
    variants: Annotated[int, typer.Option("--variants", "-n", help="Videos from one request (sora).")] = 1,
    image: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, readable=True, help="Reference image (JPEG, PNG, WebP)."),
    ] = None,
    fit: Annotated[Fit, typer.Option(help="How the image is brought to the video size.")] = Fit.COVER,
    profile: ProfileOpt = None,
    priority: Annotated[int, typer.Option(help="Higher runs first among queued jobs.")] = 0,
    wait: Wait = True,
    timeout: Timeout = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the estimate only; nothing is queued or paid.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Generate a video from a prompt (and optionally an image). Shows the estimate first."""
    options = {
        "model": model,
        "size": size,
        "seconds": seconds,
        "variants": variants,
        "image": image,
        "fit": fit.value,
        "profile": profile,
        "priority": priority,
    }

    async def work(studio: AsyncStudio) -> None:
        cost = await studio.generate(prompt, **options, dry_run=True)  # type: ignore[arg-type]
        if dry_run:
            if as_json:
                print_json(estimate_json(cost))
            else:
                chatter(as_json).print(f"Estimate: {cost.describe()}", highlight=False)
                chatter(as_json).print("Dry run: nothing was queued.", highlight=False)
            return
        chatter(as_json).print(f"Estimate: {cost.describe()}", highlight=False)
        handle = await studio.generate(prompt, **options)  # type: ignore[arg-type]
        chatter(as_json).print(f"Queued {handle.id}", highlight=False)
        await finish(studio, [handle.id], wait=wait, as_json=as_json, give_up_after=timeout)

    run(work, network=wait and not dry_run, profile=profile)


def remix(
    generation_id: Annotated[
        str, typer.Argument(metavar="ID", help="A completed generation (a sora-2 model).")
    ],
    prompt: Annotated[str, typer.Argument(help="The new description; structure and motion are kept.")],
    profile: ProfileOpt = None,
    wait: Wait = True,
    timeout: Timeout = None,
    as_json: Json = False,
) -> None:
    """Remix a finished video with a new prompt. Shows the estimate first."""

    async def work(studio: AsyncStudio) -> None:
        parent = await studio.get(generation_id)
        cost = await studio.estimate(
            model=parent.model, size=parent.size, seconds=parent.seconds, profile=profile or parent.profile
        )
        chatter(as_json).print(f"Estimate: {cost.describe()}", highlight=False)
        handle = await studio.remix(generation_id, prompt, profile=profile)
        chatter(as_json).print(f"Queued {handle.id} (remix of {generation_id})", highlight=False)
        await finish(studio, [handle.id], wait=wait, as_json=as_json, give_up_after=timeout)

    run(work, network=True, profile=profile, generation=generation_id, local_ok=False)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(cli_errors(generate))
    app.command(rich_help_panel=PANEL)(cli_errors(remix))


__all__ = ["generate", "register", "remix"]
