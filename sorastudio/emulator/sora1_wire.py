"""Azure Sora 1 jobs API wire format: create-request validation and response bodies.

Pure functions (no HTTP); `routes_sora1.py` feeds them the decoded JSON or form fields.

Request decisions (the service's behaviour is unknown where not stated otherwise):
- Integer fields (`width`, `height`, `n_seconds`, `n_variants`) accept a JSON integer, an integral
  JSON number (`5.0`, as JSON Schema counts it an integer) or a string of digits. Multipart sends
  strings by nature, and the field guide sends `"720"` strings in JSON too, so both are accepted.
- Limits are the field guide's: the nine sizes, 1–20 s, variants 1 at 1080p, ≤2 at 720p, ≤4 otherwise.
- `inpaint_items` (multipart, a JSON-encoded string; a JSON array is also taken) holds at most two
  items (the docs: "up to two images"), each `type: "image"` naming an attached `files` part by its
  filename. The item with the lowest `frame_index` is cropped by its `crop_bounds` and becomes that
  frame of every variant; the others are echoed on the job but not rendered.
- Files attached without `inpaint_items` are refused: the API only uses files through items.

Error `type`s: `invalid_request_error` (always with `param`) when the request's own fields are
malformed or out of range; `video_generation_user_error` when a well-formed request is refused by the
resource's state (deployment, running cap, job not found / not ready) — as the live errors quoted in
the wire reference.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ApiError, invalid_request
from .jobs import Generation, Job, Phase

SIZES: Final[tuple[tuple[int, int], ...]] = (
    (480, 480),
    (480, 854),
    (854, 480),
    (720, 720),
    (720, 1280),
    (1280, 720),
    (1080, 1080),
    (1080, 1920),
    (1920, 1080),
)
SIZES_TEXT: Final = ", ".join(f"{w}x{h}" for w, h in SIZES)
MAX_VARIANTS_1080P: Final = 1
MAX_VARIANTS_720P: Final = 2
MAX_VARIANTS_OTHER: Final = 4
MIN_SECONDS: Final = 1
MAX_SECONDS: Final = 20
DEFAULT_SECONDS: Final = 5
MAX_PROMPT_CHARS: Final = 32000  # the field guide's limit
MAX_INPAINT_ITEMS: Final = 2
MAX_FILE_BYTES: Final = 25 * 1024 * 1024
MAX_IMAGE_PIXELS: Final = 50_000_000
_IMAGE_FORMATS: Final = {"JPEG", "MPO", "PNG", "WEBP"}
_DIGITS: Final = re.compile(r"\s*[+-]?\d+\s*")
_Bad = Callable[[str], ApiError]


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    data: bytes


@dataclass(frozen=True)
class CreateRequest:
    prompt: str
    model: str
    width: int
    height: int
    n_seconds: int
    n_variants: int
    # Echoed on the job exactly as normalised here (crop bounds completed with their defaults).
    inpaint_items: list[dict[str, object]] | None = None
    # The cropped image (PNG) that becomes frame `image_frame_index`.
    image: bytes | None = None
    image_frame_index: int = 0


_SIZES_1080P: Final = {(1080, 1080), (1080, 1920), (1920, 1080)}
# 720x720 counts as "other" in the guide's matrix (4 variants), so 720p means 1280x720 both ways.
_SIZES_720P: Final = {(720, 1280), (1280, 720)}


def max_variants(width: int, height: int) -> int:
    if (width, height) in _SIZES_1080P:
        return MAX_VARIANTS_1080P
    if (width, height) in _SIZES_720P:
        return MAX_VARIANTS_720P
    return MAX_VARIANTS_OTHER


def _shown(value: object) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _missing(name: str) -> ApiError:
    return invalid_request(f"Missing required parameter: '{name}'.", param=name)


def _integer(fields: Mapping[str, object], name: str, default: int | None = None) -> int:
    value = fields.get(name)
    if value is None:
        if default is None:
            raise _missing(name)
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    raise invalid_request(
        f"Invalid value for '{name}': {_shown(value)}. Expected an integer "
        '(a JSON number or a string of digits such as "720").',
        param=name,
    )


def _text(fields: Mapping[str, object], name: str) -> str:
    value = fields.get(name)
    if value is None:
        raise _missing(name)
    if not isinstance(value, str):
        raise invalid_request(f"Invalid value for '{name}': {_shown(value)}. Expected a string.", param=name)
    if not value.strip():
        raise invalid_request(f"Invalid value for '{name}': it must not be empty.", param=name)
    return value


def parse_create(
    fields: Mapping[str, object], files: Sequence[UploadedFile] = (), *, fps: int = 24
) -> CreateRequest:
    """Validate a create request (JSON object or multipart fields) against the Sora 1 rules."""
    prompt = _text(fields, "prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise invalid_request(
            f"Invalid value for 'prompt': it has {len(prompt)} characters; at most {MAX_PROMPT_CHARS} "
            "are allowed.",
            param="prompt",
        )
    model = _text(fields, "model")
    height = _integer(fields, "height")
    width = _integer(fields, "width")
    if (width, height) not in SIZES:
        widths = {w for w, _ in SIZES}
        raise invalid_request(
            f"Unsupported video size: width={width}, height={height} ({width}x{height}). "
            f"Supported sizes (width x height): {SIZES_TEXT}.",
            param="width" if width not in widths else "height",
        )
    n_seconds = _integer(fields, "n_seconds", DEFAULT_SECONDS)
    if not MIN_SECONDS <= n_seconds <= MAX_SECONDS:
        raise invalid_request(
            f"Invalid value for 'n_seconds': {n_seconds}. It must be an integer from {MIN_SECONDS} "
            f"to {MAX_SECONDS} (seconds).",
            param="n_seconds",
        )
    n_variants = _integer(fields, "n_variants", 1)
    allowed = max_variants(width, height)
    if not 1 <= n_variants <= allowed:
        raise invalid_request(
            f"Invalid value for 'n_variants': {n_variants}. At {width}x{height} it must be from 1 to "
            f"{allowed} (1080p sizes allow {MAX_VARIANTS_1080P}, 720p sizes up to {MAX_VARIANTS_720P}, "
            f"other sizes up to {MAX_VARIANTS_OTHER}).",
            param="n_variants",
        )
    request = CreateRequest(prompt, model, width, height, n_seconds, n_variants)
    raw_items = fields.get("inpaint_items")
    if raw_items is None or raw_items == "":
        if files:
            raise invalid_request(
                f"{len(files)} file(s) attached but no 'inpaint_items': each file is used only through "
                "an inpaint item whose 'file_name' names it.",
                param="inpaint_items",
            )
        return request
    items = _inpaint_items(raw_items, files, n_seconds * fps)
    first = min(items, key=lambda item: item.frame_index)
    return CreateRequest(
        prompt,
        model,
        width,
        height,
        n_seconds,
        n_variants,
        inpaint_items=[item.wire for item in items],
        image=first.image,
        image_frame_index=first.frame_index,
    )


@dataclass(frozen=True)
class _Item:
    wire: dict[str, object]
    frame_index: int
    image: bytes


def _inpaint_items(raw: object, files: Sequence[UploadedFile], frames: int) -> list[_Item]:
    """Each item's normalised wire form and its cropped image (PNG bytes)."""
    parsed = raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise invalid_request(
                f"Invalid value for 'inpaint_items': {_shown(raw)} is not valid JSON ({exc.msg}). "
                "Send a JSON-encoded array of {frame_index, type, file_name, crop_bounds} objects.",
                param="inpaint_items",
            ) from None
    if not isinstance(parsed, list) or not parsed:
        raise invalid_request(
            f"Invalid value for 'inpaint_items': {_shown(parsed)}. Expected a non-empty JSON array of "
            "{frame_index, type, file_name, crop_bounds} objects.",
            param="inpaint_items",
        )
    if len(parsed) > MAX_INPAINT_ITEMS:
        raise invalid_request(
            f"Invalid value for 'inpaint_items': {len(parsed)} items; at most {MAX_INPAINT_ITEMS} "
            "are allowed.",
            param="inpaint_items",
        )
    by_name: dict[str, bytes] = {}
    for upload in files:
        if upload.filename in by_name:
            raise invalid_request(
                f"Two attached files are named {_shown(upload.filename)}; file names must be unique so "
                "inpaint items can refer to them.",
                param="files",
            )
        by_name[upload.filename] = upload.data
    return [_inpaint_item(i, item, by_name, frames) for i, item in enumerate(parsed)]


