"""What the emulator draws: a seeded scene whose frames are cheap to produce.

Everything expensive happens once per clip: a background larger than the frame (panned by slicing),
sprites and text pre-converted to YUV patches. Per frame there is one plane copy plus a few small blends.

Seeding (all via SHA-256, never `hash()`, so clips are stable across processes):
- the prompt picks palette, background layout, sprites and motion;
- `variant_index` shifts hue and motion phase, so Sora 1 variants of one job differ visibly;
- a remix reuses its source's look and motion and turns the chroma by an angle taken from the new
  prompt: luma (the structure) is unchanged, colours shift, and the new prompt is drawn.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from sorastudio.emulator.render_text import corner_tag, prompt_box
from sorastudio.emulator.render_yuv import U8, Patch, Planes, rgb_to_planes, rotate_chroma, rotate_rgb

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from sorastudio.emulator.render import RenderSpec

Rgb = tuple[int, int, int]
_ZOOM = 1.12  # image -> video: how far the clip zooms into the input image
_ZOOM_SECONDS = 1.0  # ... over this long (resampled per frame), then it pans by slicing
_FADE_SECONDS = 0.5  # image -> video: text fades in over this long after the input frame
_SHAPES = ("disc", "ring", "square", "diamond", "triangle")


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(("sorastudio-emulator", *parts)).encode()).digest()


def _even(n: float) -> int:
    return int(n) // 2 * 2


@dataclass(frozen=True)
class Look:
    """The size-independent identity of a clip, inherited along a remix chain."""

    seed: bytes  # background, sprites and motion
    variant: int  # hue and phase offset
    tint: float  # degrees of chroma rotation accumulated by remixes
    image: bytes | None  # the input image (own or inherited from the remix source)
    own_image: bool  # True when the frame at image_frame_index must equal the image


def look_of(spec: RenderSpec) -> Look:
    if spec.remix_of is None:
        return Look(_digest(spec.prompt), spec.variant_index, 0.0, spec.image, spec.image is not None)
    source = look_of(spec.remix_of)
    h = _digest("remix", spec.prompt)
    # 50..130 degrees either way: clearly new colours, same shapes and motion.
    turn = (50.0 + h[0] / 255.0 * 80.0) * (1 if h[1] % 2 else -1)
    if spec.image is not None:
        return Look(source.seed, source.variant + spec.variant_index, 0.0, spec.image, True)
    return Look(source.seed, source.variant + spec.variant_index, source.tint + turn, source.image, False)


def decode_image(data: bytes, width: int, height: int) -> U8:
    """Decode, apply EXIF orientation, centre-crop to cover and resize to exactly width x height."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(
            f"image: cannot decode the input image ({len(data)} bytes; JPEG, PNG or WebP expected): {exc}"
        ) from exc
    if image.size != (width, height):
        image = ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


@dataclass
class _Sprite:
    patch: Patch
    xs: NDArray[np.int64]
    ys: NDArray[np.int64]


@dataclass
class _Overlay:
    patch: Patch
    x: int
    y: int


