"""The model catalog: capabilities per model and provider, lookup, configuration, declared servers."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from sorastudio.catalog import (
    DEFAULT_CATALOG,
    OPENAI_SORA_SHUTDOWN,
    ApiFamily,
    Provider,
    compatible_entry,
)
from sorastudio.domain import Mode
from sorastudio.errors import ValidationError

SORA1_SIZES = [
    "480x480",
    "480x854",
    "854x480",
    "720x720",
    "720x1280",
    "1280x720",
    "1080x1080",
    "1080x1920",
    "1920x1080",
]


def test_default_catalog_entries() -> None:
    assert list(DEFAULT_CATALOG) == [
        "azure/sora",
        "azure/sora-2",
        "azure/sora-2-pro",
        "openai/sora-2",
        "openai/sora-2-pro",
    ]
    assert DEFAULT_CATALOG["azure/sora"].display_name == "Sora 1 (Azure)"
    assert DEFAULT_CATALOG["openai/sora-2-pro"].display_name == "Sora 2 Pro (OpenAI)"


def test_sora1_capabilities() -> None:
    sora = DEFAULT_CATALOG["azure/sora"]
    assert sora.api is ApiFamily.SORA1_JOBS
    assert list(sora.sizes) == SORA1_SIZES
    assert sora.seconds == tuple(range(1, 21))
    assert sora.modes == {Mode.TEXT, Mode.IMAGE}
    assert sora.audio is False
    assert sora.price.scale_by_pixels is True
    assert sora.describe_seconds() == "1 to 20"


@pytest.mark.parametrize(
    ("size", "most"),
    [
        ("480x480", 4),
        ("480x854", 4),
        ("854x480", 4),
        ("720x720", 4),
        ("720x1280", 2),
        ("1280x720", 2),
        ("1080x1080", 1),
        ("1080x1920", 1),
        ("1920x1080", 1),
    ],
)
def test_sora1_variant_rule_for_every_size(size: str, most: int) -> None:
    assert DEFAULT_CATALOG["azure/sora"].max_variants(size) == most


@pytest.mark.parametrize("provider", ["azure", "openai"])
def test_sora2_capabilities(provider: str) -> None:
    entry = DEFAULT_CATALOG[f"{provider}/sora-2"]
    assert entry.api is ApiFamily.VIDEOS
    assert entry.sizes == ("720x1280", "1280x720")
    assert entry.seconds == (4, 8, 12)
    assert (entry.default_size, entry.default_seconds) == ("720x1280", 4)
    assert entry.modes == {Mode.TEXT, Mode.IMAGE, Mode.REMIX}
    assert entry.audio is True
    assert entry.max_variants("1280x720") == 1
    assert entry.price.rate("1280x720") == Decimal("0.10")
    assert entry.describe_seconds() == "4, 8 or 12"


@pytest.mark.parametrize("provider", ["azure", "openai"])
def test_sora2_pro_adds_the_tall_and_wide_sizes(provider: str) -> None:
    entry = DEFAULT_CATALOG[f"{provider}/sora-2-pro"]
    assert entry.sizes == ("720x1280", "1280x720", "1024x1792", "1792x1024")
    assert entry.seconds == (4, 8, 12)
    assert entry.audio is True


def test_openai_entries_retire_with_the_sora_api_and_azure_ones_have_no_date() -> None:
    assert date(2026, 9, 24) == OPENAI_SORA_SHUTDOWN
    for entry_id, entry in DEFAULT_CATALOG.items():
        expected = OPENAI_SORA_SHUTDOWN if entry.provider is Provider.OPENAI else None
        assert entry.retires_on == expected, entry_id
    assert [e.id for e in DEFAULT_CATALOG.available(date(2026, 9, 24))] == [
        "azure/sora",
        "azure/sora-2",
        "azure/sora-2-pro",
    ]
    assert len(DEFAULT_CATALOG.available(date(2026, 9, 23))) == 5


def test_resolve_by_id_by_name_and_provider_and_by_snapshot_alias() -> None:
    assert DEFAULT_CATALOG.resolve("openai/sora-2").id == "openai/sora-2"
    assert DEFAULT_CATALOG.resolve("sora-2", "azure").id == "azure/sora-2"
    assert DEFAULT_CATALOG.resolve("sora", None).id == "azure/sora"  # only Azure offers Sora 1
    assert DEFAULT_CATALOG.resolve("sora-2-2025-12-08").id == "openai/sora-2"
    assert DEFAULT_CATALOG.resolve("sora-2-pro-2025-10-06").id == "openai/sora-2-pro"


def test_resolve_refuses_ambiguous_and_unknown_names() -> None:
    with pytest.raises(ValidationError) as ambiguous:
        DEFAULT_CATALOG.resolve("sora-2")
    assert (
        str(ambiguous.value)
        == "model=sora-2 is offered by several providers: choose azure/sora-2 or openai/sora-2"
    )
    assert ambiguous.value.allowed == ("azure/sora-2", "openai/sora-2")

    with pytest.raises(ValidationError) as unknown:
        DEFAULT_CATALOG.resolve("sora", "openai")
    assert str(unknown.value) == (
        "model=sora is not in the catalog for provider openai: choose openai/sora-2 or openai/sora-2-pro"
    )
    assert unknown.value.field == "model"


def test_entries_are_immutable() -> None:
    entry = DEFAULT_CATALOG["azure/sora"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.retires_on = date(2030, 1, 1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        entry.max_variants_by_size["1920x1080"] = 4  # type: ignore[index]


def test_retirement_dates_are_configurable() -> None:
    catalog = DEFAULT_CATALOG.with_retirements({"azure/sora": "2027-01-31", "openai/sora-2": None})
    assert catalog["azure/sora"].retires_on == date(2027, 1, 31)
    assert catalog["openai/sora-2"].retires_on is None
    assert catalog["azure/sora-2"].retires_on is None
    assert DEFAULT_CATALOG["azure/sora"].retires_on is None  # copy, not mutation
    # a bare model name sets every provider's entry
    both = DEFAULT_CATALOG.with_retirements({"sora-2-pro": date(2026, 12, 1)})
    assert both["azure/sora-2-pro"].retires_on == both["openai/sora-2-pro"].retires_on == date(2026, 12, 1)


def test_bad_retirement_configuration_is_refused() -> None:
    with pytest.raises(ValidationError) as bad_date:
        DEFAULT_CATALOG.with_retirements({"azure/sora": "next spring"})
    assert str(bad_date.value) == "retirements.azure/sora=next spring is not a date: write YYYY-MM-DD"
    with pytest.raises(ValidationError) as unknown:
        DEFAULT_CATALOG.with_retirements({"veo": "2027-01-01"})
    assert str(unknown.value).startswith("retirements names unknown model veo: choose azure/sora, ")


def test_compatible_entry_carries_what_the_user_declares() -> None:
    entry = compatible_entry(
        "wan-2.2",
        sizes=["832x480", "480 x 832"],
        seconds=["5", 3],
        modes=["text", Mode.IMAGE],
        audio=False,
        price_per_second="0.02",
        default_seconds=5,
        display_name="Wan 2.2 on the lab box",
    )
    assert entry.id == "compatible/wan-2.2"
    assert entry.provider is Provider.COMPATIBLE
    assert entry.api is ApiFamily.VIDEOS
    assert entry.sizes == ("832x480", "480x832")
    assert entry.seconds == (3, 5)
    assert (entry.default_size, entry.default_seconds) == ("832x480", 5)
    assert entry.modes == {Mode.TEXT, Mode.IMAGE}
    assert entry.price.rate("832x480") == Decimal("0.02")
    assert entry.max_variants("832x480") == 1
    assert entry.display_name == "Wan 2.2 on the lab box"
    assert entry.retires_on is None

    catalog = DEFAULT_CATALOG.with_entries(entry)
    assert catalog.resolve("wan-2.2").id == "compatible/wan-2.2"
    assert "compatible/wan-2.2" not in DEFAULT_CATALOG


def test_compatible_entry_defaults_to_free_text_only() -> None:
    entry = compatible_entry("local", sizes=["640x360"], seconds=[4])
    assert entry.modes == {Mode.TEXT}
    assert entry.price.per_second == Decimal("0")
    assert entry.audio is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": ["640x360"], "seconds": [4], "default_size": "1280x720"},
         "default_size=1280x720 is not among the declared sizes: choose 640x360"),
        ({"sizes": ["640x360"], "seconds": [4, 8], "default_seconds": 6},
         "default_seconds=6 is not among the declared durations: choose 4 or 8"),
        ({"sizes": ["wide"], "seconds": [4]},
         "size=wide is not WIDTHxHEIGHT in pixels: write e.g. 1280x720"),
        ({"sizes": [], "seconds": [4]},
         "sizes is empty: declare at least one WIDTHxHEIGHT"),
        ({"sizes": ["640x360"], "seconds": [0]},
         "seconds=0 is not a whole number of seconds (1 or more)"),
        ({"sizes": ["640x360"], "seconds": [4], "modes": ["text", "video"]},
         "modes=['text', 'video'] contains an unknown mode: choose from text, image or remix"),
        ({"sizes": ["640x360"], "seconds": [4], "price_per_second": "-1"},
         "price_per_second=-1 is not a price: write a non-negative amount in dollars, e.g. 0.10"),
    ],
)  # fmt: skip
def test_compatible_entry_refuses_inconsistent_declarations(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        compatible_entry("local", **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message
