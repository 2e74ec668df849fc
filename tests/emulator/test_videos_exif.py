"""`input_reference` size checks use the image as displayed (after EXIF orientation), as the renderer
does: a phone photo stored 720x1280 with Orientation=6 is a 1280x720 picture."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageOps

from sorastudio.emulator.videos_input import check_image
from tests.emulator.test_videos_api import (  # noqa: F401 - stub_render is an autouse fixture
    AZURE,
    OPENAI,
    auth,
    emulator,
    stub_render,
)

INPAINT_BODY = {
    "error": {
        "message": "Inpaint image must match the requested width and height",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}


def jpeg(width: int, height: int, orientation: int) -> bytes:
    """A JPEG stored width x height whose EXIF says how to turn it for display."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 60, 30)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_checked_size_is_the_exif_transposed_size(orientation: int) -> None:
    data = jpeg(720, 1280, orientation)
    with Image.open(io.BytesIO(data)) as opened:
        displayed = ImageOps.exif_transpose(opened).size
    assert check_image(data, "input_reference") == displayed
    assert displayed == ((1280, 720) if orientation >= 5 else (720, 1280))


@pytest.mark.anyio
@pytest.mark.parametrize("base", [OPENAI, AZURE])
async def test_rotated_jpeg_matches_its_displayed_size_only(base: str) -> None:
    image = jpeg(720, 1280, orientation=6)
    async with emulator() as emu:
        url = f"{base}/videos"
        files = {"input_reference": ("phone.jpg", image, "image/jpeg")}
        model = {"model": "sora-2"} if base == AZURE else {}
        landscape = await emu.client.post(
            url, data={"prompt": "A kite", "size": "1280x720", **model}, files=files, headers=auth(base)
        )
        assert landscape.status_code == 200, landscape.text
        assert emu.state.media.spec(landscape.json()["id"]).image == image  # type: ignore[attr-defined]
        portrait = await emu.client.post(
            url, data={"prompt": "A kite", "size": "720x1280", **model}, files=files, headers=auth(base)
        )
        assert portrait.status_code == 400
        assert portrait.json() == INPAINT_BODY