class Scene:
    """Frames of one clip; `draw(i, planes)` fills frame i into YUV 4:2:0 planes of the clip size."""

    def __init__(self, spec: RenderSpec, n_frames: int) -> None:
        self.width, self.height, self.n_frames, self.fps = spec.width, spec.height, n_frames, spec.fps
        self.look = look = look_of(spec)
        self._rng = np.random.default_rng(int.from_bytes(look.seed[:8], "big"))
        self._phase = (look.variant * 0.618034) % 1.0  # golden-ratio steps keep variants apart
        self._sprites: list[_Sprite] = []
        self._pinned: int | None = None
        self._exact: Planes | None = None
        self._zoom_src: tuple[Image.Image, Image.Image, Image.Image] | None = None
        self._zoom_frames = 0
        t = np.arange(n_frames, dtype=np.float64) / spec.fps
        if look.image is not None:
            self._init_image(look.image, spec.image_frame_index if look.own_image else 0, t)
        else:
            self._init_synthetic(t)
        self._fade = self._fade_levels()
        tag = "sorastudio emulator" + (f" · variant {look.variant + 1}" if look.variant else "")
        tag += " · remix" if spec.remix_of is not None else ""
        self._overlays = [
            _Overlay(Patch.from_rgba(rgba), x, y)
            for rgba, x, y in (prompt_box(spec.prompt, self.width, self.height), corner_tag(tag, *self.size))
        ]
        self._bar_h = max(4, _even(self.height / 120))

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    # -- construction -------------------------------------------------------------------------------

    def _palette(self) -> list[Rgb]:
        rng = self._rng
        base = rng.random()
        offsets = [(0.0, 0.08, 0.16), (0.0, 0.5, 0.58), (0.0, 0.33, 0.67), (0.0, 0.12, 0.45)][rng.integers(4)]
        colours: list[Rgb] = []
        for k, off in enumerate((*offsets, offsets[1] + 0.04)):
            hue = (base + off + self._phase * 0.37) % 1.0
            sat = 0.45 + 0.4 * rng.random()
            val = (0.30 + 0.25 * rng.random()) if k % 2 == 0 else (0.55 + 0.35 * rng.random())
            r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
            colours.append((int(r * 255), int(g * 255), int(b * 255)))
        return colours

    def _init_synthetic(self, t: NDArray[np.float64]) -> None:
        rng, w, h = self._rng, self.width, self.height
        palette = self._palette()
        mx, my = max(8, _even(w * 0.1)), max(8, _even(h * 0.1))
        bw, bh = w + 2 * mx, h + 2 * my
        cells = np.array([palette[i] for i in rng.integers(len(palette), size=12)], dtype=np.uint8)
        grid = Image.fromarray(cells.reshape(3, 4, 3))
        background = grid.resize((bw, bh), Image.Resampling.BICUBIC).convert("RGBA")
        pattern = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
        draw = ImageDraw.Draw(pattern)
        step = max(12, min(w, h) // 9)
        dot = max(2, step // 12)
        ox, oy = rng.integers(step, size=2)
        for yy in range(int(oy), bh, step):
            for xx in range(int(ox), bw, step):
                draw.ellipse((xx - dot, yy - dot, xx + dot, yy + dot), fill=(255, 255, 255, 60))
        for _ in range(3):  # large faint rings give the pan something to follow
            cx, cy, r = rng.random() * bw, rng.random() * bh, (0.2 + 0.4 * rng.random()) * min(bw, bh)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(255, 255, 255, 40), width=max(2, dot))
        rgb = np.asarray(Image.alpha_composite(background, pattern).convert("RGB"), dtype=np.uint8)
        self._background = self._tinted(rgb_to_planes(rgb))
        phase = 2 * np.pi * self._phase
        fx, fy = 0.04 + 0.06 * rng.random(), 0.03 + 0.05 * rng.random()
        px, py = rng.random(2) * 2 * np.pi
        self._pan_x = np.rint(mx + mx * np.sin(2 * np.pi * fx * t + px + phase)).astype(np.int64)
        self._pan_y = np.rint(my + my * np.sin(2 * np.pi * fy * t + py - phase)).astype(np.int64)
        short = min(w, h)
        for _ in range(int(rng.integers(4, 7))):
            kind = _SHAPES[int(rng.integers(len(_SHAPES)))]
            colour = palette[int(rng.integers(len(palette)))]
            light: Rgb = (
                (colour[0] + 255) // 2,
                (colour[1] + 255) // 2,
                (colour[2] + 255) // 2,
            )
            patch = _shape_patch(
                kind, rotate_rgb(light, self.look.tint), max(8, _even(short * (0.1 + 0.12 * rng.random())))
            )
            ax, ay = 0.2 + 0.25 * rng.random(), 0.2 + 0.25 * rng.random()
            sx, sy = (0.05 + 0.11 * rng.random()) * rng.choice([-1, 1]), 0.04 + 0.1 * rng.random()
            qx, qy = rng.random(2) * 2 * np.pi
            cx = w * (0.5 + ax * np.sin(2 * np.pi * sx * t + qx + phase))
            cy = h * (0.5 + ay * np.sin(2 * np.pi * sy * t + qy + 1.7 * phase))
            xs = np.rint(cx - patch.width / 2).astype(np.int64)
            ys = np.rint(cy - patch.height / 2).astype(np.int64)
            self._sprites.append(_Sprite(patch, xs, ys))

    def _init_image(self, data: bytes, pinned: int, t: NDArray[np.float64]) -> None:
        rng, w, h = self._rng, self.width, self.height
        rgb = decode_image(data, w, h)
        self._pinned = pinned
        self._exact = self._tinted(rgb_to_planes(rgb))
        self._zoom_src = (
            Image.fromarray(self._exact[0]),
            Image.fromarray(self._exact[1]),
            Image.fromarray(self._exact[2]),
        )
        bw, bh = _even(w * _ZOOM) + 2, _even(h * _ZOOM) + 2
        big = Image.fromarray(rgb).resize((bw, bh), Image.Resampling.BILINEAR)
        self._background = self._tinted(rgb_to_planes(np.asarray(big, dtype=np.uint8)))
        mx, my = (bw - w) // 2, (bh - h) // 2
        # Distance from the input frame: the clip zooms in, then drifts, in both directions of time.
        s = np.abs(t - pinned / self.fps)
        self._zoom_frames = max(1, round(_ZOOM_SECONDS * self.fps))
        angle = rng.random() * 2 * np.pi + 2 * np.pi * self._phase
        drift = np.sin(2 * np.pi * 0.06 * np.maximum(s - _ZOOM_SECONDS, 0.0))
        self._pan_x = np.rint(mx + 0.9 * mx * np.cos(angle) * drift).astype(np.int64)
        self._pan_y = np.rint(my + 0.9 * my * np.sin(angle) * drift).astype(np.int64)

    def _tinted(self, planes: Planes) -> Planes:
        if not self.look.tint:
            return planes
        u, v = rotate_chroma(planes[1], planes[2], self.look.tint)
        return planes[0], u, v

    def _fade_levels(self) -> NDArray[np.int64]:
        """Opacity of the text per frame in 1/16 steps (image -> video fades it in after the input frame)."""
        if self._pinned is None:
            return np.full(self.n_frames, 16, dtype=np.int64)
        distance = np.abs(np.arange(self.n_frames) - self._pinned)
        fade_frames = max(1, round(_FADE_SECONDS * self.fps))
        return np.minimum(16, distance * 16 // fade_frames).astype(np.int64)

    # -- per frame ----------------------------------------------------------------------------------

    def draw(self, i: int, planes: Planes) -> None:
        y, u, v = planes
        if self._pinned is not None and self._exact is not None:
            distance = abs(i - self._pinned)
            if distance == 0:
                y[...], u[...], v[...] = self._exact
                return
            if distance < self._zoom_frames:
                self._draw_zoom(distance / self._zoom_frames, planes)
            else:
                self._draw_pan(i, planes)
        else:
            self._draw_pan(i, planes)
        for sprite in self._sprites:
            sprite.patch.blend_onto(planes, int(sprite.xs[i]), int(sprite.ys[i]))
        level = int(self._fade[i])
        if level > 0:
            for overlay in self._overlays:
                overlay.patch.faded(level).blend_onto(planes, overlay.x, overlay.y)
        self._draw_bar(i, planes)

    def _draw_pan(self, i: int, planes: Planes) -> None:
        ox, oy, w, h = int(self._pan_x[i]), int(self._pan_y[i]), self.width, self.height
        by, bu, bv = self._background
        planes[0][...] = by[oy : oy + h, ox : ox + w]
        cx, cy = ox // 2, oy // 2
        planes[1][...] = bu[cy : cy + h // 2, cx : cx + w // 2]
        planes[2][...] = bv[cy : cy + h // 2, cx : cx + w // 2]

    def _draw_zoom(self, progress: float, planes: Planes) -> None:
        assert self._zoom_src is not None
        zoom = 1.0 + (_ZOOM - 1.0) * progress
        for plane, src in zip(planes, self._zoom_src, strict=True):
            pw, ph = src.size
            cw, ch = pw / zoom, ph / zoom
            box = ((pw - cw) / 2, (ph - ch) / 2, (pw + cw) / 2, (ph + ch) / 2)
            plane[...] = np.asarray(src.resize((pw, ph), Image.Resampling.BILINEAR, box=box))

    def _draw_bar(self, i: int, planes: Planes) -> None:
        filled = _even(self.width * (i + 1) / self.n_frames)
        if filled <= 0:
            return
        top = self.height - self._bar_h
        planes[0][top:, :filled] = 225
        planes[1][top // 2 :, : filled // 2] = 128
        planes[2][top // 2 :, : filled // 2] = 128


def _shape_patch(kind: str, colour: Rgb, size: int) -> Patch:
    """A soft-edged sprite: antialiased shape (3x supersampled) with a faint glow."""
    glow = max(2, _even(size * 0.25))
    canvas = size + 2 * glow
    ss = 3
    mask = Image.new("L", (canvas * ss, canvas * ss), 0)
    draw = ImageDraw.Draw(mask)
    lo, hi = glow * ss, (glow + size) * ss - 1
    mid = (lo + hi) / 2
    if kind == "disc":
        draw.ellipse((lo, lo, hi, hi), fill=255)
    elif kind == "ring":
        draw.ellipse((lo, lo, hi, hi), outline=255, width=max(ss, size * ss // 6))
    elif kind == "square":
        draw.rounded_rectangle((lo, lo, hi, hi), radius=size * ss // 6, fill=255)
    elif kind == "diamond":
        draw.polygon([(mid, lo), (hi, mid), (mid, hi), (lo, mid)], fill=255)
    else:
        draw.polygon([(mid, lo), (hi, hi), (lo, hi)], fill=255)
    core = mask.resize((canvas, canvas), Image.Resampling.BOX)
    halo = core.filter(ImageFilter.GaussianBlur(glow / 2))
    alpha = np.maximum(np.asarray(core, dtype=np.float32) * 0.9, np.asarray(halo, dtype=np.float32) * 0.45)
    rgba = np.empty((canvas, canvas, 4), dtype=np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = np.clip(np.rint(alpha), 0, 255).astype(np.uint8)
    return Patch.from_rgba(rgba)
