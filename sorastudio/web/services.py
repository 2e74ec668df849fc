"""What the web routes need beyond one `AsyncStudio` call: catalog views per profile, estimates with
warnings and budget messages, image previews, profile tests, and running read queries off the loop.

Routes stay thin: each handler is one call into `AsyncStudio` or into a function here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session

from sorastudio.catalog import ApiFamily, ModelEntry
from sorastudio.commands.output import estimate_json
from sorastudio.domain import parse_size, validate_request
from sorastudio.engine.providers import CATALOG_PROVIDER, build_provider, resolve_profile
from sorastudio.errors import NotFound, SorastudioError
from sorastudio.images import FitMode, fit_image
from sorastudio.ledger import BudgetStatus, format_money
from sorastudio.store.models import ApiKind
from sorastudio.store.profiles import EMULATOR_PROFILE, ProfileInfo
from sorastudio.studio import AsyncStudio

T = TypeVar("T")

# The seed guide's prompt advice ("Best Practices" for text-to-video), shown next to the prompt box.
PROMPT_TIPS = (
    ("Shot type", "wide, close-up, aerial"),
    ("Subject", "who or what, doing what, where"),
    ("Lighting", "golden hour, dramatic, soft"),
    ("Camera", "pans, tilts, tracking shots"),
)
EXAMPLE_PROMPT = (
    "Wide shot of a child flying a red kite in a grassy park, "
    "golden hour sunlight, camera slowly pans upward."
)


async def read(studio: AsyncStudio, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a read-only query `fn(session, …)` in a worker thread (SQLAlchemy is synchronous)."""

    def run() -> T:
        with studio.store.session() as session:
            return fn(session, *args, **kwargs)

    return await anyio.to_thread.run_sync(run)


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A blocking library call (profiles, budgets) off the event loop."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


def default_profile_name(profiles: list[ProfileInfo]) -> str | None:
    """The profile used when none is named (as `store.profiles.default_profile` picks it)."""
    own = [p for p in profiles if p.name != EMULATOR_PROFILE]
    chosen = own[0] if own else (profiles[0] if profiles else None)
    return chosen.name if chosen else None


async def ensure_default_profile(studio: AsyncStudio) -> None:
    """Create the built-in emulator profile now if there is no profile at all (first start)."""
    if not await call(studio.profiles.list):
        await studio.estimate()


def _entry_json(entry: ModelEntry, studio: AsyncStudio, kind: ApiKind, today: date) -> dict[str, Any]:
    try:
        warnings = validate_request(
            {"prompt": "check", "model": entry.model},
            studio.catalog,
            provider=CATALOG_PROVIDER[kind],
            today=today,
        ).warnings
    except SorastudioError as exc:  # retired today: offered nowhere, but say why it is missing
        warnings = [str(exc)]
    return {
        "id": entry.id,
        "model": entry.model,
        "name": entry.display_name,
        "modes": entry.mode_choices(),
        "sizes": list(entry.sizes),
        "seconds": list(entry.seconds),
        "default_size": entry.default_size,
        "default_seconds": entry.default_seconds,
        "max_variants": {size: entry.max_variants(size) for size in entry.sizes},
        "audio": entry.audio,
        "retires_on": entry.retires_on.isoformat() if entry.retires_on else None,
        "warnings": warnings,
    }


def _offered(studio: AsyncStudio, profile: ProfileInfo, today: date) -> list[ModelEntry]:
    """The models a profile can really run: its provider's, of its wire format, and — for an Azure
    deployment, which is one model — only the deployment's model (the deployment name is what is sent)."""
    family = ApiFamily.SORA1_JOBS if profile.api_kind is ApiKind.AZURE_SORA1 else ApiFamily.VIDEOS
    provider = CATALOG_PROVIDER[profile.api_kind]
    entries = [e for e in studio.catalog.available(today) if e.provider == provider and e.api == family]
    if profile.deployment and profile.model:
        return [e for e in entries if profile.model in e.names()] or entries
    return entries


def profile_catalog(
    studio: AsyncStudio, profiles: list[ProfileInfo], today: date | None = None
) -> list[dict[str, Any]]:
    """For each profile: what its models offer (only what the Create form may show)."""
    today = today or date.today()
    result = []
    for profile in profiles:
        models = [_entry_json(e, studio, profile.api_kind, today) for e in _offered(studio, profile, today)]
        default = profile.model if any(m["model"] == profile.model for m in models) else None
        result.append(
            {
                "name": profile.name,
                "api_kind": profile.api_kind.value,
                "default_model": default or (models[0]["model"] if models else None),
                "models": models,
            }
        )
    return result


