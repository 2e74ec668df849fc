"""Named provider connections: add, list, get, remove — keys encrypted, never handed out by listings.

`ProfileInfo` is what callers see (`has_key: bool`, no key material). The plaintext key comes only from
`api_key(session, name)`, wrapped in a `Secret`, for the provider client that sends it.

With no profile at all, `default_profile()` creates the built-in `emulator` profile (the local emulator,
key "emulator-key"), so a first command works offline; `emulator_profile()` creates it when it is asked
for by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sorastudio.domain import Status
from sorastudio.errors import ValidationError
from sorastudio.secrets import Secret, decrypt_secret, encrypt
from sorastudio.store.models import ApiKind, AuthMethod, Generation, Profile

EMULATOR_PROFILE = "emulator"
EMULATOR_KEY = "emulator-key"
EMULATOR_MODEL = "sora-2"
DEFAULT_RUNNING_CAP = 2  # Azure documents 2 running jobs per resource
DEFAULT_REQUESTS_PER_MINUTE = 60
# Sora 2 resources accept about 2 creates a minute (issue 5); 0 = no create-rate limit of our own.
DEFAULT_CREATES_PER_MINUTE = {
    ApiKind.AZURE_SORA1: 0,
    ApiKind.AZURE_VIDEOS: 2,
    ApiKind.OPENAI: 2,
    ApiKind.COMPATIBLE: 0,
}
DEFAULT_AUTH = {
    ApiKind.AZURE_SORA1: AuthMethod.API_KEY,
    ApiKind.AZURE_VIDEOS: AuthMethod.API_KEY,
    ApiKind.OPENAI: AuthMethod.BEARER,
    ApiKind.COMPATIBLE: AuthMethod.BEARER,
}
_E = TypeVar("_E", ApiKind, AuthMethod)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class ProfileInfo:
    """A profile as shown to users: everything except the key itself."""

    id: int
    name: str
    api_kind: ApiKind
    endpoint: str
    deployment: str | None
    model: str | None
    api_version: str | None
    auth_method: AuthMethod
    has_key: bool
    running_cap: int
    creates_per_minute: int
    requests_per_minute: int
    created_at: datetime

    @classmethod
    def of(cls, row: Profile) -> ProfileInfo:
        return cls(
            id=row.id,
            name=row.name,
            api_kind=ApiKind(row.api_kind),
            endpoint=row.endpoint,
            deployment=row.deployment,
            model=row.model,
            api_version=row.api_version,
            auth_method=AuthMethod(row.auth_method),
            has_key=row.api_key_encrypted is not None,
            running_cap=row.running_cap,
            creates_per_minute=row.creates_per_minute,
            requests_per_minute=row.requests_per_minute,
            created_at=row.created_at,
        )


def _choice(enum: type[_E], field: str, value: object) -> _E:
    try:
        return enum(value)
    except ValueError:
        allowed = [member.value for member in enum]
        raise ValidationError(
            f"{field}={value!r} is not allowed: choose one of {', '.join(allowed)}",
            field=field,
            value=value,
            allowed=allowed,
        ) from None


def _count(field: str, value: int, minimum: int, meaning: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(f"{field}={value!r} is not allowed: {meaning}", field=field, value=value)
    return value


def add_profile(
    session: Session,
    name: str,
    *,
    api_kind: ApiKind | str,
    endpoint: str,
    api_key: str | Secret | None = None,
    auth_method: AuthMethod | str | None = None,
    deployment: str | None = None,
    model: str | None = None,
    api_version: str | None = None,
    running_cap: int = DEFAULT_RUNNING_CAP,
    creates_per_minute: int | None = None,
    requests_per_minute: int | None = None,
) -> ProfileInfo:
    """Add a profile (flushes; the caller commits). The key is encrypted before it reaches the session.

    `creates_per_minute` / `requests_per_minute` left as None take the API's defaults."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidationError(
            f"profile name {name!r} is not allowed: 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
            field="name",
            value=name,
        )
    if session.scalar(select(Profile.id).where(Profile.name == name)) is not None:
        raise ValidationError(
            f"profile name {name!r} is taken: remove it first or choose another name",
            field="name",
            value=name,
        )
    kind = _choice(ApiKind, "api_kind", api_kind)
    auth = _choice(AuthMethod, "auth_method", auth_method or DEFAULT_AUTH[kind])
    parts = urlsplit(endpoint or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(
            f"endpoint={endpoint!r} is not allowed: give an http:// or https:// URL",
            field="endpoint",
            value=endpoint,
        )
    key = api_key.reveal() if isinstance(api_key, Secret) else api_key
    if auth is AuthMethod.ENTRA and key:
        raise ValidationError(
            "api_key is not allowed with auth_method='entra': Entra ID uses your Azure sign-in, not a key",
            field="api_key",
            value="(hidden)",
        )
    if auth is AuthMethod.API_KEY and not key:
        raise ValidationError(
            "api_key is required with auth_method='api-key' (or choose auth_method 'entra')",
            field="api_key",
            value=None,
        )
    row = Profile(
        name=name,
        api_kind=kind.value,
        endpoint=endpoint,
        deployment=deployment or None,
        model=model or None,
        api_version=api_version or None,
        auth_method=auth.value,
        api_key_encrypted=encrypt(key) if key else None,
        running_cap=_count("running_cap", running_cap, 1, "at least 1 running job"),
        creates_per_minute=_count(
            "creates_per_minute",
            DEFAULT_CREATES_PER_MINUTE[kind] if creates_per_minute is None else creates_per_minute,
            0,
            "a whole number, 0 for unlimited",
        ),
        requests_per_minute=_count(
            "requests_per_minute",
            DEFAULT_REQUESTS_PER_MINUTE if requests_per_minute is None else requests_per_minute,
            0,
            "a whole number, 0 for unlimited",
        ),
    )
    session.add(row)
    session.flush()
    return ProfileInfo.of(row)


def list_profiles(session: Session) -> list[ProfileInfo]:
    rows = session.scalars(select(Profile).order_by(Profile.created_at, Profile.id))
    return [ProfileInfo.of(row) for row in rows]


def _row(session: Session, name: str) -> Profile:
    row = session.scalar(select(Profile).where(Profile.name == name))
    if row is None:
        names = list(session.scalars(select(Profile.name).order_by(Profile.name)))
        known = ", ".join(names) if names else "none yet (add one with `sorastudio profile add`)"
        raise ValidationError(
            f"profile {name!r} does not exist: known profiles are {known}",
            field="profile",
            value=name,
            allowed=names,
        )
    return row


def get_profile(session: Session, name: str) -> ProfileInfo:
    return ProfileInfo.of(_row(session, name))


def api_key(session: Session, name: str) -> Secret | None:
    """The profile's decrypted key (None for Entra ID or keyless servers) — for the provider client only."""
    blob = _row(session, name).api_key_encrypted
    return decrypt_secret(blob) if blob is not None else None


def remove_profile(session: Session, name: str) -> None:
    """Delete a profile; refused while it has unfinished generations (they need it to finish)."""
    row = _row(session, name)
    active = session.scalar(
        select(func.count())
        .select_from(Generation)
        .where(
            Generation.profile_id == row.id,
            Generation.status.in_([s.value for s in Status if not s.terminal]),
        )
    )
    if active:
        raise ValidationError(
            f"profile {name!r} has {active} unfinished generation(s): wait for them or cancel them first",
            field="profile",
            value=name,
        )
    session.delete(row)
    session.flush()


def default_profile(
    session: Session, emulator_url: str, *, api_kind: ApiKind | str = ApiKind.AZURE_VIDEOS
) -> ProfileInfo:
    """The profile used when none is named: the oldest non-emulator profile, else the emulator profile.

    The emulator profile is created here on first use, pointing at `emulator_url` with the emulator's
    key and its `sora-2` deployment; by default it speaks the Azure Sora 2 API, whose limits (2 running,
    2 creates a minute) the emulator enforces as Azure does.
    """
    rows = list(session.scalars(select(Profile).order_by(Profile.created_at, Profile.id)))
    for row in rows:
        if row.name != EMULATOR_PROFILE:
            return ProfileInfo.of(row)
    if rows:
        return ProfileInfo.of(rows[0])
    return emulator_profile(session, emulator_url, api_kind=api_kind)


def emulator_profile(
    session: Session, emulator_url: str, *, api_kind: ApiKind | str = ApiKind.AZURE_VIDEOS
) -> ProfileInfo:
    """The built-in `emulator` profile, created on first use (also when asked for by name, so
    `-p emulator` works in a fresh home) with the emulator's key and its `sora-2` deployment."""
    row = session.scalar(select(Profile).where(Profile.name == EMULATOR_PROFILE))
    if row is not None:
        return ProfileInfo.of(row)
    return add_profile(
        session,
        EMULATOR_PROFILE,
        api_kind=api_kind,
        endpoint=emulator_url,
        api_key=EMULATOR_KEY,
        deployment=EMULATOR_MODEL,
        model=EMULATOR_MODEL,
    )
