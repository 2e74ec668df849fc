"""Cost estimates: the seed guide's examples to the cent, sora-2-pro rates, rounding, overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sorastudio.catalog import DEFAULT_CATALOG, compatible_entry
from sorastudio.domain import VideoRequest, validate_request
from sorastudio.errors import ValidationError
from sorastudio.pricing import estimate, price


@pytest.mark.parametrize(
    ("entry_id", "size", "seconds", "variants", "expected"),
    [
        # seed guide, "Sora 1 Pricing Model — Examples"
        ("azure/sora", "1280x720", 12, 1, "0.60"),
        ("azure/sora", "1920x1080", 12, 1, "1.35"),
        ("azure/sora", "1280x720", 12, 2, "1.20"),
        # seed guide, "Sora 2 Pricing Model — Examples"
        ("azure/sora-2", "1280x720", 4, 1, "0.40"),
        ("azure/sora-2", "1280x720", 12, 1, "1.20"),
        ("azure/sora-2", "720x1280", 8, 1, "0.80"),
        # seed guide, cost comparison table: Sora 1 720p 4 s
        ("azure/sora", "1280x720", 4, 1, "0.20"),
    ],
)
def test_seed_guide_examples(entry_id: str, size: str, seconds: int, variants: int, expected: str) -> None:
    request = VideoRequest(prompt="a red kite", model=entry_id, size=size, seconds=seconds, variants=variants)
    validated = validate_request(request, DEFAULT_CATALOG)
    result = estimate(validated)
    assert result.total == Decimal(expected)
    assert isinstance(result.total, Decimal)
    assert result.display == f"${expected}"


@pytest.mark.parametrize("provider", ["azure", "openai"])
@pytest.mark.parametrize(
    ("size", "seconds", "expected"),
    [
        ("720x1280", 4, "1.20"),
        ("1280x720", 12, "3.60"),
        ("1024x1792", 8, "4.00"),
        ("1792x1024", 12, "6.00"),
    ],
)
def test_sora2_pro_rate_depends_on_size(provider: str, size: str, seconds: int, expected: str) -> None:
    result = price(DEFAULT_CATALOG[f"{provider}/sora-2-pro"], size=size, seconds=seconds)
    assert result.total == Decimal(expected)
    assert result.rate_per_second == (
        Decimal("0.50") if size.startswith(("1024", "1792")) else Decimal("0.30")
    )


def test_sora2_flat_rate_and_variants_multiply() -> None:
    # /videos makes one variant per job, but the rule itself is per variant (seed: 0.10 × s × variants)
    assert price(DEFAULT_CATALOG["openai/sora-2"], size="720x1280", seconds=8, variants=3).total == Decimal(
        "2.40"
    )


def test_sora1_non_terminating_pixel_factor_is_rounded_half_up_to_four_places() -> None:
    # 480x854 is 409920/921600 = 0.444791666… of 720p; 0.05 × 20 × 4 × that = 1.7791666…
    result = price(DEFAULT_CATALOG["azure/sora"], size="480x854", seconds=20, variants=4)
    assert result.total == Decimal("1.7792")
    assert result.display == "$1.78"
    assert result.pixel_factor == Decimal("0.444792")
    assert result.per_variant == Decimal("0.4448")


def test_rounding_is_half_up_not_bankers() -> None:
    tiny = compatible_entry("tiny", sizes=["64x64"], seconds=[1], price_per_second="0.00005")
    assert price(tiny, size="64x64", seconds=1).total == Decimal("0.0001")  # banker's would give 0.0000
    half_cent = compatible_entry("half", sizes=["64x64"], seconds=[1], price_per_second="0.005")
    assert price(half_cent, size="64x64", seconds=1).display == "$0.01"  # banker's would give $0.00


def test_estimate_fills_the_models_defaults() -> None:
    validated = validate_request({"prompt": "a cat", "model": "sora-2"}, DEFAULT_CATALOG, provider="azure")
    assert (validated.request.size, validated.request.seconds) == ("720x1280", 4)
    assert estimate(validated).total == Decimal("0.40")
    # an unvalidated request can be priced too, given its entry
    bare = VideoRequest(prompt="a cat", model="sora")
    assert estimate(bare, DEFAULT_CATALOG["azure/sora"]).total == Decimal("0.25")  # 1280x720, 5 s default


def test_estimate_needs_an_entry_for_a_plain_request() -> None:
    with pytest.raises(TypeError):
        estimate(VideoRequest(prompt="a cat", model="sora"))


def test_describe_shows_the_formula() -> None:
    result = price(DEFAULT_CATALOG["azure/sora"], size="1920x1080", seconds=12)
    assert result.describe() == (
        "azure/sora 1920x1080: $0.05/s × 12 s × 1 variant × 2.25 (pixels vs 720p) = $1.35"
    )
    pro = price(DEFAULT_CATALOG["openai/sora-2-pro"], size="1792x1024", seconds=4)
    assert pro.describe() == "openai/sora-2-pro 1792x1024: $0.50/s × 4 s × 1 variant = $2.00"


def test_scalar_price_override_applies_to_every_provider_and_size() -> None:
    catalog = DEFAULT_CATALOG.with_prices({"sora-2": "0.12", "sora-2-pro": 0.4})
    assert price(catalog["azure/sora-2"], size="1280x720", seconds=4).total == Decimal("0.48")
    assert price(catalog["openai/sora-2"], size="1280x720", seconds=4).total == Decimal("0.48")
    # a float from TOML/YAML is read through str: 0.4 stays exactly 0.4
    assert catalog["openai/sora-2-pro"].price.rate("1792x1024") == Decimal("0.4")
    assert price(catalog["openai/sora-2-pro"], size="1792x1024", seconds=4).total == Decimal("1.60")
    assert price(catalog["openai/sora-2-pro"], size="1792x1024", seconds=4).describe() == (
        "openai/sora-2-pro 1792x1024: $0.40/s × 4 s × 1 variant = $1.60"
    )
    # the original catalog is untouched
    assert price(DEFAULT_CATALOG["azure/sora-2"], size="1280x720", seconds=4).total == Decimal("0.40")


def test_per_size_price_override_changes_only_what_it_names() -> None:
    catalog = DEFAULT_CATALOG.with_prices({"openai/sora-2-pro": {"1792x1024": "0.60", "default": "0.35"}})
    pro = catalog["openai/sora-2-pro"]
    assert pro.price.rate("1792x1024") == Decimal("0.60")
    assert pro.price.rate("1024x1792") == Decimal("0.50")
    assert pro.price.rate("720x1280") == Decimal("0.35")
    assert catalog["azure/sora-2-pro"].price.rate("1792x1024") == Decimal("0.50")


def test_sora1_override_keeps_pixel_scaling() -> None:
    catalog = DEFAULT_CATALOG.with_prices({"azure/sora": "0.10"})
    assert price(catalog["azure/sora"], size="1920x1080", seconds=12).total == Decimal("2.70")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"sora-3": "0.1"},
            "prices names unknown model sora-3: choose azure/sora, azure/sora-2, azure/sora-2-pro, "
            "openai/sora-2 or openai/sora-2-pro",
        ),
        (
            {"sora-2": "-0.1"},
            "prices.sora-2=-0.1 is not a price: write a non-negative amount in dollars, e.g. 0.10",
        ),
        (
            {"sora-2": "cheap"},
            "prices.sora-2=cheap is not a price: write a non-negative amount in dollars, e.g. 0.10",
        ),
        (
            {"azure/sora-2": {"1920x1080": "0.2"}},
            "prices.azure/sora-2 names size 1920x1080, which sora-2 does not offer: "
            "choose default, 720x1280 or 1280x720",
        ),
    ],
)
def test_bad_price_overrides_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DEFAULT_CATALOG.with_prices(overrides)
    assert str(caught.value) == message


def test_free_compatible_server_costs_nothing() -> None:
    local = compatible_entry("local-video", sizes=["640x360"], seconds=[2, 4])
    result = price(local, size="640x360", seconds=4)
    assert result.total == Decimal("0")
    assert result.display == "$0.00"
