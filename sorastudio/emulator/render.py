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

from dataclasses import dataclass
from pathlib import Path


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


def render_media(spec: RenderSpec, directory: Path) -> RenderedMedia:
    raise NotImplementedError


def render_low_quality(spec: RenderSpec, source: RenderedMedia, directory: Path) -> Path:
    raise NotImplementedError
