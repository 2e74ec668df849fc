"""Build the right `Provider` for a profile: its API kind, endpoint, deployment and decrypted key.

The key is read from the database (decrypted) only here, right before the client that sends it is
built, and is handed to `auth_for` without ever being stored on an engine object or logged.
Without any profile the built-in `emulator` profile is created (see `store.profiles.default_profile`),
pointing at `SORASTUDIO_EMULATOR_URL` or the emulator's default local address.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sorastudio.catalog import ApiFamily, Catalog, ModelEntry
from sorastudio.catalog import Provider as CatalogProvider
from sorastudio.domain import join_choices
from sorastudio.errors import ValidationError
from sorastudio.providers.auth import auth_for
from sorastudio.providers.azure_sora1 import AzureSora1
from sorastudio.providers.base import Provider
from sorastudio.providers.endpoints import ApiHint, normalize_endpoint
from sorastudio.providers.http import Sleep
from sorastudio.providers.videos_api import VideosAPI
from sorastudio.store import profiles
from sorastudio.store.models import ApiKind, AuthMethod, Profile

EMULATOR_URL_ENV = "SORASTUDIO_EMULATOR_URL"
DEFAULT_EMULATOR_URL = "http://127.0.0.1:8089"  # `sorastudio emulator` listens here by default

_API_HINT: dict[ApiKind, ApiHint] = {
    ApiKind.AZURE_SORA1: "azure_sora1",
    ApiKind.AZURE_VIDEOS: "azure_videos",
    ApiKind.OPENAI: "openai_videos",
    ApiKind.COMPATIBLE: "compatible",
}
# Which catalog entries a profile's models resolve to.
CATALOG_PROVIDER: dict[ApiKind, CatalogProvider] = {
    ApiKind.AZURE_SORA1: CatalogProvider.AZURE,
    ApiKind.AZURE_VIDEOS: CatalogProvider.AZURE,
    ApiKind.OPENAI: CatalogProvider.OPENAI,
    ApiKind.COMPATIBLE: CatalogProvider.COMPATIBLE,
}
# Which wire format a profile speaks, so which catalog entries it can send at all.
API_FAMILY: dict[ApiKind, ApiFamily] = {
    ApiKind.AZURE_SORA1: ApiFamily.SORA1_JOBS,
    ApiKind.AZURE_VIDEOS: ApiFamily.VIDEOS,
    ApiKind.OPENAI: ApiFamily.VIDEOS,
    ApiKind.COMPATIBLE: ApiFamily.VIDEOS,
}
_API_NAME: dict[ApiKind, str] = {
    ApiKind.AZURE_SORA1: "the Azure Sora 1 jobs API",
    ApiKind.AZURE_VIDEOS: "the Azure Sora 2 /videos API",
    ApiKind.OPENAI: "the OpenAI /v1/videos API",
    ApiKind.COMPATIBLE: "a /v1/videos-compatible server",
}
DEFAULT_MODEL: dict[ApiKind, str] = {
    ApiKind.AZURE_SORA1: "sora",
    ApiKind.AZURE_VIDEOS: "sora-2",
    ApiKind.OPENAI: "sora-2",
    ApiKind.COMPATIBLE: "sora-2",
}


def runnable_entries(catalog: Catalog, profile: Profile) -> list[ModelEntry]:
    """The catalog entries `profile` can run: its provider's, in its API's wire format, and — for a
    deployment of one model (any profile but the built-in emulator's, whose deployments are named after
    every model) — only that model."""
    kind = ApiKind(profile.api_kind)
    entries = [
        entry
        for entry in catalog.values()
        if entry.provider == CATALOG_PROVIDER[kind] and entry.api == API_FAMILY[kind]
    ]
    if profile.model and profile.name != profiles.EMULATOR_PROFILE:
        return [entry for entry in entries if profile.model in entry.names()] or entries
    return entries


def check_model_runs(catalog: Catalog, profile: Profile, model: str, today: date | None = None) -> None:
    """Refuse a catalog model that `profile` cannot run (Sora 1 on a /videos profile, an OpenAI model on
    Azure…) before anything is priced or stored; a name in no catalog entry is left to the catalog's own
    "not in the catalog" error."""
    name = model.strip()
    runnable = runnable_entries(catalog, profile)
    if any(name == entry.id or name in entry.names() for entry in runnable):
        return
    if not any(name == entry.id or name in entry.names() for entry in catalog.values()):
        return
    kind = ApiKind(profile.api_kind)
    choices = [entry.model for entry in runnable if not entry.is_retired(today or date.today())]
    named = profile.deployment and profile.model and profile.name != profiles.EMULATOR_PROFILE
    deployment = f", deployment {profile.deployment}" if named else ""
    pick = f"choose model {join_choices(choices)}" if choices else "it runs no model of this catalog"
    raise ValidationError(
        f"model={name} cannot run on profile {profile.name!r} ({_API_NAME[kind]}, api_kind "
        f"{kind.value}{deployment}): {pick}, or add a profile for {name} with `sorastudio profile add`",
        field="model",
        value=name,
        allowed=choices,
    )


def emulator_url() -> str:
    return os.environ.get(EMULATOR_URL_ENV) or DEFAULT_EMULATOR_URL


def resolve_profile(session: Session, name: str | None, *, emulator: str | None = None) -> Profile:
    """The named profile row, or the default one (creating the emulator profile on first use, whether
    it is the default or asked for by name)."""
    if name is None or name == profiles.EMULATOR_PROFILE:
        url = emulator or emulator_url()
        pick = profiles.default_profile if name is None else profiles.emulator_profile
        try:
            with session.begin_nested():
                name = pick(session, url).name
        except IntegrityError:  # another process created the emulator profile at the same moment
            name = pick(session, url).name
    profiles.get_profile(session, name)  # the clear "does not exist: known profiles are …" error
    return session.scalars(select(Profile).where(Profile.name == name)).one()


def build_provider(
    session: Session,
    profile: Profile,
    *,
    sleep: Sleep | None = None,
    wall_clock: Callable[[], float] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Provider:
    """A provider client for `profile` (the caller closes it with `aclose()`)."""
    kind = ApiKind(profile.api_kind)
    endpoint = normalize_endpoint(profile.endpoint, api=_API_HINT[kind])
    method = AuthMethod(profile.auth_method)
    key = profiles.api_key(session, profile.name)
    if method is not AuthMethod.ENTRA and key is None:
        raise ValidationError(
            f"profile {profile.name!r} has no API key but uses {method.value} authentication: "
            "add the key again with `sorastudio profile add`",
            field="api_key",
        )
    auth = auth_for(method.value, key.reveal() if key is not None else None)
    options: dict[str, object] = {"auth": auth, "deployment": profile.deployment, "transport": transport}
    if sleep is not None:
        options["sleep"] = sleep
    if wall_clock is not None:
        options["wall_clock"] = wall_clock
    if kind is ApiKind.AZURE_SORA1:
        return AzureSora1(endpoint, **options)  # type: ignore[arg-type]
    return VideosAPI(endpoint, **options)  # type: ignore[arg-type]


__all__ = [
    "API_FAMILY",
    "CATALOG_PROVIDER",
    "DEFAULT_EMULATOR_URL",
    "DEFAULT_MODEL",
    "EMULATOR_URL_ENV",
    "build_provider",
    "check_model_runs",
    "emulator_url",
    "resolve_profile",
    "runnable_entries",
]
