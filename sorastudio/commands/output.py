"""How results look: JSON with stable keys for scripts, short human lines and tables for people.

JSON (`--json`): a generation is `GenerationPublic` (schemas.py) dumped in JSON mode plus `paths` (its
video files): money as decimal strings ("1.2000"), times as ISO 8601, statuses as their lowercase names.
An estimate is `estimate_json()`. Keys are only ever added, never renamed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from sorastudio.commands.runtime import CliConsole, out
from sorastudio.engine.transitions import message_for
from sorastudio.ledger import format_money
from sorastudio.pricing import Estimate
from sorastudio.schemas import EventPublic, GenerationPublic

PROMPT_PREVIEW = 48
PIPE_WIDTH = 200


def print_json(data: Any) -> None:
    """JSON on stdout, unwrapped and uncoloured (typer.echo, not Rich)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def generation_json(info: GenerationPublic) -> dict[str, Any]:
    return info.model_dump(mode="json") | {"paths": [str(p) for p in info.paths]}


def event_json(event: EventPublic) -> dict[str, Any]:
    return event.model_dump(mode="json")


def estimate_json(cost: Estimate) -> dict[str, Any]:
    return {
        "model": cost.model_id,
        "size": cost.size,
        "seconds": cost.seconds,
        "variants": cost.variants,
        "rate_per_second": str(cost.rate_per_second),
        "pixel_factor": None if cost.pixel_factor is None else str(cost.pixel_factor),
        "per_variant": str(cost.per_variant),
        "total": str(cost.total),
        "currency": cost.currency,
        "display": cost.display,
        "formula": cost.describe(),
    }


def money(amount: Decimal | None) -> str:
    return "-" if amount is None else format_money(amount)


def status_line(info: GenerationPublic) -> str:
    """`running  53%  Generating video...` — the seed's message for the status."""
    message = info.status_message or message_for(info.status)
    return f"{info.status.value:<13} {info.progress:>3}%  {message}"


def preview(prompt: str, width: int = PROMPT_PREVIEW) -> str:
    flat = " ".join(prompt.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def cost_of(info: GenerationPublic) -> str:
    """Actual cost once settled, else the estimate marked `~`."""
    if info.actual_cost is not None:
        return money(info.actual_cost)
    return f"~{money(info.estimated_cost)}" if info.estimated_cost is not None else "-"


def generations_table(rows: Iterable[GenerationPublic]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("ID", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("MODEL", no_wrap=True)
    table.add_column("VIDEO", no_wrap=True)
    table.add_column("COST", justify="right", no_wrap=True)
    table.add_column("CREATED", no_wrap=True)
    table.add_column("PROMPT", no_wrap=True, overflow="ellipsis", min_width=12)
    for info in rows:
        state = info.status.value if info.terminal else f"{info.status.value} {info.progress}%"
        variants = f" ×{info.variants}" if info.variants > 1 else ""
        table.add_row(
            info.id,
            state,
            escape(info.model),
            f"{info.size} {info.seconds}s{variants} {info.mode}",
            cost_of(info),
            info.created_at.astimezone().strftime("%m-%d %H:%M"),
            escape(preview(info.prompt)),
        )
    return table


def print_table(table: Table) -> None:
    """On a terminal, fit its width; in a pipe or file, do not squeeze columns to 80 characters."""
    if out.is_terminal:
        out.print(table)
    else:
        CliConsole(file=out.file, width=PIPE_WIDTH, soft_wrap=True).print(table)


__all__ = [
    "cost_of",
    "estimate_json",
    "event_json",
    "generation_json",
    "generations_table",
    "money",
    "preview",
    "print_json",
    "print_table",
    "status_line",
]