def _inpaint_item(i: int, item: object, files: Mapping[str, bytes], frames: int) -> _Item:
    where = f"inpaint_items[{i}]"

    def bad(message: str) -> ApiError:
        return invalid_request(f"Invalid value for '{where}': {message}", param="inpaint_items")

    if not isinstance(item, dict):
        raise bad(f"{_shown(item)} is not an object with frame_index, type, file_name and crop_bounds.")
    for name in ("frame_index", "type", "file_name"):
        if name not in item:
            raise bad(f"missing required field '{name}'.")
    raw_index = item["frame_index"]
    frame_index = -1
    if isinstance(raw_index, int) and not isinstance(raw_index, bool):
        frame_index = raw_index
    elif isinstance(raw_index, str) and _DIGITS.fullmatch(raw_index):
        frame_index = int(raw_index)
    if not 0 <= frame_index < frames:
        raise bad(
            f"frame_index {_shown(item['frame_index'])} is outside the video: it must be from 0 to "
            f"{frames - 1} (the video has {frames} frames)."
        )
    if item["type"] != "image":
        raise bad(f"type {_shown(item['type'])} is not supported; allowed values: 'image'.")
    file_name = item["file_name"]
    if not isinstance(file_name, str) or file_name not in files:
        attached = ", ".join(_shown(name) for name in files) or "none"
        raise bad(f"file_name {_shown(file_name)} matches no attached file (attached: {attached}).")
    bounds = _crop_bounds(item.get("crop_bounds"), bad)
    image = crop_image(files[file_name], bounds, file_name, bad)
    wire: dict[str, object] = {
        "frame_index": frame_index,
        "type": "image",
        "file_name": file_name,
        "crop_bounds": dict(zip(_FRACTIONS, bounds, strict=True)),
    }
    return _Item(wire, frame_index, image)


