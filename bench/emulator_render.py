"""Benchmark the emulator renderer: render time / clip duration (target < 0.5 on 2 cores).

Run from the repo root:  .venv/bin/python bench/emulator_render.py

Each case is measured next to two baselines from the same run, so the figures can be read as ratios
independent of the machine:
- floor: libx264 (same preset and CRF) encoding one constant frame repeatedly — the encoder alone;
- naive: a straightforward renderer that draws every frame in RGB with Pillow (panned gradient, shapes,
  prompt text) and lets PyAV convert it to YUV — what `render.py` avoids by composing in YUV planes.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

from sorastudio.emulator.render import HIGH_CRF, RenderSpec, frame_count, render_media
from sorastudio.emulator.render_text import load_font, wrap

PROMPT = (
    "A golden retriever in a yellow raincoat splashing through puddles on a cobblestone street at dusk, "
    "warm shop lights reflecting on wet stones, handheld tracking shot, shallow depth of field"
)
TARGET = 0.5


@dataclass(frozen=True)
class Case:
    label: str
    spec: RenderSpec


CASES = [
    Case("1280x720 4s +audio (Sora 2)", RenderSpec(PROMPT, 1280, 720, 4, audio=True)),
    Case("1280x720 8s +audio (Sora 2)", RenderSpec(PROMPT, 1280, 720, 8, audio=True)),
    Case("1280x720 12s +audio (Sora 2)", RenderSpec(PROMPT, 1280, 720, 12, audio=True)),
    Case("1920x1080 10s (Sora 1)", RenderSpec(PROMPT, 1920, 1080, 10)),
]


def _open_h264(path: Path, spec: RenderSpec) -> tuple[av.container.OutputContainer, av.VideoStream]:
    out = av.open(str(path), mode="w", format="mp4")
    stream = out.add_stream("libx264", rate=spec.fps, options={"preset": "ultrafast", "crf": str(HIGH_CRF)})
    stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
    return out, stream


def floor_seconds(spec: RenderSpec, path: Path) -> float:
    start = time.perf_counter()
    out, stream = _open_h264(path, spec)
    with out:
        grey = np.full((spec.height * 3 // 2, spec.width), 128, dtype=np.uint8)
        for i in range(frame_count(spec)):
            frame = av.VideoFrame.from_ndarray(grey, format="yuv420p")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return time.perf_counter() - start


def naive_seconds(spec: RenderSpec, path: Path) -> float:
    start = time.perf_counter()
    w, h = spec.width, spec.height
    font = load_font(max(14, min(w, h) // 20))
    lines = wrap(spec.prompt, font, w * 0.8, 4)
    x = np.linspace(0, 1, w * 2, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    out, stream = _open_h264(path, spec)
    with out:
        for i in range(frame_count(spec)):
            shift = i * 4 % w
            gradient = np.stack(
                [x[:, shift : shift + w] * 255 + y * 0, y * 200 + x[:, :w] * 0, (1 - y) * 180 + x[:, :w] * 0],
                axis=2,
            )
            image = Image.fromarray(gradient.astype(np.uint8))
            draw = ImageDraw.Draw(image, "RGBA")
            for k in range(5):
                cx, cy, r = (i * (3 + k) + k * 200) % w, (h // 2 + k * 37) % h, min(w, h) // 10
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(230, 230, 250, 210))
            draw.rectangle((w // 20, h * 3 // 4, w - w // 20, h - h // 20), fill=(0, 0, 0, 150))
            for n, line in enumerate(lines):
                draw.text((w // 16, h * 3 // 4 + n * font.size * 1.3), line, font=font, fill="white")
            frame = av.VideoFrame.from_image(image)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return time.perf_counter() - start


def render_seconds(spec: RenderSpec, directory: Path) -> float:
    start = time.perf_counter()
    render_media(spec, directory)
    return time.perf_counter() - start


def main() -> int:
    print(
        f"emulator render benchmark — {os.cpu_count()} CPUs, PyAV {av.__version__}, target ratio < {TARGET}"
    )
    print("ratio = wall time / clip duration; render includes audio, thumbnails and spritesheet\n")
    header = f"{'case':31} {'clip s':>6} {'render s':>8} {'ratio':>6} {'floor':>6} {'naive':>6}"
    header += f" {'vs naive':>8}  ok"
    print(header)
    print("-" * len(header))
    failed = False
    with tempfile.TemporaryDirectory(prefix="sorastudio-bench-") as tmp:
        root = Path(tmp)
        render_seconds(RenderSpec(PROMPT, 64, 64, 1, audio=True), root / "warmup")  # imports, font load
        for n, case in enumerate(CASES):
            spec = case.spec
            clip = frame_count(spec) / spec.fps
            rendered = render_seconds(spec, root / f"case{n}")
            floor = floor_seconds(spec, root / f"floor{n}.mp4")
            naive = naive_seconds(spec, root / f"naive{n}.mp4")
            ratio = rendered / clip
            ok = ratio < TARGET
            failed |= not ok
            print(
                f"{case.label:31} {clip:6.2f} {rendered:8.2f} {ratio:6.3f} {floor / clip:6.3f} "
                f"{naive / clip:6.3f} {naive / rendered:7.1f}x  {'yes' if ok else 'NO'}"
            )
    print(
        "\nfloor = libx264 encoding a constant frame (encoder cost only); "
        "naive = per-frame Pillow RGB drawing"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
