"""The emulator renders real media: exact H.264 geometry and timing, audio iff asked, prompt-derived
pictures, image -> video, related remixes, thumbnails, spritesheet and a smaller low-quality copy."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageOps

from sorastudio.emulator.render import (
    RenderedMedia,
    RenderSpec,
    frame_count,
    render_low_quality,
    render_media,
)
from sorastudio.emulator.render_audio import synthesize
from sorastudio.emulator.render_text import load_font, wrap

PROMPT = "A paper boat drifting down a rainy street, neon reflections, slow dolly shot"
Frames = list[NDArray[np.uint8]]


def decode(path: Path) -> Frames:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def mad(a: NDArray[np.generic], b: NDArray[np.generic]) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def luma_thumb(frame: NDArray[np.uint8], size: tuple[int, int] = (32, 18)) -> NDArray[np.float64]:
    return np.asarray(
        Image.fromarray(frame).convert("L").resize(size, Image.Resampling.BOX), dtype=np.float64
    )


def chroma_thumb(frame: NDArray[np.uint8], size: tuple[int, int] = (32, 18)) -> NDArray[np.float64]:
    ycbcr = Image.fromarray(frame).convert("YCbCr").resize(size, Image.Resampling.BOX)
    return np.asarray(ycbcr, dtype=np.float64)[..., 1:]


def render(tmp_path: Path, name: str, spec: RenderSpec) -> RenderedMedia:
    return render_media(spec, tmp_path / name)


def make_image(width: int, height: int, exif_orientation: int | None = None) -> bytes:
    """A smooth gradient with a few bold blocks: easy to recognise, gentle on H.264."""
    x = np.linspace(0, 255, width)[None, :, None]
    y = np.linspace(0, 255, height)[:, None, None]
    rgb = np.concatenate(
        [
            np.broadcast_to(x, (height, width, 1)),
            np.broadcast_to(y, (height, width, 1)),
            np.full((height, width, 1), 90.0),
        ],
        axis=2,
    ).astype(np.uint8)
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 8, height // 8, width // 3, height // 2), fill=(240, 240, 30))
    draw.ellipse((width // 2, height // 3, width - width // 8, height - height // 8), fill=(20, 20, 200))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if exif_orientation is not None:
        exif[0x0112] = exif_orientation
    image.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("width", "height", "seconds", "fps"),
    [(160, 96, 1.0, 24), (96, 160, 1.3, 24), (854, 480, 1.0, 24), (128, 128, 2.2, 30)],
)
def test_video_is_h264_with_exact_size_and_duration(
    tmp_path: Path, width: int, height: int, seconds: float, fps: int
) -> None:
    media = render(tmp_path, "clip", RenderSpec(PROMPT, width, height, seconds, fps=fps))
    with av.open(str(media.video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (width, height)
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.duration is not None
        assert abs(float(stream.duration * stream.time_base) - seconds) <= 1 / fps
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded == frame_count(RenderSpec(PROMPT, width, height, seconds, fps=fps))
    assert abs(decoded / fps - seconds) <= 1 / fps
    assert not list(av.open(str(media.video)).streams.audio)


def test_moov_atom_precedes_media_data_for_progressive_playback(tmp_path: Path) -> None:
    data = render(tmp_path, "clip", RenderSpec(PROMPT, 96, 64, 1)).video.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")


def test_sora2_clip_has_an_audible_aac_track_as_long_as_the_video(tmp_path: Path) -> None:
    media = render(tmp_path, "clip", RenderSpec(PROMPT, 1280, 720, 4, audio=True))
    with av.open(str(media.video)) as container:
        (video,) = container.streams.video
        (audio,) = container.streams.audio
        assert audio.codec_context.name == "aac"
        assert audio.rate == 48_000
        assert (video.width, video.height) == (1280, 720)
        assert abs(float(video.duration * video.time_base) - 4) <= 1 / 24
        assert abs(float(audio.duration * audio.time_base) - 4) <= 0.05
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert rms > 0.02, "audio track is (nearly) silent"


def test_soundtrack_follows_the_prompt() -> None:
    a = synthesize(PROMPT, 0, 48_000)
    assert a.shape == (2, 48_000) and a.dtype == np.float32
    assert np.array_equal(a, synthesize(PROMPT, 0, 48_000))
    assert mad(a, synthesize("A completely different prompt", 0, 48_000)) > 0.01
    assert np.abs(a).max() <= 0.5 + 1e-6


def test_thumbnails_and_spritesheet_decode_with_the_right_formats(tmp_path: Path) -> None:
    media = render(tmp_path, "clip", RenderSpec(PROMPT, 320, 180, 2))
    with Image.open(media.thumbnail_webp) as webp:
        assert webp.format == "WEBP" and webp.size == (320, 180)
    with Image.open(media.thumbnail_jpeg) as jpeg:
        assert jpeg.format == "JPEG" and jpeg.size == (320, 180)
        poster = np.asarray(jpeg.convert("RGB"))
    middle = decode(media.video)[frame_count(RenderSpec(PROMPT, 320, 180, 2)) // 2]
    assert mad(poster, middle) < 6, "the thumbnail shows the clip's middle frame"
    with Image.open(media.spritesheet) as sheet:
        assert sheet.format == "JPEG"
        assert sheet.size == (5 * 160, 5 * 90)
        grid = np.asarray(sheet.convert("RGB"))
    first, last = grid[:90, :160], grid[4 * 90 :, 4 * 160 :]
    assert mad(first, last) > 3, "the spritesheet samples frames across the clip"


def test_same_prompt_renders_the_same_clip(tmp_path: Path) -> None:
    spec = RenderSpec(PROMPT, 160, 96, 1, audio=True)
    a, b = render(tmp_path, "a", spec), render(tmp_path, "b", spec)
    frames_a, frames_b = decode(a.video), decode(b.video)
    assert all(np.array_equal(x, y) for x, y in zip(frames_a, frames_b, strict=True))


def test_prompt_and_variant_change_the_picture_and_it_moves(tmp_path: Path) -> None:
    base = decode(render(tmp_path, "base", RenderSpec(PROMPT, 192, 108, 2)).video)
    other = decode(render(tmp_path, "other", RenderSpec("A red fox in snow", 192, 108, 2)).video)
    variant = decode(render(tmp_path, "variant", RenderSpec(PROMPT, 192, 108, 2, variant_index=1)).video)
    assert mad(base[24], other[24]) > 10
    assert mad(base[24], variant[24]) > 10
    assert mad(base[0], base[-1]) > 3, "the clip is animated"


def test_input_image_is_the_first_frame_after_exif_rotation_and_cover_crop(tmp_path: Path) -> None:
    # Stored landscape 300x200 with EXIF "rotate 90° CW" (6): displayed 200x300, then covered to 160x96.
    data = make_image(300, 200, exif_orientation=6)
    expected = np.asarray(
        ImageOps.fit(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"), (160, 96))
    )
    frames = decode(render(tmp_path, "clip", RenderSpec(PROMPT, 160, 96, 2, image=data)).video)
    assert mad(frames[0], expected) < 4
    wrong_way = np.asarray(ImageOps.fit(Image.open(io.BytesIO(data)).convert("RGB"), (160, 96)))
    assert mad(frames[0], wrong_way) > 4 * mad(frames[0], expected)
    assert mad(frames[-1], expected) > 5, "later frames animate away from the image"


def test_input_image_can_pin_a_later_frame(tmp_path: Path) -> None:
    data = make_image(160, 96)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    frames = decode(
        render(tmp_path, "clip", RenderSpec(PROMPT, 160, 96, 1, image=data, image_frame_index=12)).video
    )
    assert mad(frames[12], expected) < 4
    assert mad(frames[0], expected) > 2 * mad(frames[12], expected)


def test_remix_is_visibly_related_to_its_source(tmp_path: Path) -> None:
    source_spec = RenderSpec(PROMPT, 320, 180, 2)
    source = decode(render(tmp_path, "source", source_spec).video)
    remix = decode(
        render(tmp_path, "remix", RenderSpec("Now at dawn", 320, 180, 2, remix_of=source_spec)).video
    )
    related = mad(luma_thumb(remix[24]), luma_thumb(source[24]))
    unrelated = [
        mad(
            luma_thumb(decode(render(tmp_path, f"u{k}", RenderSpec(p, 320, 180, 2)).video)[24]),
            luma_thumb(source[24]),
        )
        for k, p in enumerate(["Now at dawn", "A red fox in snow", "Desert caravan at noon"])
    ]
    assert related * 3 < min(unrelated)
    # Luma (structure) is shared; the colours are turned: compare chroma, where the text box is neutral.
    assert mad(chroma_thumb(remix[24]), chroma_thumb(source[24])) > 10, "the remix changes the colours"


def test_low_quality_keeps_size_and_duration_with_fewer_bytes(tmp_path: Path) -> None:
    spec = RenderSpec(PROMPT, 320, 180, 2)
    media = render(tmp_path, "clip", spec)
    low = render_low_quality(spec, media, tmp_path / "clip")
    assert low == tmp_path / "clip" / "video_low.mp4"
    assert low.stat().st_size < media.video.stat().st_size * 0.8
    with av.open(str(low)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 320, 180)
        assert abs(float(stream.duration * stream.time_base) - 2) <= 1 / 24
    assert mad(decode(low)[24], decode(media.video)[24]) < 8, "same content, just coarser"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (RenderSpec(PROMPT, 161, 96, 1), "width"),
        (RenderSpec(PROMPT, 160, 0, 1), "height"),
        (RenderSpec(PROMPT, 160, 96, 0), "seconds"),
        (RenderSpec(PROMPT, 160, 96, 1, fps=0), "fps"),
        (RenderSpec(PROMPT, 160, 96, 1, variant_index=-1), "variant_index"),
        (RenderSpec(PROMPT, 160, 96, 1, image=make_image(16, 16), image_frame_index=24), "image_frame_index"),
        (RenderSpec(PROMPT, 160, 96, 1, image=b"not an image"), "image"),
    ],
)
def test_bad_specs_are_rejected_naming_the_field(tmp_path: Path, spec: RenderSpec, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}\b"):
        render_media(spec, tmp_path / "clip")
    assert not (tmp_path / "clip" / "video.mp4").exists()


def test_prompt_wrapping_fits_the_box_and_marks_truncation() -> None:
    font = load_font(20)
    lines = wrap("word " * 200 + "supercalifragilisticexpialidocious" * 3, font, 200, 4)
    assert len(lines) == 4
    assert all(font.getlength(line) <= 200 for line in lines)
    assert lines[-1].endswith("…")
    long_word = wrap("x" * 300, font, 120, 10)
    assert len(long_word) > 1 and all(font.getlength(line) <= 120 for line in long_word)
    assert wrap("short prompt", font, 300, 3) == ["short prompt"]
