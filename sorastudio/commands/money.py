"""Money: `cost` (the ledger) and `budget set/show` (limits that refuse a submission with the numbers)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sorastudio.commands.generate import Json
from sorastudio.commands.output import money, print_json, print_table
from sorastudio.commands.runtime import cli_errors, out, run
from sorastudio.ledger import BudgetStatus, LedgerTotal
from sorastudio.store.models import BudgetScope
from sorastudio.studio import AsyncStudio

PANEL = "Money"
REMOVE_WORDS = ("none", "off", "remove")
_COLUMNS = ("estimated", "reserved", "actual", "total")

budget_app = typer.Typer(help="Spending limits: total, per day, per profile.", no_args_is_help=True)


class GroupBy(StrEnum):
    DAY = "day"
    MODEL = "model"
    PROFILE = "profile"


def _row_json(row: LedgerTotal) -> dict[str, object]:
    return {"key": row.key, "count": row.count} | {name: str(getattr(row, name)) for name in _COLUMNS}


def cost(
    by: Annotated[GroupBy, typer.Option(help="Group the ledger by day, model or profile.")] = GroupBy.DAY,
    as_json: Json = False,
) -> None:
    """What you have spent: estimates, reservations still pending, and actual costs."""

    async def work(studio: AsyncStudio) -> list[LedgerTotal]:
        return await studio.costs(by.value)  # type: ignore[arg-type]  # GroupBy values are TotalsBy

    rows = run(work)
    sums = {name: sum((getattr(r, name) for r in rows), start=Decimal(0)) for name in _COLUMNS}
    count = sum(r.count for r in rows)
    if as_json:
        print_json(
            {
                "by": by.value,
                "rows": [_row_json(r) for r in rows],
                "sum": {"count": count} | {name: str(value) for name, value in sums.items()},
            }
        )
        return
    if not rows:
        out.print("Nothing spent yet.")
        return
    table = Table(box=None, pad_edge=False, header_style="bold", footer_style="bold", show_footer=True)
    table.add_column(by.value.upper(), footer="all")
    table.add_column("COUNT", justify="right", footer=str(count))
    for name in _COLUMNS:
        table.add_column(name.upper(), justify="right", footer=money(sums[name]))
    for r in rows:
        table.add_row(escape(r.key), str(r.count), *(money(getattr(r, name)) for name in _COLUMNS))
    print_table(table)
    out.print("reserved: estimates of unfinished jobs. Failed and cancelled jobs cost nothing.")


@budget_app.command("set")
@cli_errors
def budget_set(
    scope: Annotated[BudgetScope, typer.Argument(help="total (all time), day (each day) or profile.")],
    amount: Annotated[str, typer.Argument(help="Dollars, e.g. 5 or 2.50; `none` removes the budget.")],
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="The profile (scope `profile` only).")
    ] = None,
) -> None:
    """Set a spending limit; a submission that would pass it is refused (with the numbers)."""
    limit = None if amount.strip().lower() in REMOVE_WORDS else amount.strip().removeprefix("$")

    async def work(studio: AsyncStudio) -> None:
        studio.budgets.set(scope.value, limit, profile=profile)

    run(work)
    what = f"{scope.value} budget" + (f" of profile {profile}" if profile else "")
    if limit is None:
        out.print(escape(f"Removed the {what}."), highlight=False)
    else:
        out.print(escape(f"Set the {what} to {money(Decimal(limit))}."), highlight=False)


def _budget_json(b: BudgetStatus) -> dict[str, object]:
    return {
        "scope": b.scope.value,
        "profile": b.profile,
        "limit": str(b.limit),
        "used": str(b.used),
        "remaining": str(b.remaining),
    }


@budget_app.command("show")
@cli_errors
def budget_show(as_json: Json = False) -> None:
    """Every budget with what is used (reserved + spent; today's, for the daily one) and what is left."""

    async def work(studio: AsyncStudio) -> list[BudgetStatus]:
        return studio.budgets.show()

    budgets = run(work)
    if as_json:
        print_json([_budget_json(b) for b in budgets])
        return
    if not budgets:
        out.print("No budgets: nothing limits spending. Set one with `sorastudio budget set total 10`.")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("SCOPE", "PROFILE", "LIMIT", "USED", "REMAINING"):
        table.add_column(name, justify="left" if name in ("SCOPE", "PROFILE") else "right")
    for b in budgets:
        table.add_row(
            b.scope.value, escape(b.profile or "-"), money(b.limit), money(b.used), money(b.remaining)
        )
    print_table(table)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(cli_errors(cost))
    app.add_typer(budget_app, name="budget", rich_help_panel=PANEL)


__all__ = ["register"]
