"""The provider-neutral vocabulary every front door shares.

Only `providers/` translate wire statuses ("succeeded", "in_progress", …) into `Status`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from sorastudio.errors import ModelRetired, ValidationError

if TYPE_CHECKING:  # catalog imports Mode from here; at run time we only call its methods
    from sorastudio.catalog import Catalog, ModelEntry


class Status(StrEnum):
    """One status vocabulary for every API (see design/architecture.md)."""

    QUEUED = "queued"
    PREPROCESSING = "preprocessing"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in {Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.EXPIRED}


class Mode(StrEnum):
    """How a video is generated: from a prompt, from a reference image, or by remixing a finished video."""

    TEXT = "text"
    IMAGE = "image"
    REMIX = "remix"


class Fit(StrEnum):
    """How a reference image is brought to the exact video size (see `images.py`)."""

    COVER = "cover"  # scale to cover, centre-crop (default: aspect kept, nothing stretched)
    CONTAIN = "contain"  # scale to fit, letterbox
    STRETCH = "stretch"  # ignore aspect; only when asked


PROMPT_MAX_CHARS = 32000  # both APIs (spec §2.2, seed guide)


def join_choices(items: Iterable[object], conjunction: str = "or") -> str:
    """`["a", "b", "c"]` → `"a, b or c"` (every "choose …" message uses it)."""
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def parse_size(value: object) -> tuple[int, int]:
    """`"1280x720"` (also `"1280×720"`, `"1280 X 720"`, `(1280, 720)`) → `(1280, 720)`."""
    if isinstance(value, tuple | list) and len(value) == 2:
        value = f"{value[0]}x{value[1]}"
    text = str(value).strip().lower().replace("×", "x").replace(" ", "")
    width, sep, height = text.partition("x")
    if not (sep and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise ValidationError(
            f"size={value} is not WIDTHxHEIGHT in pixels: write e.g. 1280x720", field="size", value=value
        )
    return int(width), int(height)


def whole_number(field: str, value: object, what: str) -> int:
    """A positive int from an int or a digit string ("4" — both wire formats send strings)."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.isdigit():
        text = int(text)
    if isinstance(text, bool) or not isinstance(text, int) or text < 1:
        raise ValidationError(
            f"{field}={value} is not a whole number of {what} (1 or more)", field=field, value=value
        )
    return text


