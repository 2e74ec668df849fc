"""Image fitting: exact output size, aspect handling per mode, EXIF orientation, format and limit checks."""

from __future__ import annotations

import io
import os
import resource
import struct
import time
import zlib

import pytest
from PIL import Image, ImageChops, ImageCms, ImageDraw

from sorastudio.errors import ValidationError
from sorastudio.images import FitMode, FittedImage, fit_image

WHITE = (255, 255, 255)
RED = (255, 0, 0)


def encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def decode(fitted: FittedImage) -> Image.Image:
    img = Image.open(io.BytesIO(fitted.data))
    img.load()
    return img


def circle_png(width: int, height: int, diameter: int) -> bytes:
    """White canvas with a black circle in the middle: its bounding box shows what scaling did."""
    img = Image.new("RGB", (width, height), WHITE)
    left, top = (width - diameter) // 2, (height - diameter) // 2
    ImageDraw.Draw(img).ellipse((left, top, left + diameter - 1, top + diameter - 1), fill=(0, 0, 0))
    return encode(img, "PNG")


def dark_bbox(img: Image.Image) -> tuple[int, int, int, int]:
    """Bounding box of near-black pixels (every channel dark, so coloured bars do not count)."""
    r, g, b = img.convert("RGB").split()
    brightest = ImageChops.lighter(ImageChops.lighter(r, g), b)
    mask = brightest.point(lambda v: 255 if v < 128 else 0)
    box = mask.getbbox()
    assert box is not None, "no dark shape found"
    return box


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width×height, with a token IDAT: a bomb's header without its payload."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


# --- size -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["cover", "contain", "stretch"])
@pytest.mark.parametrize("source", [(400, 300), (300, 400), (1000, 90), (97, 1301), (1280, 720)])
@pytest.mark.parametrize("target", [(1280, 720), (720, 1280), (1792, 1024), (33, 77)])
def test_output_is_exactly_the_target_size(
    mode: FitMode, source: tuple[int, int], target: tuple[int, int]
) -> None:
    fitted = fit_image(encode(Image.new("RGB", source, (10, 120, 200)), "JPEG"), *target, mode=mode)
    img = decode(fitted)
    assert img.size == target == (fitted.width, fitted.height)
    assert fitted.size == f"{target[0]}x{target[1]}"
    assert (img.format, fitted.mime_type) == ("JPEG", "image/jpeg")
    assert fitted.filename.endswith(".jpg")
    assert (fitted.original_width, fitted.original_height) == source


# --- aspect per mode --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "diameter", "expected_diameter"),
    [
        ((800, 600), (720, 1280), 100, 213),  # landscape into portrait: scale 1280/600
        ((600, 800), (1280, 720), 100, 213),  # portrait into landscape: scale 1280/600
        ((500, 500), (1792, 1024), 200, 717),  # square into wide: scale 1792/500
    ],
)
def test_cover_keeps_a_circle_round_and_centred(
    source: tuple[int, int], target: tuple[int, int], diameter: int, expected_diameter: int
) -> None:
    fitted = fit_image(circle_png(*source, diameter), *target, mode="cover")
    img = decode(fitted)
    left, top, right, bottom = dark_bbox(img)
    w, h = right - left, bottom - top
    assert w / h == pytest.approx(1.0, abs=0.02)
    assert w == pytest.approx(expected_diameter, abs=3)
    assert ((left + right) / 2, (top + bottom) / 2) == pytest.approx((target[0] / 2, target[1] / 2), abs=2)
    # The crop box is the centred part of the source with the target's aspect ratio.
    cl, ct, cr, cb = fitted.source_box
    assert (cr - cl) / (cb - ct) == pytest.approx(target[0] / target[1], rel=0.01)
    assert (cl + cr) / 2 == pytest.approx(source[0] / 2, abs=1)
    assert (ct + cb) / 2 == pytest.approx(source[1] / 2, abs=1)
    assert fitted.frame_box == (0, 0, *target)


def test_contain_letterboxes_with_the_chosen_colour() -> None:
    # 800x600 into 720x1280: scale 0.9 → 720x540 image, bars of 370 px above and below.
    fitted = fit_image(circle_png(800, 600, 200), 720, 1280, mode="contain", background="#ff0000")
    img = decode(fitted).convert("RGB")
    assert fitted.frame_box == (0, 370, 720, 910)
    assert fitted.source_box == (0, 0, 800, 600)
    for y in (0, 200, 368, 912, 1279):
        assert img.getpixel((360, y)) == RED, y
    for x, y in ((0, 372), (719, 640), (5, 907)):  # inside the picture: white, no side bars
        assert img.getpixel((x, y)) == WHITE, (x, y)
    left, top, right, bottom = dark_bbox(img)
    assert (right - left) / (bottom - top) == pytest.approx(1.0, abs=0.02)
    assert right - left == pytest.approx(180, abs=2)


