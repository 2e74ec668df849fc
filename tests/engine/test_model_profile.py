"""A model the profile's API cannot run is refused before anything is priced, stored or reserved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sorastudio.catalog import DEFAULT_CATALOG, compatible_entry
from sorastudio.errors import ValidationError
from sorastudio.store.models import Generation, LedgerEntry
from sorastudio.studio import AsyncStudio

pytestmark = pytest.mark.anyio
URL = "http://127.0.0.1:9"  # never reached: every refusal happens before any network call


def _rows(studio: AsyncStudio) -> tuple[int, int]:
    with studio.store.session() as session:
        generations = session.scalar(select(func.count()).select_from(Generation))
        ledger = session.scalar(select(func.count()).select_from(LedgerEntry))
    return int(generations or 0), int(ledger or 0)


async def test_sora1_on_the_default_emulator_profile_is_refused_and_nothing_stored(
    isolated_home: Path,
) -> None:
    async with AsyncStudio(emulator_url=URL) as studio:
        with pytest.raises(ValidationError) as refused:
            await studio.generate("a boat", model="sora", size="480x480", seconds=2)
        message = str(refused.value)
        assert "model=sora cannot run on profile 'emulator'" in message
        assert "azure_videos" in message and "choose model sora-2 or sora-2-pro" in message
        assert refused.value.field == "model" and list(refused.value.allowed) == ["sora-2", "sora-2-pro"]
        with pytest.raises(ValidationError, match="cannot run on profile"):
            await studio.generate("a boat", model="sora", size="480x480", seconds=2, dry_run=True)
        with pytest.raises(ValidationError, match="cannot run on profile"):
            await studio.estimate(model="sora", size="480x480", seconds=2)
        assert _rows(studio) == (0, 0)
        # What the profile can run is still accepted (the emulator has a deployment per model).
        pro = await studio.generate("a boat", model="sora-2-pro", seconds=4, dry_run=True)
        assert pro.total == Decimal("1.2")


async def test_each_api_runs_only_its_own_models(isolated_home: Path) -> None:
    catalog = DEFAULT_CATALOG.with_entries(
        compatible_entry("local-video", sizes=["640x360"], seconds=[3])
    ).with_retirements({"openai/sora-2": None, "openai/sora-2-pro": None})  # OpenAI's shutdown may be past
    async with AsyncStudio(emulator_url=URL, catalog=catalog) as studio:
        studio.profiles.add("s1", api_kind="azure_sora1", endpoint=URL, api_key="k", deployment="sora")
        studio.profiles.add("oa", api_kind="openai", endpoint=URL, api_key="k")
        studio.profiles.add("local", api_kind="compatible", endpoint=URL, model="local-video")
        cases = [
            ("s1", "sora-2", "azure_sora1", ["sora"]),
            ("oa", "sora", "openai", ["sora-2", "sora-2-pro"]),
            ("oa", "azure/sora-2", "openai", ["sora-2", "sora-2-pro"]),
            ("local", "sora-2", "compatible", ["local-video"]),
        ]
        for profile, model, api, allowed in cases:
            with pytest.raises(ValidationError) as refused:
                await studio.generate("a boat", model=model, profile=profile)
            assert f"model={model} cannot run on profile {profile!r}" in str(refused.value)
            assert f"api_kind {api}" in str(refused.value)
            assert list(refused.value.allowed) == allowed
        assert _rows(studio) == (0, 0)
        assert (await studio.estimate(model="sora", size="480x480", seconds=2, profile="s1")).total > 0
        assert (await studio.estimate(model="openai/sora-2", profile="oa")).total == Decimal("0.4")
        assert (await studio.estimate(profile="local")).total == 0


async def test_a_deployment_profile_names_its_deployment(isolated_home: Path) -> None:
    async with AsyncStudio(emulator_url=URL) as studio:
        studio.profiles.add(
            "prod", api_kind="azure_videos", endpoint=URL, api_key="k", deployment="my-sora2", model="sora-2"
        )
        with pytest.raises(ValidationError) as refused:
            await studio.generate("a boat", model="sora-2-pro", profile="prod")
        assert "deployment my-sora2" in str(refused.value) and list(refused.value.allowed) == ["sora-2"]


async def test_retired_models_are_not_suggested(isolated_home: Path) -> None:
    catalog = DEFAULT_CATALOG.with_retirements({"openai/sora-2": date(2000, 1, 1), "openai/sora-2-pro": None})
    async with AsyncStudio(emulator_url=URL, catalog=catalog) as studio:
        studio.profiles.add("oa", api_kind="openai", endpoint=URL, api_key="k")
        with pytest.raises(ValidationError) as refused:
            await studio.generate("a boat", model="sora", profile="oa")
        assert list(refused.value.allowed) == ["sora-2-pro"]


async def test_an_unknown_model_keeps_the_catalog_error(isolated_home: Path) -> None:
    async with AsyncStudio(emulator_url=URL) as studio:
        with pytest.raises(ValidationError, match="model=sora-9 is not in the catalog"):
            await studio.generate("a boat", model="sora-9")
