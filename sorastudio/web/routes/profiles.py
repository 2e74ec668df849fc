"""`/api/profiles`: add, list, test and remove provider profiles. Keys go in and never come out:
responses carry `has_key` only (`ProfileInfo` has no key material to leak)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, status
from pydantic import Field

from sorastudio.store.profiles import ProfileInfo
from sorastudio.web import services
from sorastudio.web.deps import StudioDep
from sorastudio.web.schemas import ProfileIn, ProfileOut
from sorastudio.web.security import require_csrf


class ProfileCreate(ProfileIn):
    """`ProfileIn` with the profile's own request budget, as `sorastudio profile add` takes it."""

    creates_per_minute: int | None = Field(
        None, description="creates a minute; 0 = no limit of ours; empty = the API's default (2 for Sora 2)"
    )
    requests_per_minute: int | None = Field(
        None, description="requests a minute (polls, downloads…); 0 = no limit; empty = 60"
    )


router = APIRouter(prefix="/api/profiles", tags=["profiles"], dependencies=[Depends(require_csrf)])


def profile_out(info: ProfileInfo) -> ProfileOut:
    data = asdict(info)
    data.pop("id")
    return ProfileOut(**data | {"api_kind": info.api_kind.value, "auth_method": info.auth_method.value})


@router.get("")
async def list_profiles(studio: StudioDep) -> list[ProfileOut]:
    return [profile_out(p) for p in await services.call(studio.profiles.list)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def add(studio: StudioDep, body: ProfileCreate) -> ProfileOut:
    settings: dict[str, Any] = body.model_dump(exclude={"name"})
    settings = {k: (v or None) if isinstance(v, str) else v for k, v in settings.items()}
    return profile_out(await services.call(studio.profiles.add, body.name, **settings))


@router.post("/{name}/test")
async def test(studio: StudioDep, name: str) -> dict[str, Any]:
    """One cheap authenticated read against the profile's endpoint: `{"ok": bool, "message": …}`."""
    return await services.test_profile(studio, name)


@router.delete("/{name}")
async def remove(studio: StudioDep, name: str) -> dict[str, str]:
    await services.call(studio.profiles.remove, name)
    return {"removed": name}