def test_contain_pillarboxes_a_portrait_image_in_a_landscape_frame() -> None:
    # 300x600 into 1280x720: scale 1.2 → 360x720 image at x=460; named colours work too.
    fitted = fit_image(circle_png(300, 600, 100), 1280, 720, mode="contain", background="blue")
    img = decode(fitted).convert("RGB")
    assert fitted.frame_box == (460, 0, 820, 720)
    for x in (0, 458, 822, 1279):
        assert img.getpixel((x, 360)) == (0, 0, 255), x
    assert img.getpixel((462, 0)) == WHITE
    assert img.getpixel((817, 719)) == WHITE


def test_stretch_distorts_by_the_ratio_of_the_two_scales() -> None:
    # 800x600 into 720x1280: x scaled by 0.9, y by 2.133 — the circle becomes a tall ellipse.
    img = decode(fit_image(circle_png(800, 600, 200), 720, 1280, mode="stretch"))
    left, top, right, bottom = dark_bbox(img)
    assert right - left == pytest.approx(180, abs=3)
    assert bottom - top == pytest.approx(427, abs=3)


# --- orientation, format, metadata ------------------------------------------------------------------


def test_exif_orientation_is_applied_and_stripped() -> None:
    # Stored 200x100 with a red top-left block; orientation 6 means "display rotated 90° clockwise",
    # so the viewer sees 100x200 with the red block at the top-right.
    stored = Image.new("RGB", (200, 100), WHITE)
    stored.paste(RED, (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCam"  # Make: must not survive either
    fitted = fit_image(encode(stored, "JPEG", exif=exif, quality=95), 100, 200)
    img = decode(fitted).convert("RGB")
    assert (fitted.original_width, fitted.original_height) == (100, 200)
    assert close(img.getpixel((90, 10)), RED)
    assert close(img.getpixel((10, 10)), WHITE)
    assert close(img.getpixel((90, 190)), WHITE)
    assert "exif" not in img.info
    assert not img.getexif()


def test_large_jpeg_decoded_at_reduced_scale_reports_boxes_in_original_pixels() -> None:
    big = Image.new("RGB", (4000, 3000), WHITE)
    big.paste(RED, (1900, 1400, 2100, 1600))
    fitted = fit_image(encode(big, "JPEG", quality=90), 64, 64)
    assert fitted.source_box == (500, 0, 3500, 3000)
    assert (fitted.original_width, fitted.original_height) == (4000, 3000)
    assert close(decode(fitted).convert("RGB").getpixel((32, 32)), RED, tolerance=30)


@pytest.mark.parametrize(
    ("fmt", "mime", "suffix"), [("PNG", "image/png", ".png"), ("WEBP", "image/webp", ".webp")]
)
def test_format_comes_from_content_not_the_file_name(
    tmp_path: os.PathLike[str], fmt: str, mime: str, suffix: str
) -> None:
    misleading = os.path.join(tmp_path, "holiday.jpg")
    Image.new("RGB", (64, 48), (0, 200, 0)).save(misleading, fmt)
    with open(misleading, "rb") as f:
        fitted = fit_image(f.read(), 32, 32)
    assert (fitted.original_format, fitted.format, fitted.mime_type) == (fmt, fmt, mime)
    assert fitted.filename == f"reference-32x32{suffix}"
    assert decode(fitted).format == fmt


def test_multi_picture_jpeg_from_a_phone_is_treated_as_jpeg() -> None:
    first, second = Image.new("RGB", (80, 60), RED), Image.new("RGB", (80, 60), WHITE)
    mpo = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    fitted = fit_image(mpo, 40, 30)
    assert (fitted.format, fitted.mime_type, decode(fitted).format) == ("JPEG", "image/jpeg", "JPEG")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_metadata_is_stripped_from_every_output_format(fmt: str) -> None:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0112] = 1
    data = encode(Image.new("RGB", (50, 50), (0, 90, 0)), fmt, exif=exif)
    assert Image.open(io.BytesIO(data)).getexif()  # the input really carries EXIF
    img = decode(fit_image(data, 20, 20))
    assert img.format == fmt
    assert not img.getexif()
    assert "exif" not in img.info


def test_icc_profile_is_converted_and_not_copied() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(Image.new("RGB", (50, 50), (200, 30, 30)), "PNG", icc_profile=icc)
    img = decode(fit_image(data, 20, 20))
    assert "icc_profile" not in img.info
    assert close(img.getpixel((10, 10)), (200, 30, 30), tolerance=3)


def test_transparent_png_to_jpeg_is_flattened_onto_the_background() -> None:
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (50, 0, 100, 100))
    fitted = fit_image(encode(rgba, "PNG"), 100, 100, output_format="JPEG", background="#00ff00")
    img = decode(fitted)
    assert (img.format, img.mode, fitted.mime_type) == ("JPEG", "RGB", "image/jpeg")
    assert close(img.getpixel((20, 50)), (0, 255, 0))
    assert close(img.getpixel((80, 50)), (0, 0, 255))


