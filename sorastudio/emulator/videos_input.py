"""Reading `/videos` request bodies: multipart (what the SDK sends) and JSON, with the service's checks.

Multipart fields are strings; a JSON body must use the documented types (`seconds` is a string —
an integer gets the observed 400). `input_reference` is an uploaded image (multipart), or an object
`{"image_url": …}` / `{"file_id": …}` (JSON; multipart as `input_reference[image_url]`).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from PIL import ExifTags, Image, UnidentifiedImageError
from starlette.datastructures import UploadFile

from .errors import ApiError, envelope
from .videos_wire import PROMPT_MAX, SECONDS, bad_request, invalid_value, json_type_name

CREATE_FIELDS = ("prompt", "model", "seconds", "size", "input_reference")
REMIX_FIELDS = ("prompt",)
IMAGE_URL_MAX = 20_971_520
_FORM_PART_MAX = IMAGE_URL_MAX + 1024  # a base64 data URL may arrive as a multipart text field
_IMAGE_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# EXIF orientations that rotate by 90 or 270 degrees (5 and 7 also mirror).
_QUARTER_TURNS = {5, 6, 7, 8}
_DATA_URL = re.compile(r"^data:(?P<mime>[\w/+.-]+)?(?P<b64>;base64)?,(?P<data>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Body:
    fields: dict[str, Any]
    is_json: bool


async def read_body(request: Request, allowed: tuple[str, ...]) -> Body:
    """The request's fields (JSON object or form), refusing parameters the endpoint does not know."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_part_size=_FORM_PART_MAX)
        fields: dict[str, Any] = {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                fields[key] = (value.filename, await value.read(), value.content_type)
                await value.close()
            else:
                fields.setdefault(key, value)
        body = Body(_nest_reference(fields), is_json=False)
    else:
        raw = await request.body()
        if not raw.strip():
            body = Body({}, is_json=True)
        elif content_type not in ("application/json", ""):
            raise bad_request(
                f"Unsupported Content-Type '{content_type}': send application/json or multipart/form-data."
            )
        else:
            body = Body(_parse_json(raw), is_json=True)
    for key in body.fields:
        if key not in allowed:
            raise bad_request(f"Unknown parameter: '{key}'.", key, "unknown_parameter")
    return body


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise bad_request(
            "We could not parse the JSON body of your request: it is not valid JSON. "
            "Send a JSON object, or multipart/form-data."
        ) from None
    if not isinstance(value, dict):
        raise bad_request(f"Invalid body: expected a JSON object, but got {json_type_name(value)} instead.")
    return value


def _nest_reference(fields: dict[str, Any]) -> dict[str, Any]:
    # The SDK's form encoding of an object: input_reference[image_url]=… / input_reference[file_id]=…
    nested = {
        k[len("input_reference[") : -1]: v for k, v in fields.items() if k.startswith("input_reference[")
    }
    if not nested:
        return fields
    out = {k: v for k, v in fields.items() if not k.startswith("input_reference[")}
    if "input_reference" in out:
        raise bad_request("Invalid 'input_reference': provide exactly one reference.", "input_reference")
    out["input_reference"] = nested
    return out


def prompt_of(body: Body) -> str:
    if "prompt" not in body.fields:
        raise bad_request("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    prompt = body.fields["prompt"]
    if not isinstance(prompt, str):
        raise bad_request(
            f"Invalid type for 'prompt': expected a string, but got {json_type_name(prompt)} instead.",
            "prompt",
            "invalid_type",
        )
    if not prompt:
        raise bad_request(
            "Invalid 'prompt': string too short. Expected a string with minimum length 1, "
            "but got an empty string instead.",
            "prompt",
            "string_below_min_length",
        )
    if len(prompt) > PROMPT_MAX:
        raise bad_request(
            f"Invalid 'prompt': string too long. Expected a string with maximum length {PROMPT_MAX}, "
            f"but got a string with length {len(prompt)} instead.",
            "prompt",
            "string_above_max_length",
        )
    return prompt


def string_field(body: Body, name: str) -> str | None:
    """An optional string parameter; JSON values of another type are refused."""
    if name not in body.fields:
        return None
    value = body.fields[name]
    if isinstance(value, str):
        return value
    if name == "seconds":
        # Verbatim as observed (THU-MAIC/OpenMAIC PR #98) for an integer; same shape for other types.
        raise bad_request(
            f"Invalid type for 'seconds': expected one of {_or_list(SECONDS)}, "
            f"but got {json_type_name(value)} instead.",
            "seconds",
            "invalid_type",
        )
    raise bad_request(
        f"Invalid type for '{name}': expected a string, but got {json_type_name(value)} instead.",
        name,
        "invalid_type",
    )


def _or_list(values: tuple[str, ...]) -> str:
    items = [f"'{v}'" for v in values]
    return ", ".join(items[:-1]) + ", or " + items[-1]


def seconds_of(body: Body) -> int:
    value = string_field(body, "seconds")
    if value is None:
        return 4
    if value not in SECONDS:
        raise invalid_value("seconds", value, SECONDS)
    return int(value)


def reference_image(body: Body) -> bytes | None:
    """The reference image's bytes, checked to be a JPEG/PNG/WebP (size is checked by the caller)."""
    if "input_reference" not in body.fields:
        return None
    value = body.fields["input_reference"]
    if isinstance(value, tuple):
        data: bytes = value[1]
        param = "input_reference"
    elif isinstance(value, dict):
        data, param = _from_object(value)
    elif body.is_json:
        raise bad_request(
            "Invalid type for 'input_reference': expected an object with 'image_url' or 'file_id', "
            f"but got {json_type_name(value)} instead.",
            "input_reference",
            "invalid_type",
        )
    else:
        raise bad_request(
            "Invalid 'input_reference': upload an image file (JPEG, PNG or WebP), or send "
            "input_reference[image_url] or input_reference[file_id].",
            "input_reference",
            "invalid_value",
        )
    check_image(data, param)
    return data


def _from_object(value: dict[str, Any]) -> tuple[bytes, str]:
    unknown = [k for k in value if k not in ("image_url", "file_id")]
    if unknown:
        raise bad_request(
            f"Unknown parameter: 'input_reference.{unknown[0]}'.",
            f"input_reference.{unknown[0]}",
            "unknown_parameter",
        )
    if len(value) != 1:
        raise bad_request(
            "Invalid 'input_reference': provide exactly one of 'image_url' or 'file_id'.",
            "input_reference",
            "invalid_value",
        )
    if "file_id" in value:
        raise bad_request(
            f"Invalid 'input_reference.file_id': no file with id '{value['file_id']}' exists "
            "(the emulator has no Files API: upload the image, or send it as a base64 data URL).",
            "input_reference.file_id",
            "invalid_value",
        )
    url = value["image_url"]
    param = "input_reference.image_url"
    if not isinstance(url, str):
        raise bad_request(
            f"Invalid type for '{param}': expected a string, but got {json_type_name(url)} instead.",
            param,
            "invalid_type",
        )
    if len(url) > IMAGE_URL_MAX:
        raise bad_request(
            f"Invalid '{param}': string too long. Expected a string with maximum length {IMAGE_URL_MAX}, "
            f"but got a string with length {len(url)} instead.",
            param,
            "string_above_max_length",
        )
    match = _DATA_URL.match(url)
    if match is None:
        shown = url if len(url) <= 80 else url[:77] + "..."
        raise bad_request(
            f"Invalid '{param}': the emulator cannot fetch remote URLs ('{shown}'); send the image as a "
            "base64 data URL (data:image/png;base64,…) or upload the file.",
            param,
            "invalid_value",
        )
    try:
        if not match["b64"]:
            raise ValueError("not base64")
        return base64.b64decode(match["data"], validate=True), param
    except (ValueError, binascii.Error):
        raise bad_request(
            f"Invalid '{param}': not a valid base64 data URL (expected data:image/<type>;base64,<data>).",
            param,
            "invalid_value",
        ) from None


def check_image(data: bytes, param: str) -> tuple[int, int]:
    """(width, height) of a JPEG/PNG/WebP as displayed, i.e. after its EXIF orientation (what the
    renderer uses, via `ImageOps.exif_transpose`); anything else is a 400 naming the parameter."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, size = image.format, image.size
            # Orientations 5–8 turn the image a quarter: exif_transpose would swap the sides. Read the
            # tag instead of transposing, so checking the size never decodes the pixels.
            if image.getexif().get(ExifTags.Base.Orientation, 1) in _QUARTER_TURNS:
                size = (size[1], size[0])
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        fmt, size = None, (0, 0)
    if fmt not in _IMAGE_FORMATS:
        raise bad_request(
            f"Invalid '{param}': the file is not a supported image; use image/jpeg, image/png or image/webp.",
            param,
            "invalid_image_format",
        )
    return size


def check_reference_size(data: bytes, width: int, height: int) -> None:
    if check_image(data, "input_reference") != (width, height):
        # Verbatim (mslearn-ai-vision PR #78): type invalid_request_error, param and code null.
        raise ApiError(
            400, envelope("Inpaint image must match the requested width and height", "invalid_request_error")
        )
