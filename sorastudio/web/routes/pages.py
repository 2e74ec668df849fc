"""The HTML pages: Create, Queue, Gallery (+ one generation with its lineage), Costs, Settings.

Server-rendered with Jinja2; small plain scripts in `static/` add live estimates, previews, SSE and
actions through the JSON API (so pages and scripts share one code path for every change).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sorastudio.domain import Mode, Status
from sorastudio.errors import ValidationError
from sorastudio.ledger import format_money
from sorastudio.studio import AsyncStudio
from sorastudio.web import reads, services
from sorastudio.web.deps import StudioDep
from sorastudio.web.routes.costs import budget_json, total_json
from sorastudio.web.routes.profiles import profile_out
from sorastudio.web.schemas import GenerationOut, LineageOut
from sorastudio.web.templating import render

router = APIRouter(include_in_schema=False)
CHART_DAYS = 30
CHART_HEIGHT = 120


def _day(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{name}={value} is not a date: write YYYY-MM-DD", field=name, value=value
        ) from None


def _remix_models(studio: AsyncStudio) -> set[str]:
    return {e.model for e in studio.catalog.values() if Mode.REMIX in e.modes}


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/create", status_code=303)


@router.get("/create")
async def create(
    request: Request, studio: StudioDep, remix_of: str | None = None, mode: str = "text"
) -> Response:
    await services.ensure_default_profile(studio)
    profiles = await services.call(studio.profiles.list)
    source = GenerationOut.of(await studio.get(remix_of)) if remix_of else None
    done = await services.read(studio, reads.gallery_page, reads.GalleryFilter(status="completed"), limit=30)
    remix_models = _remix_models(studio)
    context = {
        "catalog": {
            "default_profile": services.default_profile_name(profiles),
            "profiles": services.profile_catalog(studio, profiles),
        },
        "mode": "remix" if source else (mode if mode in {m.value for m in Mode} else "text"),
        "source": source,
        "remixable": [GenerationOut.of(g) for g in done.items if g.model in remix_models],
        "tips": services.PROMPT_TIPS,
        "example": services.EXAMPLE_PROMPT,
    }
    return render(request, "create.html", context)


@router.get("/queue")
async def queue(request: Request, studio: StudioDep) -> Response:
    rows = await services.read(studio, reads.active)
    return render(request, "queue.html", {"rows": [(GenerationOut.of(g), place) for g, place in rows]})


@router.get("/gallery")
async def gallery(
    request: Request,
    studio: StudioDep,
    q: str | None = None,
    status: str | None = None,
    model: str | None = None,
    mode: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
) -> Response:
    flt = reads.GalleryFilter(
        status=status or None,
        model=model or None,
        mode=mode or None,
        since=_day("since", since),
        until=_day("until", until),
        query=q or None,
    )
    page = await services.read(studio, reads.gallery_page, flt, limit=24, cursor=cursor or None)
    filters = {"q": q or "", "status": status or "", "model": model or "", "mode": mode or ""}
    filters |= {"since": since or "", "until": until or ""}
    context = {
        "items": [GenerationOut.of(g) for g in page.items],
        "next_cursor": page.next_cursor,
        "filters": filters,
        "models": sorted({entry.model for entry in studio.catalog.values()}),
        "remix_models": _remix_models(studio),
        "statuses": [s.value for s in Status],
        "modes": [m.value for m in Mode],
    }
    return render(request, "gallery.html", context)


@router.get("/gallery/{generation_id}")
async def generation(request: Request, studio: StudioDep, generation_id: str) -> Response:
    info = GenerationOut.of(await studio.get(generation_id))
    tree = LineageOut.of(await services.read(studio, reads.lineage, generation_id))
    events = await studio.events(generation_id)
    context = {"g": info, "tree": tree, "events": events, "remix_models": _remix_models(studio)}
    return render(request, "generation.html", context)


def _chart(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    recent = days[-CHART_DAYS:]
    top = max((Decimal(d["total"]) for d in recent), default=Decimal(0)) or Decimal(1)
    bars = []
    for i, day in enumerate(recent):
        height = int(Decimal(day["total"]) / top * CHART_HEIGHT)
        bars.append({"x": i * 22 + 4, "height": height, "y": CHART_HEIGHT - height, **day})
    return bars


def _with_difference(total: dict[str, Any]) -> dict[str, Any]:
    """Charged (settled + still reserved) minus estimated: negative when failed or cancelled jobs cost 0."""
    diff = Decimal(total["actual"]) + Decimal(total["reserved"]) - Decimal(total["estimated"])
    sign = "−" if diff < 0 else "+"
    return total | {"difference": f"{sign}{format_money(abs(diff))}"}


@router.get("/costs")
async def costs(request: Request, studio: StudioDep) -> Response:
    by_day = [_with_difference(total_json(t)) for t in await studio.costs("day")]
    context = {
        "by_day": list(reversed(by_day)),
        "by_model": [_with_difference(total_json(t)) for t in await studio.costs("model")],
        "by_profile": [_with_difference(total_json(t)) for t in await studio.costs("profile")],
        "budgets": [budget_json(b) for b in await services.call(studio.budgets.show)],
        "chart": _chart(by_day),
        "chart_height": CHART_HEIGHT,
        "profiles": [p.name for p in await services.call(studio.profiles.list)],
    }
    return render(request, "costs.html", context)


@router.get("/settings")
async def settings_page(request: Request, studio: StudioDep) -> Response:
    profiles = [profile_out(p) for p in await services.call(studio.profiles.list)]
    return render(request, "settings.html", {"profiles": profiles})