@pytest.mark.parametrize(
    ("image", "fmt", "expected"),
    [
        (Image.new("P", (40, 40), 0), "PNG", (0, 0, 0)),
        (Image.new("LA", (40, 40), (128, 0)), "PNG", WHITE),  # fully transparent → background
        (Image.new("L", (40, 40), 128), "PNG", (128, 128, 128)),
        (Image.new("I;16", (40, 40), 65535), "PNG", WHITE),  # 16-bit scaled, not clipped to black
        (Image.new("I;16", (40, 40), 32768), "PNG", (128, 128, 128)),
        (Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG", RED),
        (Image.new("RGBA", (40, 40), (255, 0, 0, 255)), "WEBP", RED),
        (Image.new("1", (40, 40), 1), "PNG", WHITE),
    ],
    ids=["P", "LA", "L", "I16-max", "I16-mid", "CMYK", "RGBA-webp", "1bit"],
)
def test_pillow_modes_become_opaque_rgb(image: Image.Image, fmt: str, expected: tuple[int, int, int]) -> None:
    img = decode(fit_image(encode(image, fmt), 20, 20, background="white"))
    assert img.mode == "RGB"
    assert close(img.getpixel((10, 10)), expected, tolerance=6)


def test_preview_is_a_small_jpeg_of_the_fitted_frame() -> None:
    fitted = fit_image(circle_png(800, 600, 100), 720, 1280)
    assert fitted.mode == "cover"  # the default: never stretch unless asked
    preview = Image.open(io.BytesIO(fitted.preview))
    assert (preview.format, fitted.preview_mime_type) == ("JPEG", "image/jpeg")
    assert preview.size == (270, 480)
    assert len(fitted.preview) < len(fitted.data)
    tiny = fit_image(circle_png(80, 60, 10), 64, 36)
    assert Image.open(io.BytesIO(tiny.preview)).size == (64, 36)  # never upscaled


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused_by_name(fmt: str) -> None:
    with pytest.raises(
        ValidationError, match=rf"received a {fmt} image; accepted formats are JPEG, PNG or WebP"
    ):
        fit_image(encode(Image.new("RGB", (20, 20)), fmt), 10, 10)


def test_non_image_bytes_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"not a recognised image .*accepted formats are JPEG") as err:
        fit_image(b"hello, this is a text file\n" * 10, 10, 10)
    assert err.value.field == "image"
    assert set(err.value.allowed) == {"image/jpeg", "image/png", "image/webp"}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_refused(fmt: str) -> None:
    noisy = Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))
    data = encode(noisy, fmt)
    with pytest.raises(ValidationError, match=r"(truncated or corrupt|not a recognised image)"):
        fit_image(data[: len(data) // 2], 10, 10)


def test_header_only_decompression_bomb_is_refused_quickly_without_decoding() -> None:
    bomb = png_header_only(30000, 30000)  # 900 Mpx ≈ 2.7 GB once decoded
    assert len(bomb) < 200
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(ValidationError, match=r"decompression bomb|exceeds the limit") as err:
        fit_image(bomb, 1280, 720)
    assert time.monotonic() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB on Linux
    assert err.value.field == "image"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pixel_limit_is_per_call_and_checked_from_the_header() -> None:
    with pytest.raises(
        ValidationError, match=r"12000x12000 \(144000000 pixels\) exceeds the limit of 50000000"
    ):
        fit_image(png_header_only(12000, 12000), 1280, 720)
    real = encode(Image.new("RGB", (2000, 2000)), "PNG")
    with pytest.raises(ValidationError, match=r"2000x2000 .* exceeds the limit of 1000000 pixels"):
        fit_image(real, 64, 64, max_pixels=1_000_000)
    assert fit_image(real, 64, 64).width == 64  # the default limit is untouched by the call above
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS > 50_000_000


def test_oversize_upload_is_refused_before_decoding() -> None:
    # Garbage over the limit gets the size message, so the size check ran before any decode attempt.
    with pytest.raises(ValidationError, match=r"received 5000 bytes; the limit is 4096 bytes") as err:
        fit_image(b"\x00" * 5000, 10, 10, max_bytes=4096)
    assert (err.value.field, err.value.value) == ("image", 5000)
    with pytest.raises(ValidationError, match="empty upload"):
        fit_image(b"", 10, 10)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"mode": "fill"}, "mode", "mode='fill' is not a fit mode: choose cover, contain, stretch"),
        ({"background": "notacolour"}, "background", "background='notacolour' is not a colour"),
        ({"width": 0}, "width", "width=0 is not allowed: use a positive integer"),
        (
            {"output_format": "GIF"},
            "output_format",
            "output_format='GIF' is not offered: choose JPEG, PNG, WEBP",
        ),
    ],
)
def test_bad_arguments_name_field_value_and_choices(
    kwargs: dict[str, object], field: str, message: str
) -> None:
    args: dict[str, object] = {"width": 10, "height": 10, **kwargs}
    with pytest.raises(ValidationError) as err:
        fit_image(circle_png(20, 20, 4), **args)  # type: ignore[arg-type]
    assert str(err.value).startswith(message)
    assert err.value.field == field
