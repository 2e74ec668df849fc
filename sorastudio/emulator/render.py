"""Render real, playable media for emulated jobs (PyAV + Pillow + NumPy).

CONTRACT (shared by the emulator API and this module — keep these names and signatures):

    RenderSpec          frozen dataclass describing one clip to render
    RenderedMedia       paths of the files written for one clip
    render_media(spec, directory) -> RenderedMedia
    render_low_quality(spec, source: RenderedMedia, directory) -> Path   (Sora 1 `quality=low`)

`render_media` writes into `directory` (created if missing):
    video.mp4        H.264 (yuv420p) MP4, exactly spec.width x spec.height, duration spec.seconds
                     (within one frame), AAC audio track iff spec.audio
    thumbnail.webp   thumbnail for the /videos APIs
    thumbnail.jpg    thumbnail for Sora 1
    spritesheet.jpg  a grid of frames sampled across the clip
It is blocking and CPU bound: callers run it in a thread pool.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

from sorastudio.emulator.render_audio import SAMPLE_RATE, synthesize
from sorastudio.emulator.render_scene import Scene
from sorastudio.emulator.render_yuv import Planes


@dataclass(frozen=True)
class RenderSpec:
    prompt: str
    width: int
    height: int
    seconds: float
    audio: bool = False
    fps: int = 24
    # Distinguishes Sora 1 variants of one job (same prompt, visibly different clips).
    variant_index: int = 0
    # Encoded image (JPEG/PNG/WebP bytes) that becomes frame `image_frame_index` (image -> video).
    image: bytes | None = None
    image_frame_index: int = 0
    # Set for a remix: the source clip's spec, so the remix is visibly related to it.
    remix_of: RenderSpec | None = None


@dataclass(frozen=True)
class RenderedMedia:
    video: Path
    thumbnail_webp: Path
    thumbnail_jpeg: Path
    spritesheet: Path


HIGH_CRF = 23
LOW_CRF = 35  # Sora 1 `quality=low`: same size and content, roughly a third of the bytes
MAX_SIDE = 4096
MAX_SECONDS = 60.0
SPRITE_COLUMNS = 5
SPRITE_ROWS = 5
SPRITE_TILE = 160  # longer side of one spritesheet tile, in pixels
# AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic SMPTE 170M (BT.601) and MPEG range:
# frames are built with BT.601 limited-range maths, so say so and players convert colours correctly.
_BT601 = 6
_MPEG_RANGE = 1


def frame_count(spec: RenderSpec) -> int:
    """Frames in the clip: seconds x fps rounded, so the duration is exact to within one frame."""
    return max(1, round(spec.seconds * spec.fps))


def validate(spec: RenderSpec) -> None:
    """Reject specs that cannot be encoded; business limits (Sora sizes, 1–20 s) belong to the API."""
    for name, value in (("width", spec.width), ("height", spec.height)):
        if not isinstance(value, int) or value % 2 or not 16 <= value <= MAX_SIDE:
            raise ValueError(f"{name} must be an even integer from 16 to {MAX_SIDE} (yuv420p), got {value!r}")
    if not isinstance(spec.fps, int) or not 1 <= spec.fps <= 60:
        raise ValueError(f"fps must be an integer from 1 to 60, got {spec.fps!r}")
    if not isinstance(spec.seconds, int | float) or not 0 < spec.seconds <= MAX_SECONDS:
        raise ValueError(
            f"seconds must be a number above 0 and at most {MAX_SECONDS:g}, got {spec.seconds!r}"
        )
    if not isinstance(spec.variant_index, int) or spec.variant_index < 0:
        raise ValueError(f"variant_index must be a non-negative integer, got {spec.variant_index!r}")
    n = frame_count(spec)
    if spec.image is not None and not 0 <= spec.image_frame_index < n:
        raise ValueError(
            f"image_frame_index must be from 0 to {n - 1} for a {spec.seconds:g} s clip at {spec.fps} fps, "
            f"got {spec.image_frame_index!r}"
        )
    if spec.remix_of is not None:
        validate(spec.remix_of)


def render_media(spec: RenderSpec, directory: Path) -> RenderedMedia:
    """Render video, thumbnails and spritesheet for `spec` into `directory` (see the module contract).

    Thumbnails show the middle frame at the full clip size (the API serves them as the clip's poster);
    the spritesheet is a 5x5 grid of frames sampled evenly from first to last, each at most 160 px.
    """
    validate(spec)
    directory.mkdir(parents=True, exist_ok=True)
    scene = Scene(spec, frame_count(spec))
    n = scene.n_frames
    poster_at = n // 2
    tile_at = [
        round(k * (n - 1) / (SPRITE_COLUMNS * SPRITE_ROWS - 1)) for k in range(SPRITE_COLUMNS * SPRITE_ROWS)
    ]
    tw, th = _tile_size(spec.width, spec.height)
    poster: list[Image.Image] = []
    tiles: dict[int, Image.Image] = {}

    def capture(i: int, frame: av.VideoFrame) -> None:
        if i == poster_at:
            poster.append(frame.to_image())
        if i in tile_at:
            tiles[i] = frame.reformat(width=tw, height=th, format="rgb24", interpolation="AREA").to_image()

    video = directory / "video.mp4"
    _encode(spec, scene, video, HIGH_CRF, capture)
    media = RenderedMedia(
        video=video,
        thumbnail_webp=directory / "thumbnail.webp",
        thumbnail_jpeg=directory / "thumbnail.jpg",
        spritesheet=directory / "spritesheet.jpg",
    )
    _save(poster[0], media.thumbnail_webp, "WEBP", quality=80, method=2)
    _save(poster[0], media.thumbnail_jpeg, "JPEG", quality=85)
    sheet = Image.new("RGB", (tw * SPRITE_COLUMNS, th * SPRITE_ROWS))
    for k, i in enumerate(tile_at):
        sheet.paste(tiles[i], ((k % SPRITE_COLUMNS) * tw, (k // SPRITE_COLUMNS) * th))
    _save(sheet, media.spritesheet, "JPEG", quality=80)
    return media


def render_low_quality(spec: RenderSpec, source: RenderedMedia, directory: Path) -> Path:
    """Write `video_low.mp4`: the same clip at the same size with a higher CRF (fewer bytes).

    Re-rendering is deterministic and cheaper than decoding `source.video` and re-encoding it, so
    `source` is only part of the contract for callers that pair the two.
    """
    validate(spec)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "video_low.mp4"
    _encode(spec, Scene(spec, frame_count(spec)), path, LOW_CRF, None)
    return path


def _tile_size(width: int, height: int) -> tuple[int, int]:
    scale = SPRITE_TILE / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _save(image: Image.Image, path: Path, fmt: str, **options: int) -> None:
    """Write atomically so a concurrent reader never sees half a file."""
    tmp = path.with_name(path.name + ".part")
    image.save(tmp, fmt, **options)
    os.replace(tmp, path)


def _plane_views(frame: av.VideoFrame) -> Planes:
    """Writable NumPy views on the frame's Y, U, V planes (no copies; rows may be padded)."""
    y, u, v = (
        np.frombuffer(p, dtype=np.uint8).reshape(p.height, p.line_size)[:, : p.width] for p in frame.planes
    )
    return y, u, v


def _encode(
    spec: RenderSpec,
    scene: Scene,
    path: Path,
    crf: int,
    capture: Callable[[int, av.VideoFrame], None] | None,
) -> None:
    n, fps = scene.n_frames, spec.fps
    tmp = path.with_name(path.name + ".part")
    try:
        # `+faststart` puts the moov atom first so browsers can start playing while downloading.
        with av.open(str(tmp), mode="w", format="mp4", container_options={"movflags": "+faststart"}) as out:
            video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": str(crf)})
            video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
            codec = video.codec_context
            codec.gop_size = 2 * fps  # a keyframe every 2 s keeps seeking in players snappy
            codec.colorspace = codec.color_primaries = codec.color_trc = _BT601
            codec.color_range = _MPEG_RANGE
            audio = None
            samples = np.zeros((2, 0), dtype=np.float32)
            if spec.audio:
                audio = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
                audio.codec_context.bit_rate = 128_000
                samples = synthesize(spec.prompt, spec.variant_index, round(n * SAMPLE_RATE / fps))
            sent = 0
            for i in range(n):
                frame = av.VideoFrame(spec.width, spec.height, "yuv420p")
                scene.draw(i, _plane_views(frame))
                frame.pts = i
                frame.colorspace, frame.color_range = _BT601, _MPEG_RANGE
                if capture is not None:
                    capture(i, frame)
                out.mux(video.encode(frame))
                if audio is not None:
                    # Interleave: after each video frame, send the audio up to that frame's end time.
                    until = samples.shape[1] if i == n - 1 else (i + 1) * SAMPLE_RATE // fps
                    if until > sent:
                        chunk = av.AudioFrame.from_ndarray(
                            np.ascontiguousarray(samples[:, sent:until]), format="fltp", layout="stereo"
                        )
                        chunk.sample_rate, chunk.pts = SAMPLE_RATE, sent
                        out.mux(audio.encode(chunk))
                        sent = until
            out.mux(video.encode(None))
            if audio is not None:
                out.mux(audio.encode(None))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


__all__ = ["RenderSpec", "RenderedMedia", "frame_count", "render_low_quality", "render_media", "validate"]
