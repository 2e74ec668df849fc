"""`batch FILE.jsonl|.csv`: many generations from a file, all checked before any is queued.

One request per JSONL line (an object) or CSV row (a header names the columns). Keys: prompt
(required), model, size, seconds, variants, image (a path, relative to the file), fit, profile, priority.
Every line is validated and priced first; if any is invalid, nothing is queued (each problem is
reported with its line number) unless `--skip-invalid`. The sum of the estimates is then checked
against the total and daily budgets, so a batch that cannot fit is refused whole; a profile budget
is checked per submission (the ledger's atomic reservation), and the first refusal stops the batch.

`--json` prints `[{"line", "id"}]` for what was queued, `[{"line", "estimate"}]` with `--dry-run`, and
the generation records (as `list --json`) in line order with `--wait`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from sorastudio.commands.generate import Json, Timeout
from sorastudio.commands.output import estimate_json, money, preview, print_json
from sorastudio.commands.progress import chatter, finish
from sorastudio.commands.runtime import EXIT_INVALID, cli_errors, err, fail, run
from sorastudio.errors import BudgetExceeded, ValidationError
from sorastudio.pricing import Estimate
from sorastudio.store.models import BudgetScope
from sorastudio.studio import AsyncStudio

PANEL = "Make videos"
TEXT_KEYS = ("prompt", "model", "size", "fit", "profile")
INT_KEYS = ("seconds", "variants", "priority")
KEYS = (*TEXT_KEYS, *INT_KEYS, "image")


@dataclass(frozen=True)
class Line:
    number: int
    request: dict[str, Any]  # prompt plus Studio.generate keyword arguments


@dataclass(frozen=True)
class Problem:
    number: int
    message: str


def _coerce(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """Check keys and types of one line (values from CSV are strings; empty means unset)."""
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ValidationError(
            f"unknown column(s) {', '.join(map(repr, unknown))}: allowed are {', '.join(KEYS)}",
            field=unknown[0],
            allowed=KEYS,
        )
    values = {k: v for k, v in raw.items() if v is not None and v != ""}
    request: dict[str, Any] = {}
    for key, value in values.items():
        if key in INT_KEYS:
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                value = int(value.strip())
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(
                    f"{key}={value!r} is not allowed: a whole number", field=key, value=value
                )
        elif not isinstance(value, str):
            raise ValidationError(f"{key}={value!r} is not allowed: text", field=key, value=value)
        request[key] = value
    if not str(request.get("prompt", "")).strip():
        raise ValidationError("prompt is missing: every line needs a prompt", field="prompt")
    if "image" in request:
        image = Path(request["image"]).expanduser()
        request["image"] = image if image.is_absolute() else base / image
    return request


def read_lines(path: Path) -> tuple[list[Line], list[Problem]]:
    """The requests in a .jsonl or .csv file with their line numbers, and the lines that are not."""
    lines: list[Line] = []
    problems: list[Problem] = []
    raw_rows: list[tuple[int, object]] = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(f)
            start = 2  # line 1 is the header
            for row in reader:
                if None in row:  # DictReader files surplus cells under the key None
                    problems.append(
                        Problem(start, f"more cells than the header's {len(reader.fieldnames or [])}")
                    )
                elif any((v or "").strip() for v in row.values()):
                    raw_rows.append((start, row))
                start = reader.line_num + 1
        else:
            for number, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                try:
                    raw_rows.append((number, json.loads(text)))
                except json.JSONDecodeError as exc:
                    problems.append(Problem(number, f"not valid JSON: {exc.msg} (column {exc.colno})"))
    for number, raw in raw_rows:
        if not isinstance(raw, dict):
            problems.append(Problem(number, 'each line must be a JSON object like {"prompt": "…"}'))
            continue
        try:
            lines.append(Line(number, _coerce({str(k): v for k, v in raw.items()}, path.parent)))
        except ValidationError as exc:
            problems.append(Problem(number, str(exc)))
    return lines, problems


async def _price(studio: AsyncStudio, lines: list[Line]) -> tuple[list[tuple[Line, Estimate]], list[Problem]]:
    priced: list[tuple[Line, Estimate]] = []
    problems: list[Problem] = []
    for line in lines:
        options = dict(line.request)
        prompt = options.pop("prompt")
        try:
            priced.append((line, await studio.generate(prompt, **options, dry_run=True)))
        except ValidationError as exc:
            problems.append(Problem(line.number, str(exc)))
    return priced, problems


def _check_budgets(studio: AsyncStudio, total: Decimal) -> None:
    for budget in studio.budgets.show():
        if budget.scope in (BudgetScope.TOTAL, BudgetScope.DAY) and total > budget.remaining:
            raise BudgetExceeded(
                f"nothing queued: the batch's estimates add up to {money(total)}, more than the "
                f"{budget.scope.value} budget has left: {money(budget.remaining)} "
                f"(limit {money(budget.limit)}, already reserved or spent {money(budget.used)})",
                budget=budget.scope.value,
                limit=budget.limit,
                spent=budget.used,
                requested=total,
            )


def batch(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A .jsonl or .csv file.")
    ],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Queue the valid lines even if some are not.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and price every line; queue nothing.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait/--no-wait", help="Run the engine here until all are done (default: queue)."),
    ] = False,
    timeout: Timeout = None,
    as_json: Json = False,
) -> None:
    """Queue one generation per line of a JSONL or CSV file (all lines are checked first)."""
    if file.suffix.lower() not in (".jsonl", ".csv"):
        fail(f"{file}: use a .jsonl (one JSON object a line) or .csv file (a header row)", EXIT_INVALID)
    lines, problems = read_lines(file)

    async def work(studio: AsyncStudio) -> None:
        priced, invalid = await _price(studio, lines)
        found = sorted(problems + invalid, key=lambda p: p.number)
        for problem in found:
            err.print(escape(f"{file.name}:{problem.number}: {problem.message}"), highlight=False)
        if found and not skip_invalid:
            fail(
                f"nothing queued: {len(found)} invalid line(s); fix them or pass --skip-invalid", EXIT_INVALID
            )
        total = sum((cost.total for _, cost in priced), start=Decimal(0))
        say = chatter(as_json)
        for line, cost in priced:
            say.print(escape(f"line {line.number}: {cost.describe()}  {preview(line.request['prompt'])}"))
        say.print(f"{len(priced)} generation(s), estimated total {money(total)}", highlight=False)
        if dry_run or not priced:
            say.print("Dry run: nothing was queued." if dry_run else "Nothing to queue.", highlight=False)
            if as_json:
                print_json([{"line": line.number, "estimate": estimate_json(cost)} for line, cost in priced])
            return
        _check_budgets(studio, total)
        queued: list[tuple[int, str]] = []
        for line, _ in priced:
            options = dict(line.request)
            try:
                handle = await studio.generate(options.pop("prompt"), **options)
            except BudgetExceeded as exc:
                done = ", ".join(f"line {n} → {i}" for n, i in queued) or "none"
                fail(f"line {line.number} refused: {exc}. Queued before it: {done}; later lines not queued.")
            queued.append((line.number, handle.id))
            say.print(f"line {line.number} → {handle.id}", highlight=False)
        if as_json and not wait:
            print_json([{"line": n, "id": i} for n, i in queued])
            return
        await finish(
            studio, [i for _, i in queued], wait=wait, as_json=as_json, single=False, give_up_after=timeout
        )

    run(work, network=wait and not dry_run)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(cli_errors(batch))


__all__ = ["Line", "Problem", "batch", "read_lines", "register"]
