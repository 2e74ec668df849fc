"""Fit a user's image to the exact pixel size a video request needs (image→video).

The Sora 2 service refuses an `input_reference` whose size differs from the video `size`, and accepts only
image/jpeg, image/png and image/webp. `fit_image` turns any JPEG/PNG/WebP upload into such an image:

- ``cover`` (default): scale until the frame is covered, then centre-crop; aspect preserved, edges lost.
- ``contain``: scale until the image fits, centre it on bars of ``background``; nothing lost.
- ``stretch``: resize to the frame ignoring aspect (distorts; only when asked).

Deliberate choices:
- The output keeps the input's format (JPEG→JPEG, PNG→PNG, WebP→WebP) unless ``output_format`` says
  otherwise.
- The output is always opaque RGB: a video frame has no alpha, so transparency is flattened onto
  ``background`` rather than leaving the service to guess. EXIF and other metadata are not copied; an
  embedded ICC profile is converted to sRGB first so colours survive the stripping.
- Limits are checked per call (bytes before decoding, pixels from the header before ``load()``);
  Pillow's global ``Image.MAX_IMAGE_PIXELS`` is never touched.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from PIL import ExifTags, Image, ImageCms, ImageColor, ImageOps, UnidentifiedImageError

from sorastudio.errors import ValidationError

FitMode = Literal["cover", "contain", "stretch"]
OutputFormat = Literal["JPEG", "PNG", "WEBP"]
Box = tuple[int, int, int, int]

DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024  # the service's own limit for a base64 image_url
DEFAULT_MAX_PIXELS: Final = 50_000_000  # above any phone camera; a bomb claims far more
PREVIEW_MAX_SIDE: Final = 480

# Pillow's name → what we send. Pillow calls multi-picture JPEGs (many phone photos) MPO.
_DETECTED: Final[dict[str, OutputFormat]] = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
_MIME: Final[dict[OutputFormat, str]] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_EXTENSIONS: Final[dict[OutputFormat, str]] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_ACCEPTED_TEXT: Final = "JPEG, PNG or WebP"
_SWAPPING_ORIENTATIONS: Final = {5, 6, 7, 8}  # EXIF orientations that rotate by 90°/270°


@dataclass(frozen=True, slots=True)
class FittedImage:
    """An image ready to send as `input_reference`, plus what a UI needs to show how it was made.

    Boxes are (left, top, right, bottom). ``source_box`` is the part of the original (EXIF-oriented,
    full-resolution) image that was used: the crop for ``cover``, the whole image otherwise.
    ``frame_box`` is where that part lands in the output: the inner rectangle for ``contain``, the whole
    frame otherwise.
    """

    data: bytes
    mime_type: str
    filename: str
    width: int
    height: int
    format: OutputFormat
    mode: FitMode
    original_width: int
    original_height: int
    original_format: str
    source_box: Box
    frame_box: Box
    preview: bytes
    preview_mime_type: str = "image/jpeg"

    @property
    def size(self) -> str:
        """The size as the APIs spell it, e.g. "1280x720"."""
        return f"{self.width}x{self.height}"


def fit_image(
    data: bytes,
    width: int,
    height: int,
    mode: FitMode = "cover",
    background: str = "#000000",
    *,
    output_format: OutputFormat | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> FittedImage:
    """Fit JPEG/PNG/WebP ``data`` to exactly ``width``×``height``; raise ValidationError if unusable."""
    _check_arguments(width, height, mode, output_format, max_pixels)
    bg = _parse_colour(background)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _invalid("image", type(data).__name__, f"image: expected bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise _invalid("image", 0, "image: received an empty upload; upload a JPEG, PNG or WebP file")
    if len(data) > max_bytes:
        raise ValidationError(
            f"image: received {len(data)} bytes; the limit is {max_bytes} bytes ({max_bytes / 2**20:g} MiB)",
            field="image",
            value=len(data),
        )

    img, source_format = _open(bytes(data), max_pixels)
    stored_w, stored_h = img.size
    if source_format == "JPEG":
        # Decode big JPEGs at 1/2…1/8 scale, keeping ≥2× the frame in both axes so LANCZOS still has detail.
        side = 2 * max(width, height)
        img.draft("RGB", (side, side))
    try:
        img.load()
        orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
        img = ImageOps.exif_transpose(img)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _invalid(
            "image",
            source_format,
            f"image: the {source_format} data could not be decoded (truncated or corrupt: {exc})",
        ) from exc
    swap = orientation in _SWAPPING_ORIENTATIONS
    orig_w, orig_h = (stored_h, stored_w) if swap else (stored_w, stored_h)
    rgb = _flatten_to_srgb(img, bg)

    frame, src_box, frame_box = _fit(rgb, width, height, mode, bg)
    # Boxes were computed on the (possibly draft-reduced) decode; report them in original pixels.
    sx, sy = orig_w / rgb.width, orig_h / rgb.height
    source_box = (
        round(src_box[0] * sx),
        round(src_box[1] * sy),
        round(src_box[2] * sx),
        round(src_box[3] * sy),
    )
    if frame.size != (width, height):  # pragma: no cover - a bug, not bad input
        raise AssertionError(f"fitted frame is {frame.size}, expected {(width, height)}")

    fmt = output_format or source_format
    return FittedImage(
        data=_encode(frame, fmt),
        mime_type=_MIME[fmt],
        filename=f"reference-{width}x{height}.{_EXTENSIONS[fmt]}",
        width=width,
        height=height,
        format=fmt,
        mode=mode,
        original_width=orig_w,
        original_height=orig_h,
        original_format=source_format,
        source_box=source_box,
        frame_box=frame_box,
        preview=_preview(frame),
    )


def _invalid(field: str, value: object, message: str) -> ValidationError:
    """An error about the upload itself (or a fit argument); `allowed` lists what the service accepts."""
    allowed = _MIME.values() if field == "image" else ()
    return ValidationError(message, field=field, value=value, allowed=allowed)


def _check_arguments(width: int, height: int, mode: str, output_format: str | None, max_pixels: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _invalid(name, value, f"{name}={value!r} is not allowed: use a positive integer")
    if width * height > max_pixels:
        raise _invalid(
            "size", f"{width}x{height}", f"size={width}x{height} is too large: at most {max_pixels} pixels"
        )
    if mode not in get_args(FitMode):
        modes = get_args(FitMode)
        raise ValidationError(
            f"mode={mode!r} is not a fit mode: choose {', '.join(modes)}",
            field="mode",
            value=mode,
            allowed=modes,
        )
    if output_format is not None and output_format not in _EXTENSIONS:
        formats = tuple(_EXTENSIONS)
        raise ValidationError(
            f"output_format={output_format!r} is not offered: choose {', '.join(formats)}",
            field="output_format",
            value=output_format,
            allowed=formats,
        )


def _parse_colour(background: str) -> tuple[int, int, int]:
    try:
        rgb = ImageColor.getrgb(background)
    except (ValueError, AttributeError) as exc:
        raise _invalid(
            "background",
            background,
            f"background={background!r} is not a colour: use e.g. #000000, #fff or white",
        ) from exc
    return rgb[0], rgb[1], rgb[2]  # an alpha component is meaningless for bars in an opaque frame


def _open(data: bytes, max_pixels: int) -> tuple[Image.Image, OutputFormat]:
    """Identify the format from the content and check the header's size; nothing is decoded yet."""
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own hard limit, hit while reading the header
        raise _invalid(
            "image",
            "too many pixels",
            f"image: refused as a decompression bomb (limit {max_pixels} pixels): {exc}",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        head = data[:8].hex(" ")
        raise _invalid(
            "image",
            f"{len(data)} bytes starting {head}",
            f"image: received {len(data)} bytes that are not a recognised image (first bytes: {head}); "
            f"accepted formats are {_ACCEPTED_TEXT}",
        ) from exc
    source_format = img.format or "unknown"
    if source_format not in _DETECTED:
        raise _invalid(
            "image",
            source_format,
            f"image: received a {source_format} image; accepted formats are {_ACCEPTED_TEXT}",
        )
    w, h = img.size
    if w * h > max_pixels:
        raise _invalid(
            "image", f"{w}x{h}", f"image: {w}x{h} ({w * h} pixels) exceeds the limit of {max_pixels} pixels"
        )
    return img, _DETECTED[source_format]


def _flatten_to_srgb(img: Image.Image, bg: tuple[int, int, int]) -> Image.Image:
    """Any Pillow mode → opaque RGB in sRGB; transparency composited onto ``bg``."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit greyscale PNG: scale rather than clip
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info
    target = "RGBA" if has_alpha else "RGB"
    icc = img.info.get("icc_profile")
    converted: Image.Image | None = None
    if icc and img.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            src_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(
                img, src_profile, ImageCms.createProfile("sRGB"), outputMode=out_mode
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken profile is not worth refusing the image over
    img = (converted or img).convert(target)
    if target == "RGBA":
        base = Image.new("RGB", img.size, bg)
        base.paste(img, mask=img.getchannel("A"))
        img = base
    return img


def _fit(
    img: Image.Image, width: int, height: int, mode: FitMode, bg: tuple[int, int, int]
) -> tuple[Image.Image, tuple[float, float, float, float], Box]:
    w, h = img.size
    full_frame: Box = (0, 0, width, height)
    lanczos = Image.Resampling.LANCZOS
    if mode == "stretch":
        return img.resize((width, height), lanczos), (0.0, 0.0, float(w), float(h)), full_frame
    if mode == "cover":
        scale = max(width / w, height / h)
        crop_w, crop_h = min(w, width / scale), min(h, height / scale)  # min(): float rounding
        left, top = max(0.0, (w - crop_w) / 2), max(0.0, (h - crop_h) / 2)
        box = (left, top, left + crop_w, top + crop_h)
        # A fractional box lets resize sample exactly the centred region, with no rounding drift.
        return img.resize((width, height), lanczos, box=box), box, full_frame
    scale = min(width / w, height / h)
    inner_w, inner_h = max(1, min(width, round(w * scale))), max(1, min(height, round(h * scale)))
    x, y = (width - inner_w) // 2, (height - inner_h) // 2
    frame = Image.new("RGB", (width, height), bg)
    frame.paste(img.resize((inner_w, inner_h), lanczos), (x, y))
    return frame, (0.0, 0.0, float(w), float(h)), (x, y, x + inner_w, y + inner_h)


def _encode(img: Image.Image, fmt: OutputFormat) -> bytes:
    options: dict[str, Any] = {
        "JPEG": {"quality": 95, "optimize": True},
        "PNG": {"optimize": False},
        "WEBP": {"quality": 95, "method": 4},
    }[fmt]
    img.info = {}  # resize/convert carry info (EXIF, ICC, text) along, and some encoders write it back
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def _preview(frame: Image.Image) -> bytes:
    small = frame.copy()
    small.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()
