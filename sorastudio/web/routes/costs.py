"""`/api/costs` and `/api/budgets`: ledger totals by day, model and profile; budgets and their use."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from sorastudio.ledger import BudgetStatus, LedgerTotal
from sorastudio.web.deps import StudioDep
from sorastudio.web.schemas import BudgetIn
from sorastudio.web.security import require_csrf
from sorastudio.web.services import call

router = APIRouter(prefix="/api", tags=["costs"], dependencies=[Depends(require_csrf)])


def total_json(total: LedgerTotal) -> dict[str, Any]:
    return {
        "key": total.key,
        "count": total.count,
        "estimated": str(total.estimated),
        "reserved": str(total.reserved),
        "actual": str(total.actual),
        "total": str(total.total),
    }


def budget_json(budget: BudgetStatus) -> dict[str, Any]:
    return {
        "scope": budget.scope.value,
        "profile": budget.profile,
        "limit": str(budget.limit),
        "used": str(budget.used),
        "remaining": str(budget.remaining),
    }


@router.get("/costs")
async def costs(studio: StudioDep) -> dict[str, Any]:
    """Estimated, reserved (pending) and actual (settled) totals; failed and cancelled jobs count 0."""
    result: dict[str, Any] = {}
    for by in ("day", "model", "profile"):
        result[f"by_{by}"] = [total_json(t) for t in await studio.costs(by)]  # type: ignore[arg-type]
    result["budgets"] = [budget_json(b) for b in await call(studio.budgets.show)]
    return result


@router.get("/budgets")
async def budgets(studio: StudioDep) -> list[dict[str, Any]]:
    return [budget_json(b) for b in await call(studio.budgets.show)]


@router.put("/budgets")
async def set_budget(studio: StudioDep, body: BudgetIn) -> list[dict[str, Any]]:
    """Set a budget (scope total, day or profile); `limit: null` removes it."""
    await call(studio.budgets.set, body.scope, body.limit, profile=body.profile or None)
    return [budget_json(b) for b in await call(studio.budgets.show)]
