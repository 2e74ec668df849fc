"""VideoRequest and validate_request: every refusal names the field, the value and what is allowed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pydantic
import pytest

from sorastudio.catalog import DEFAULT_CATALOG, compatible_entry
from sorastudio.domain import Fit, Mode, ValidatedRequest, VideoRequest, parse_request, validate_request
from sorastudio.errors import ModelRetired, SorastudioError, ValidationError

BEFORE_SHUTDOWN = date(2026, 6, 1)


def refusal(
    data: dict[str, Any], provider: str | None = None, today: date = BEFORE_SHUTDOWN
) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_request({"prompt": "a red kite", **data}, DEFAULT_CATALOG, provider=provider, today=today)
    return caught.value


# --- capability checks against the catalog -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "provider", "message"),
    [
        ({"model": "sora-2", "seconds": 6}, "azure", "seconds=6 is not offered by sora-2: choose 4, 8 or 12"),
        ({"model": "sora", "seconds": 21}, None, "seconds=21 is not offered by sora: choose 1 to 20"),
        ({"model": "sora", "size": "1920x1080", "variants": 2}, None,
         "size=1920x1080 allows 1 variant (variants=2 requested)"),
        ({"model": "sora", "size": "1280x720", "variants": 3}, None,
         "size=1280x720 allows at most 2 variants (variants=3 requested)"),
        ({"model": "sora", "size": "480x480", "variants": 5}, None,
         "size=480x480 allows at most 4 variants (variants=5 requested)"),
        ({"model": "sora", "remix_of": "task_01"}, None,
         "mode=remix is not offered by sora: choose text or image"),
        ({"model": "sora-2", "size": "1920x1080"}, "openai",
         "size=1920x1080 is not offered by sora-2: choose 720x1280 or 1280x720"),
        ({"model": "sora-2-pro", "size": "720x720"}, "openai",
         "size=720x720 is not offered by sora-2-pro: choose 720x1280, 1280x720, 1024x1792 or 1792x1024"),
        ({"model": "sora", "size": "1024x1792"}, None,
         "size=1024x1792 is not offered by sora: choose 480x480, 480x854, 854x480, 720x720, 720x1280, "
         "1280x720, 1080x1080, 1080x1920 or 1920x1080"),
        ({"model": "openai/sora-2", "variants": 2}, None,
         "variants=2 is not offered by sora-2: it makes 1 variant per job"),
    ],
)  # fmt: skip
def test_capability_refusals_read_exactly(data: dict[str, Any], provider: str | None, message: str) -> None:
    assert str(refusal(data, provider)) == message


def test_refusals_carry_field_value_and_allowed() -> None:
    seconds = refusal({"model": "azure/sora-2", "seconds": 6})
    assert (seconds.field, seconds.value, seconds.allowed) == ("seconds", 6, ("4", "8", "12"))
    variants = refusal({"model": "sora", "size": "1280x720", "variants": 3})
    assert (variants.field, variants.value, variants.allowed) == ("variants", 3, ("1", "2"))
    mode = refusal({"model": "sora", "remix_of": "task_01"})
    assert (mode.field, mode.value, mode.allowed) == ("mode", "remix", ("text", "image"))


@pytest.mark.parametrize(
    ("size", "most"),
    [("480x480", 4), ("480x854", 4), ("854x480", 4), ("720x720", 4), ("720x1280", 2), ("1280x720", 2),
     ("1080x1080", 1), ("1080x1920", 1), ("1920x1080", 1)],
)  # fmt: skip
def test_sora1_variant_rule_accepts_the_maximum_and_refuses_one_more(size: str, most: int) -> None:
    accepted = validate_request(
        {"prompt": "a", "model": "sora", "size": size, "seconds": 20, "variants": most}, DEFAULT_CATALOG
    )
    assert accepted.request.variants == most
    assert refusal({"model": "sora", "size": size, "variants": most + 1}).field == "variants"


def test_valid_request_gets_model_defaults_and_no_warnings() -> None:
    result = validate_request({"prompt": "a cat", "model": "sora-2"}, DEFAULT_CATALOG, provider="azure")
    assert isinstance(result, ValidatedRequest)
    assert result.entry.id == "azure/sora-2"
    assert (result.request.size, result.request.seconds, result.request.variants) == ("720x1280", 4, 1)
    assert (result.width, result.height) == (720, 1280)
    assert result.warnings == []


def test_unknown_and_ambiguous_models_are_refused() -> None:
    assert str(refusal({"model": "sora-2"})) == (
        "model=sora-2 is offered by several providers: choose azure/sora-2 or openai/sora-2"
    )
    assert str(refusal({"model": "veo-3"})).startswith(
        "model=veo-3 is not in the catalog: choose azure/sora, "
    )


def test_compatible_server_is_validated_against_its_declaration() -> None:
    catalog = DEFAULT_CATALOG.with_entries(compatible_entry("local", sizes=["640x360"], seconds=[2, 4]))
    ok = validate_request({"prompt": "a", "model": "local", "seconds": "2"}, catalog)
    assert (ok.request.size, ok.request.seconds) == ("640x360", 2)
    with pytest.raises(ValidationError) as caught:
        validate_request({"prompt": "a", "model": "local", "image": b"\x89PNG"}, catalog)
    assert str(caught.value) == "mode=image is not offered by local: choose text"


# --- retirement -----------------------------------------------------------------------------------


def test_retired_model_is_refused_naming_the_date_and_what_remains() -> None:
    error = refusal({"model": "sora-2"}, provider="openai", today=date(2026, 9, 24))
    assert isinstance(error, ModelRetired)
    assert str(error) == (
        "model=sora-2 (openai/sora-2) was retired on 2026-09-24: "
        "choose azure/sora, azure/sora-2 or azure/sora-2-pro"
    )
    assert error.retired_on == date(2026, 9, 24)
    assert error.remaining == ("azure/sora", "azure/sora-2", "azure/sora-2-pro")
    assert error.field == "model"


def test_retired_with_nothing_left() -> None:
    catalog = DEFAULT_CATALOG.with_retirements(
        {"sora": "2026-01-01", "sora-2": "2026-01-01", "sora-2-pro": "2026-01-01"}
    )
    with pytest.raises(ModelRetired) as caught:
        validate_request({"prompt": "a", "model": "sora"}, catalog, today=date(2026, 2, 1))
    assert str(caught.value) == (
        "model=sora (azure/sora) was retired on 2026-01-01: no other model in the catalog remains"
    )


@pytest.mark.parametrize(
    ("today", "warning"),
    [
        (date(2026, 9, 23), "openai/sora-2-pro retires on 2026-09-24 (tomorrow); after that "
                            "choose azure/sora, azure/sora-2 or azure/sora-2-pro"),
        (date(2026, 8, 25), "openai/sora-2-pro retires on 2026-09-24 (in 30 days); after that "
                            "choose azure/sora, azure/sora-2 or azure/sora-2-pro"),
        (date(2026, 8, 24), None),  # 31 days ahead: no warning yet
    ],
)  # fmt: skip
def test_model_retiring_within_30_days_warns_but_is_accepted(today: date, warning: str | None) -> None:
    result = validate_request(
        {"prompt": "a", "model": "sora-2-pro", "size": "1792x1024"},
        DEFAULT_CATALOG,
        provider="openai",
        today=today,
    )
    assert result.warnings == ([warning] if warning else [])


def test_configured_azure_retirement_applies_too() -> None:
    catalog = DEFAULT_CATALOG.with_retirements({"azure/sora": "2026-07-01"})
    with pytest.raises(ModelRetired) as caught:
        validate_request({"prompt": "a", "model": "sora"}, catalog, today=date(2026, 7, 1))
    assert caught.value.remaining == (
        "azure/sora-2",
        "azure/sora-2-pro",
        "openai/sora-2",
        "openai/sora-2-pro",
    )


# --- the request itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"prompt": "", "model": "sora"}, "prompt", "prompt is empty: write 1 to 32000 characters"),
        ({"prompt": "   ", "model": "sora"}, "prompt", "prompt is empty: write 1 to 32000 characters"),
        ({"prompt": "x" * 32001, "model": "sora"}, "prompt",
         "prompt has 32001 characters: at most 32000 are allowed"),
        ({"model": "sora"}, "prompt", "prompt is missing"),
        ({"prompt": "a", "model": " "}, "model", "model is empty: name a model from the catalog"),
        ({"prompt": "a", "model": "sora", "size": "big"}, "size",
         "size=big is not WIDTHxHEIGHT in pixels: write e.g. 1280x720"),
        ({"prompt": "a", "model": "sora", "seconds": 0}, "seconds",
         "seconds=0 is not a whole number of seconds (1 or more)"),
        ({"prompt": "a", "model": "sora", "seconds": 4.5}, "seconds",
         "seconds=4.5 is not a whole number of seconds (1 or more)"),
        ({"prompt": "a", "model": "sora", "seconds": True}, "seconds",
         "seconds=True is not a whole number of seconds (1 or more)"),
        ({"prompt": "a", "model": "sora", "variants": "two"}, "variants",
         "variants=two is not a whole number of variants (1 or more)"),
        ({"prompt": "a", "model": "sora", "mode": "video"}, "mode",
         "mode=video is not a mode: choose text, image or remix"),
        ({"prompt": "a", "model": "sora", "fit": "zoom"}, "fit",
         "fit=zoom is not a fit: choose cover, contain or stretch"),
        ({"prompt": "a", "model": "sora", "mode": "image"}, "image",
         "image is missing: mode=image needs a reference image (JPEG, PNG or WebP)"),
        ({"prompt": "a", "model": "sora-2", "mode": "remix"}, "remix_of",
         "remix_of is missing: mode=remix needs the id of the video to remix"),
        ({"prompt": "a", "model": "sora", "mode": "text", "image": b"\x89PNG"}, "image",
         "image is only used in image mode (mode=text): drop it or set mode=image"),
        ({"prompt": "a", "model": "sora-2", "mode": "image", "image": b"x", "remix_of": "v_1"}, "remix_of",
         "remix_of is only used in remix mode (mode=image): drop it or set mode=remix"),
        ({"prompt": "a", "model": "sora", "width": 1280}, "height",
         "height is missing: give width and height, or size as WxH"),
        ({"prompt": "a", "model": "sora", "size": "1280x720", "width": 720, "height": 1280}, "size",
         "size=1280x720 contradicts width=720, height=1280: give one or the other"),
        ({"prompt": "a", "model": "sora", "secnds": 4}, "secnds",
         "secnds is not a request field: choose prompt, model, size, seconds, variants, mode, image, "
         "remix_of or fit"),
    ],
)  # fmt: skip
def test_request_refusals_read_exactly(data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_request(data)
    assert caught.value.field == field
    assert str(caught.value) == message


def test_longest_prompt_is_accepted() -> None:
    assert len(parse_request({"prompt": "x" * 32000, "model": "sora"}).prompt) == 32000


def test_other_spellings_are_accepted() -> None:
    request = parse_request(
        {"prompt": "a", "model": "sora", "width": "854", "height": 480, "n_seconds": "12", "n_variants": "3"}
    )
    assert (request.size, request.width, request.height) == ("854x480", 854, 480)
    assert (request.seconds, request.variants) == (12, 3)
    assert parse_request({"prompt": "a", "model": "sora", "size": " 1280 × 720 "}).size == "1280x720"
    assert parse_request({"prompt": "a", "model": "sora", "mode": "IMAGE", "image": b"x"}).mode is Mode.IMAGE


def test_mode_is_inferred_from_the_inputs() -> None:
    assert parse_request({"prompt": "a", "model": "sora-2"}).mode is Mode.TEXT
    assert parse_request({"prompt": "a", "model": "sora-2", "image": b"\xff\xd8"}).mode is Mode.IMAGE
    assert parse_request({"prompt": "a", "model": "sora-2", "remix_of": "video_1"}).mode is Mode.REMIX


def test_image_may_be_a_path_or_bytes_and_a_path_must_exist(tmp_path: Path) -> None:
    picture = tmp_path / "kite.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    by_path = validate_request(
        {"prompt": "a", "model": "sora-2", "image": str(picture)}, DEFAULT_CATALOG, provider="azure"
    )
    assert by_path.request.image == picture
    assert by_path.request.fit is Fit.COVER
    by_bytes = validate_request(
        {"prompt": "a", "model": "sora-2", "image": b"\xff\xd8\xff", "fit": "contain"},
        DEFAULT_CATALOG,
        provider="azure",
    )
    assert by_bytes.request.image == b"\xff\xd8\xff"
    assert by_bytes.request.fit is Fit.CONTAIN

    missing = refusal({"model": "azure/sora-2", "image": str(tmp_path / "gone.png")})
    assert (
        str(missing)
        == f"image={tmp_path / 'gone.png'} is not a file: give the path of a JPEG, PNG or WebP image"
    )


def test_direct_construction_raises_pydantic_error_carrying_our_message() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        VideoRequest(prompt="a", model="sora", seconds=0)
    assert "seconds=0 is not a whole number of seconds (1 or more)" in str(caught.value)


def test_request_is_frozen_and_validation_does_not_change_it() -> None:
    request = VideoRequest(prompt="a", model="sora")
    result = validate_request(request, DEFAULT_CATALOG)
    assert request.size is None and result.request.size == "1280x720"
    with pytest.raises(pydantic.ValidationError):
        request.prompt = "b"  # type: ignore[misc]


def test_validation_errors_sit_in_the_one_tree() -> None:
    error = refusal({"model": "sora-2"}, provider="openai", today=date(2026, 10, 1))
    assert isinstance(error, ModelRetired)
    assert isinstance(error, ValidationError)
    assert isinstance(error, SorastudioError)
    assert isinstance(error, ValueError)  # so it may be raised inside Pydantic validators
