"""Admin routes under `/_emulator/` for tests and demos. Never subject to injected faults.

- `GET  /_emulator/health`  no auth: `{"status": "ok"}` (readiness probe).
- `GET  /_emulator/stats`   creates and running jobs per surface and deployment, faults injected.
- `GET  /_emulator/faults`  the fault settings in force.
- `PUT  /_emulator/faults`  replace them (a `Faults` object; missing fields take their defaults) and
                            restart the seeded sequence.
- `POST /_emulator/reset`   forget every job, rate window and count; restart the fault sequence.

All but `health` need one of the configured keys (`api-key` or `Authorization: Bearer`), like the API:
the emulator may be shared on a network, and a reset is destructive.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from .auth import check_azure
from .config import Faults
from .faults import FaultPlan
from .videos_wire import bad_request


def router(plan: FaultPlan) -> APIRouter:
    state = plan.state

    async def authorize(request: Request) -> None:
        check_azure(request, state.config.keys)

    open_api = APIRouter(prefix="/_emulator")
    api = APIRouter(prefix="/_emulator", dependencies=[Depends(authorize)])

    @open_api.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/stats")
    async def stats() -> dict[str, Any]:
        now = state.clock.now()
        jobs = state.store.all()
        running: Counter[tuple[str, str]] = Counter(
            (job.surface, job.deployment.name) for job in jobs if not job.phase(now).terminal
        )
        return {
            "time_scale": state.config.time_scale,
            "jobs": len(jobs),
            "create_count": state.store.create_count,
            "creates": _nest(state.store.creates),
            "running": _nest(running),
            "faults": dict(state.fault_counts),
        }

    @api.get("/faults")
    async def get_faults() -> dict[str, Any]:
        return state.config.faults.model_dump()

    @api.put("/faults")
    async def put_faults(request: Request) -> JSONResponse:
        try:
            faults = Faults.model_validate_json(await request.body() or b"{}")
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "body"
            raise bad_request(f"Invalid fault setting '{field}': {first['msg']}.", field) from None
        plan.replace(faults)
        return JSONResponse(faults.model_dump())

    @api.post("/reset")
    async def reset() -> dict[str, Any]:
        dropped = state.store.reset()
        for job in dropped:
            state.media.discard(job)
        state.fault_counts.clear()
        plan.reseed()
        return {"reset": True, "jobs_dropped": len(dropped)}

    combined = APIRouter()
    combined.include_router(open_api)
    combined.include_router(api)
    return combined


def _nest(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (surface, deployment), n in sorted(counts.items()):
        out.setdefault(surface, {})[deployment] = n
    return out