_FRACTIONS: Final = ("left_fraction", "top_fraction", "right_fraction", "bottom_fraction")
_FRACTION_DEFAULTS: Final = (0.0, 0.0, 1.0, 1.0)


def _crop_bounds(raw: object, bad: _Bad) -> tuple[float, float, float, float]:
    if raw is None:
        return _FRACTION_DEFAULTS
    if not isinstance(raw, dict):
        raise bad(f"crop_bounds {_shown(raw)} is not an object of fractions {', '.join(_FRACTIONS)}.")
    values: list[float] = []
    for name, default in zip(_FRACTIONS, _FRACTION_DEFAULTS, strict=True):
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise bad(f"crop_bounds.{name} {_shown(value)} must be a number from 0.0 to 1.0.")
        values.append(float(value))
    left, top, right, bottom = values
    if left >= right or top >= bottom:
        raise bad(
            f"crop_bounds select an empty area: left_fraction {left} must be below right_fraction "
            f"{right} and top_fraction {top} below bottom_fraction {bottom}."
        )
    return left, top, right, bottom


def crop_image(data: bytes, bounds: tuple[float, float, float, float], name: str, bad: _Bad) -> bytes:
    """Decode a JPEG/PNG/WebP upload, apply EXIF orientation and the crop; return opaque RGB PNG."""
    if len(data) > MAX_FILE_BYTES:
        raise bad(f"file {_shown(name)} has {len(data)} bytes; at most {MAX_FILE_BYTES} are allowed.")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format not in _IMAGE_FORMATS:
                raise bad(f"file {_shown(name)} is {opened.format}, not a JPEG, PNG or WebP image.")
            if opened.width * opened.height > MAX_IMAGE_PIXELS:
                raise bad(
                    f"file {_shown(name)} is {opened.width}x{opened.height}; at most {MAX_IMAGE_PIXELS} "
                    "pixels are allowed."
                )
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise bad(f"file {_shown(name)} is not a JPEG, PNG or WebP image.") from None
    left, top, right, bottom = bounds
    box = (
        min(image.width - 1, round(left * image.width)),
        min(image.height - 1, round(top * image.height)),
        max(1, round(right * image.width)),
        max(1, round(bottom * image.height)),
    )
    box = (box[0], box[1], max(box[0] + 1, box[2]), max(box[1] + 1, box[3]))
    cropped = image.convert("RGBA").crop(box)
    # A video frame has no alpha: flatten onto black so transparent pixels render the same everywhere.
    flat = Image.new("RGB", cropped.size, (0, 0, 0))
    flat.paste(cropped, mask=cropped.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, format="PNG")
    return out.getvalue()


# -- responses ---------------------------------------------------------------------------------------


def _timestamp(value: float | None) -> int | None:
    return None if value is None else int(value)


def generation_body(job: Job, generation: Generation) -> dict[str, object]:
    return {
        "object": "video.generation",
        "id": generation.id,
        "job_id": job.id,
        # A variant comes into being when its job finishes.
        "created_at": int(job.created_at + job.duration),
        "width": job.width,
        "height": job.height,
        "n_seconds": job.seconds,
        "prompt": job.prompt,
    }


def job_body(job: Job, now: float) -> dict[str, object]:
    """`VideoGenerationJob`, with the field set (and nulls) of the service's create response."""
    phase = job.phase(now)
    body: dict[str, object] = {
        "object": "video.generation.job",
        "id": job.id,
        "status": phase.value,
        "created_at": int(job.created_at),
        "finished_at": _timestamp(job.finished_at(now)),
        "expires_at": _timestamp(job.expires_at(now)),
        "generations": [generation_body(job, g) for g in job.generations] if phase is Phase.SUCCEEDED else [],
        "prompt": job.prompt,
        "model": job.deployment.name,
        "n_variants": job.variants,
        "n_seconds": job.seconds,
        "height": job.height,
        "width": job.width,
    }
    if job.inpaint_items:
        body["inpaint_items"] = job.inpaint_items
    body["failure_reason"] = job.failure_reason if phase is Phase.FAILED else None
    return body


def list_body(jobs: Sequence[Job], has_more: bool, now: float) -> dict[str, object]:
    return {
        "object": "list",
        "data": [job_body(job, now) for job in jobs],
        "has_more": has_more,
        "first_id": jobs[0].id if jobs else None,
        "last_id": jobs[-1].id if jobs else None,
    }
