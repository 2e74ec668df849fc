"""Prompt text in any script renders as letters, not as the font's "missing glyph" box."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import ImageFont

from sorastudio.emulator import render_text
from sorastudio.emulator.render_text import FONT_ENV, font_path, load_font, prompt_box

# A private-use code point: no font assigns it, so it draws as the missing-glyph box (or nothing).
UNASSIGNED = "\ue000"
PROMPT = "Ein Boot über den See, café, Жёлтый дом"

needs_font = pytest.mark.skipif(
    font_path() is None,
    reason="no system TrueType font (install fonts-dejavu-core, as CI does); Pillow's font has ASCII only",
)


def bitmap(font: render_text.Font, text: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(text)
    return mask.size, bytes(mask)


@needs_font
@pytest.mark.parametrize("char", ["ü", "é", "Ж"], ids=["u-umlaut", "e-acute", "cyrillic-zhe"])
def test_non_ascii_letters_are_drawn_as_glyphs_not_boxes(char: str) -> None:
    font = load_font(40)
    assert isinstance(font, ImageFont.FreeTypeFont)
    assert bitmap(font, char) != bitmap(font, UNASSIGNED)
    assert any(bitmap(font, char)[1]), "the glyph has ink"


@needs_font
def test_prompt_box_draws_each_letter_differently() -> None:
    """Boxes would make 'ü', 'é' and 'Ж' identical: the rendered prompt must tell them apart."""
    images = {}
    for char in ("ü", "é", "Ж", UNASSIGNED):
        image, _, _ = prompt_box(PROMPT.replace("ü", char), 640, 360)
        images[char] = image
    assert not np.array_equal(images["ü"], images[UNASSIGNED])
    assert not np.array_equal(images["ü"], images["é"])
    assert not np.array_equal(images["ü"], images["Ж"])


def test_env_override_picks_the_font(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = next((Path(p) for p in render_text.FONT_CANDIDATES if Path(p).is_file()), None)
    if chosen is None:
        pytest.skip("no system TrueType font to point the override at")
    monkeypatch.setattr(render_text, "FONT_CANDIDATES", ())
    monkeypatch.setenv(FONT_ENV, str(chosen))
    assert font_path() == chosen
    font = load_font(20)
    assert isinstance(font, ImageFont.FreeTypeFont) and font.path == str(chosen)


def test_without_any_system_font_falls_back_to_pillows_font(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(render_text, "FONT_CANDIDATES", (str(tmp_path / "absent.ttf"),))
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "also-absent.ttf"))
    assert font_path() is None
    font = load_font(20)
    assert font.getlength("abc") > 0  # still usable: the emulator renders without fonts installed