def _choice(enum: type[StrEnum], field: str, value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in {member.value for member in enum}:
        return enum(value.strip().lower())
    if isinstance(value, enum):
        return value
    choices = [member.value for member in enum]
    raise ValidationError(
        f"{field}={value} is not a {field}: choose {join_choices(choices)}",
        field=field,
        value=value,
        allowed=choices,
    )


class VideoRequest(BaseModel):
    """What the user asked for, the same for every model and front door.

    Construct it directly (Pydantic raises `pydantic.ValidationError` wrapping our messages) or pass a
    mapping to `validate_request()`, which raises `errors.ValidationError` naming field, value and what
    is allowed. Also accepted on input: `width` + `height` instead of `size`, and the Azure spellings
    `n_seconds` / `n_variants`. Without `mode`, it is inferred: `remix_of` → remix, `image` → image.

    `size`/`seconds` left as None mean "the model's default" and are filled in by `validate_request`.
    In remix mode they describe the source video (remix inherits them; we need them for the estimate).
    `image` is a path (a `str` is read as a path) or the file's bytes; format checks are `images.py`'s.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64")

    prompt: str
    model: str
    size: str | None = None
    seconds: int | None = None
    variants: int = 1
    mode: Mode = Mode.TEXT
    image: Path | bytes | None = None  # Path first: a str is a path, never bytes
    remix_of: str | None = None
    fit: Fit = Fit.COVER

    @model_validator(mode="before")
    @classmethod
    def _accept_other_spellings(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for azure_name, name in (("n_seconds", "seconds"), ("n_variants", "variants")):
            if azure_name in data and name not in data:
                data[name] = data.pop(azure_name)
        if "width" in data or "height" in data:
            width, height = data.pop("width", None), data.pop("height", None)
            if width is None or height is None:
                missing = "height" if height is None else "width"
                raise ValidationError(
                    f"{missing} is missing: give width and height, or size as WxH", field=missing
                )
            joined = f"{width}x{height}"
            if data.get("size") is not None and parse_size(data["size"]) != parse_size(joined):
                raise ValidationError(
                    f"size={data['size']} contradicts width={width}, height={height}: give one or the other",
                    field="size",
                    value=data["size"],
                )
            data["size"] = joined
        if data.get("mode") is None:
            data["mode"] = (
                Mode.REMIX if data.get("remix_of") else Mode.IMAGE if data.get("image") else Mode.TEXT
            )
        return data

    @field_validator("prompt", mode="before")
    @classmethod
    def _check_prompt(cls, value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(
                f"prompt is empty: write 1 to {PROMPT_MAX_CHARS} characters", field="prompt", value=value
            )
        if len(value) > PROMPT_MAX_CHARS:
            raise ValidationError(
                f"prompt has {len(value)} characters: at most {PROMPT_MAX_CHARS} are allowed",
                field="prompt",
                value=len(value),
            )
        return value

    @field_validator("model", mode="before")
    @classmethod
    def _check_model(cls, value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("model is empty: name a model from the catalog", field="model", value=value)
        return value.strip()

    @field_validator("size", mode="before")
    @classmethod
    def _check_size(cls, value: object) -> object:
        return None if value is None else "{}x{}".format(*parse_size(value))

    @field_validator("seconds", mode="before")
    @classmethod
    def _check_seconds(cls, value: object) -> object:
        return None if value is None else whole_number("seconds", value, "seconds")

    @field_validator("variants", mode="before")
    @classmethod
    def _check_variants(cls, value: object) -> object:
        return whole_number("variants", value, "variants")

    @field_validator("mode", mode="before")
    @classmethod
    def _check_mode(cls, value: object) -> object:
        return _choice(Mode, "mode", value)

    @field_validator("fit", mode="before")
    @classmethod
    def _check_fit(cls, value: object) -> object:
        return _choice(Fit, "fit", value)

    @field_validator("remix_of", mode="before")
    @classmethod
    def _check_remix_of(cls, value: object) -> object:
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValidationError(
                "remix_of is empty: give the id of the video to remix", field="remix_of", value=value
            )
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_mode_inputs(self) -> VideoRequest:
        if self.mode is Mode.IMAGE and not self.image:
            raise ValidationError(
                "image is missing: mode=image needs a reference image (JPEG, PNG or WebP)", field="image"
            )
        if self.mode is not Mode.IMAGE and self.image:
            raise ValidationError(
                f"image is only used in image mode (mode={self.mode}): drop it or set mode=image",
                field="image",
                value=str(self.image) if isinstance(self.image, Path) else f"<{len(self.image)} bytes>",
            )
        if self.mode is Mode.REMIX and not self.remix_of:
            raise ValidationError(
                "remix_of is missing: mode=remix needs the id of the video to remix", field="remix_of"
            )
        if self.mode is not Mode.REMIX and self.remix_of:
            raise ValidationError(
                f"remix_of is only used in remix mode (mode={self.mode}): drop it or set mode=remix",
                field="remix_of",
                value=self.remix_of,
            )
        return self

    @property
    def width(self) -> int | None:
        return None if self.size is None else parse_size(self.size)[0]

    @property
    def height(self) -> int | None:
        return None if self.size is None else parse_size(self.size)[1]


_REQUEST_FIELDS = tuple(VideoRequest.model_fields)


def parse_request(data: Mapping[str, Any]) -> VideoRequest:
    """Build a VideoRequest, raising `errors.ValidationError` (the first problem found) on bad input."""
    try:
        return VideoRequest.model_validate(dict(data))
    except PydanticValidationError as exc:
        raise _first_error(exc) from None


def _first_error(exc: PydanticValidationError) -> ValidationError:
    for error in exc.errors():
        ours = error.get("ctx", {}).get("error")
        if isinstance(ours, ValidationError):
            return ours
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "request"
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        return ValidationError(
            f"{field} is not a request field: choose {join_choices(_REQUEST_FIELDS)}",
            field=field,
            value=value,
            allowed=_REQUEST_FIELDS,
        )
    if error["type"] == "missing":
        return ValidationError(f"{field} is missing", field=field)
    return ValidationError(f"{field}={value!r} is invalid: {error['msg']}", field=field, value=value)


@dataclass(frozen=True)
class ValidatedRequest:
    """A request the catalog accepts. `request` has size and seconds filled in from the model's
    defaults; `warnings` are for the user (e.g. the model retires soon) and never block."""

    request: VideoRequest
    entry: ModelEntry
    warnings: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return parse_size(self.request.size)[0]

    @property
    def height(self) -> int:
        return parse_size(self.request.size)[1]


RETIREMENT_WARNING_DAYS = 30


def validate_request(
    request: VideoRequest | Mapping[str, Any],
    catalog: Catalog,
    *,
    provider: str | None = None,
    today: date | None = None,
) -> ValidatedRequest:
    """The one check before anything is priced, stored or sent.

    `provider` picks the entry when a bare model name ("sora-2") is offered by several providers;
    `today` is injectable for tests. Raises `ValidationError` / `ModelRetired`.
    """
    req = request if isinstance(request, VideoRequest) else parse_request(request)
    entry = catalog.resolve(req.model, provider)
    warnings = _retirement_warnings(req, entry, catalog, today or date.today())
    name = entry.model

    if req.mode not in entry.modes:
        allowed = entry.mode_choices()
        raise ValidationError(
            f"mode={req.mode} is not offered by {name}: choose {join_choices(allowed)}",
            field="mode",
            value=str(req.mode),
            allowed=allowed,
        )
    size = req.size or entry.default_size
    if size not in entry.sizes:
        raise ValidationError(
            f"size={size} is not offered by {name}: choose {join_choices(entry.sizes)}",
            field="size",
            value=size,
            allowed=entry.sizes,
        )
    seconds = req.seconds if req.seconds is not None else entry.default_seconds
    if seconds not in entry.seconds:
        raise ValidationError(
            f"seconds={seconds} is not offered by {name}: choose {entry.describe_seconds()}",
            field="seconds",
            value=seconds,
            allowed=[str(s) for s in entry.seconds],
        )
    _check_variants(req.variants, size, entry)
    if isinstance(req.image, Path) and not req.image.is_file():
        raise ValidationError(
            f"image={req.image} is not a file: give the path of a JPEG, PNG or WebP image",
            field="image",
            value=str(req.image),
        )
    filled = req.model_copy(update={"size": size, "seconds": seconds})
    return ValidatedRequest(request=filled, entry=entry, warnings=warnings)


def _check_variants(variants: int, size: str, entry: ModelEntry) -> None:
    most = entry.max_variants(size)
    if variants <= most:
        return
    allowed = [str(n) for n in range(1, most + 1)]
    if not entry.max_variants_by_size:  # one video per job whatever the size (the /videos APIs)
        message = f"variants={variants} is not offered by {entry.model}: it makes 1 variant per job"
    elif most == 1:
        message = f"size={size} allows 1 variant (variants={variants} requested)"
    else:
        message = f"size={size} allows at most {most} variants (variants={variants} requested)"
    raise ValidationError(message, field="variants", value=variants, allowed=allowed)


def _retirement_warnings(req: VideoRequest, entry: ModelEntry, catalog: Catalog, today: date) -> list[str]:
    if entry.retires_on is None:
        return []
    others = [e.id for e in catalog.available(max(today, entry.retires_on)) if e.id != entry.id]
    instead = f"choose {join_choices(others)}" if others else "no other model in the catalog remains"
    if entry.is_retired(today):
        raise ModelRetired(
            f"model={req.model} ({entry.id}) was retired on {entry.retires_on.isoformat()}: {instead}",
            value=req.model,
            retired_on=entry.retires_on,
            remaining=others,
        )
    days = (entry.retires_on - today).days
    if days > RETIREMENT_WARNING_DAYS:
        return []
    when = "tomorrow" if days == 1 else f"in {days} days"
    return [f"{entry.id} retires on {entry.retires_on.isoformat()} ({when}); after that {instead}"]
