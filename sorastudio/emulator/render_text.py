"""Text overlays for the emulator renderer: the prompt in a translucent box, plus a small corner tag.

Drawn once per clip and composited per frame as a `Patch`, so text costs one small blend per frame.
The font is a system TrueType font (`font_path`), so prompts in any script render as letters; the
repository ships no font files.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sorastudio.emulator.render_yuv import U8

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
_ELLIPSIS = "…"
FONT_ENV = "SORASTUDIO_EMULATOR_FONT"
# Common places of broad-coverage sans fonts (Latin, Greek, Cyrillic): Debian/Ubuntu, Fedora, macOS, Windows.
FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/google-noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "C:/Windows/Fonts/arial.ttf",
)
log = logging.getLogger(__name__)


def font_path() -> Path | None:
    """The TrueType font to draw with: `$SORASTUDIO_EMULATOR_FONT` if it names a file, else the first
    of `FONT_CANDIDATES` present; None when there is none."""
    override = os.environ.get(FONT_ENV)
    if override:
        if Path(override).is_file():
            return Path(override)
        _warn_missing(override)
    return next((Path(p) for p in FONT_CANDIDATES if Path(p).is_file()), None)


@functools.cache
def _warn_missing(path: str) -> None:
    # Once per path: a render draws text twice per clip.
    log.warning("%s=%s is not a font file; using a system font instead", FONT_ENV, path)


def load_font(size: int) -> Font:
    """The system font at `size` pixels; without one, Pillow's bundled font, which covers ASCII only
    (other letters then render as boxes: install e.g. fonts-dejavu-core)."""
    path = font_path()
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            log.warning("cannot load font %s; using Pillow's bundled font", path)
    return ImageFont.load_default(size=size)


def wrap(text: str, font: Font, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap to `max_width` pixels; over-long words are split; overflow ends with an ellipsis."""
    words = " ".join(text.split()).split(" ") if text.strip() else [""]
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while font.getlength(current) > max_width and len(current) > 1:
            cut = _fit(current, font, max_width)
            lines.append(current[:cut])
            current = current[cut:]
    lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + _ELLIPSIS) > max_width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + _ELLIPSIS]
    return lines


def _fit(word: str, font: Font, max_width: float) -> int:
    """Longest prefix length of `word` that fits (at least one character)."""
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(word[:mid]) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _even(n: float) -> int:
    return max(2, int(n) // 2 * 2)


def prompt_box(prompt: str, width: int, height: int) -> tuple[U8, int, int]:
    """RGBA image of the wrapped prompt in a rounded translucent box, and where it goes (x, y)."""
    short = min(width, height)
    size = max(14, short // 20)
    font = load_font(size)
    pad = _even(size * 0.6)
    box_w = _even(width * 0.88)
    line_h = int(size * 1.3)
    max_lines = max(2, min(6, int(height * 0.32) // line_h))
    lines = wrap(prompt, font, box_w - 2 * pad, max_lines)
    box_h = _even(len(lines) * line_h + 2 * pad)
    image = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=(8, 8, 12, 150))
    for i, line in enumerate(lines):
        draw.text((pad, pad + i * line_h), line, font=font, fill=(255, 255, 255, 255))
    x = _even((width - box_w) / 2)
    y = _even(height - box_h - max(8, height // 18))
    return np.asarray(image, dtype=np.uint8), x, y


def corner_tag(text: str, width: int, height: int) -> tuple[U8, int, int]:
    """RGBA image of a small label for the top-left corner, and where it goes (x, y)."""
    size = max(10, min(width, height) // 36)
    font = load_font(size)
    pad = _even(size * 0.5)
    text_w = int(font.getlength(text)) + 1
    tag_w = _even(min(text_w + 2 * pad + 2, width - 2 * pad))
    tag_h = _even(size * 1.25 + 2 * pad)
    image = Image.new("RGBA", (tag_w, tag_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, tag_w - 1, tag_h - 1), radius=pad, fill=(0, 0, 0, 110))
    draw.text((pad, pad), text, font=font, fill=(255, 255, 255, 230))
    return np.asarray(image, dtype=np.uint8), pad * 2, pad * 2