def budget_message(budgets: list[BudgetStatus], amount: Decimal, profile: str | None) -> str | None:
    """Why this estimate would be refused by a budget, in the ledger's words; None if it fits."""
    for budget in budgets:
        if budget.scope.value == "profile" and budget.profile != profile:
            continue
        if budget.used + amount > budget.limit:
            what = {"day": "today's budget", "total": "the total budget"}.get(
                budget.scope.value, f"the budget of profile {budget.profile}"
            )
            return (
                f"This would exceed {what}: limit {format_money(budget.limit)}, already reserved or spent "
                f"{format_money(budget.used)}, this estimate {format_money(amount)}."
            )
    return None


@dataclass(frozen=True)
class EstimateRequest:
    profile: str | None
    model: str | None
    size: str | None
    seconds: int | None
    variants: int = 1
    mode: str = "text"
    remix_of: str | None = None


async def estimate(studio: AsyncStudio, req: EstimateRequest) -> dict[str, Any]:
    """The price exactly as `generate`/`remix` will reserve it, plus warnings and any budget refusal."""
    model, size, seconds, variants, profile = req.model, req.size, req.seconds, req.variants, req.profile
    if req.mode == "remix" and req.remix_of:
        source = await studio.get(req.remix_of)  # a remix inherits size and duration from its source
        model, size, seconds, variants = source.model, source.size, source.seconds, 1
        profile = profile or source.profile
    cost = await studio.estimate(model=model, size=size, seconds=seconds, variants=variants, profile=profile)
    profiles = await call(studio.profiles.list)
    name = profile or default_profile_name(profiles)
    info = next(p for p in profiles if p.name == name)
    warnings = validate_request(
        {
            "prompt": "check",
            "model": model or cost.model_id.partition("/")[2],
            "size": size,
            "seconds": seconds,
            "variants": variants,
        },
        studio.catalog,
        provider=CATALOG_PROVIDER[info.api_kind],
    ).warnings
    budgets = await call(studio.budgets.show)
    return estimate_json(cost) | {
        "profile": name,
        "warnings": warnings,
        "budget_message": budget_message(budgets, cost.total, name),
    }


@dataclass(frozen=True)
class Preview:
    data: bytes
    mime_type: str
    size: str
    original: str
    fit: str


async def preview(data: bytes, size: str, fit: FitMode) -> Preview:
    """The frame that will be sent for this image at `size` under `fit`, scaled down for the page."""
    width, height = parse_size(size)
    fitted = await anyio.to_thread.run_sync(lambda: fit_image(data, width, height, fit))
    return Preview(
        data=fitted.preview,
        mime_type=fitted.preview_mime_type,
        size=fitted.size,
        original=f"{fitted.original_width}x{fitted.original_height}",
        fit=fitted.mode,
    )


async def test_profile(studio: AsyncStudio, name: str) -> dict[str, Any]:
    """Reach the profile's endpoint with its credentials and one cheap read; say what happened."""

    def build(session: Session) -> Any:
        return build_provider(session, resolve_profile(session, name), sleep=studio.clock.sleep)

    try:
        provider = await read(studio, build)
    except SorastudioError as exc:
        return {"ok": False, "message": str(exc)}
    try:
        if provider.capabilities.can_list:
            jobs = await provider.list(limit=1)
            message = f"connected: the endpoint answered and listed {len(jobs)} recent job(s)"
        else:
            await provider.status("sorastudio-connection-test")
            message = "connected"
    except NotFound:
        message = "connected: the endpoint answered with its own 'not found' for a test id"
    except SorastudioError as exc:
        return {"ok": False, "message": str(exc)}
    finally:
        await provider.aclose()
    return {"ok": True, "message": message}


__all__ = [
    "EXAMPLE_PROMPT",
    "PROMPT_TIPS",
    "EstimateRequest",
    "Preview",
    "budget_message",
    "call",
    "default_profile_name",
    "ensure_default_profile",
    "estimate",
    "preview",
    "profile_catalog",
    "read",
    "test_profile",
]
