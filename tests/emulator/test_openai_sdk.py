"""The official `openai` SDK (pinned, unmodified) against a real uvicorn emulator, on both surfaces:
OpenAI at `/v1` and Azure Sora 2 at `/openai/v1/` (where `model` is the deployment name)."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from typing import Any

import av
import httpx
import numpy as np
import openai
import pytest
from PIL import Image

from sorastudio.emulator.config import Deployment, EmulatorConfig
from sorastudio.emulator.server import running_server

FPS = 24
POLL_MS = 20
AZURE_DEPLOYMENT = "studio-sora2"
# The SDK marks every /videos method deprecated (Sora API shutdown date); not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    # 0.005: a 4 s clip's ~105 emulated seconds of work take ~0.5 s. On Azure, `model` names a
    # deployment: one named unlike its model shows the emulator echoes the deployment. No create rate
    # limit on it (the flow creates 3 videos; Azure's sora-2 allows 2 a minute) and the flow waits for
    # each job, so its running cap is never reached: the SDK runs without retries (`max_retries=0`), so
    # this proves the unmodified SDK works, not that its retries hide a stray 429 or 500.
    deployment = Deployment(name=AZURE_DEPLOYMENT, model="sora-2", running_cap=2, creates_per_minute=0)
    deployments = [*EmulatorConfig().deployments, deployment]
    with running_server(EmulatorConfig(time_scale=0.005, fps=FPS, deployments=deployments)) as url:
        yield url


@pytest.fixture(params=["openai", "azure"])
def surface(request: pytest.FixtureRequest, base_url: str) -> Iterator[tuple[openai.OpenAI, str]]:
    """The SDK client and the `model` to send. Azure: the docs' way — the plain OpenAI client with
    base_url …/openai/v1/ and the key as Bearer."""
    path, model = ("/v1", "sora-2") if request.param == "openai" else ("/openai/v1/", AZURE_DEPLOYMENT)
    with openai.OpenAI(base_url=base_url + path, api_key="emulator-key", max_retries=0) as sdk:
        yield sdk, model


def reference_png(width: int, height: int) -> bytes:
    """A gradient, so a wrong crop or orientation of the first frame would show."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    rgb = np.concatenate(
        [
            np.broadcast_to(x, (height, width, 1)),
            np.broadcast_to(y, (height, width, 1)),
            np.full((height, width, 1), 90, np.float32),
        ],
        axis=2,
    )
    out = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def check_mp4(data: bytes, width: int, height: int, seconds: float) -> np.ndarray[Any, np.dtype[np.int16]]:
    """H.264 at exactly width×height, duration within one frame, an AAC track (Sora 2); the first frame."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (width, height)
        assert video.duration is not None and video.time_base is not None
        assert abs(float(video.duration * video.time_base) - seconds) <= 1 / FPS + 1e-6
        assert [a.codec_context.name for a in container.streams.audio] == ["aac"]
        frame = next(container.decode(video=0))
        return np.asarray(frame.to_image().convert("RGB"), dtype=np.int16)


def test_sdk_full_flow(surface: tuple[openai.OpenAI, str], base_url: str) -> None:
    client, model = surface
    videos = client.videos

    text = videos.create_and_poll(
        prompt="A paper boat sails down a rainy street",
        model=model,
        seconds="4",
        size="1280x720",
        poll_interval_ms=POLL_MS,
    )
    assert (text.status, text.progress, text.size, text.seconds, text.model) == (
        "completed",
        100,
        "1280x720",
        "4",
        model,
    )
    assert text.error is None and text.completed_at is not None and text.expires_at is not None

    image = reference_png(720, 1280)
    from_image = videos.create_and_poll(
        prompt="The gradient comes alive",
        model=model,
        size="720x1280",
        input_reference=("ref.png", image, "image/png"),
        poll_interval_ms=POLL_MS,
    )
    assert from_image.status == "completed", from_image.error

    assert videos.retrieve(text.id).model_dump() == text.model_dump()

    remix = videos.remix(text.id, prompt="The same street, now at night")
    assert (remix.status, remix.remixed_from_video_id) == ("queued", text.id)
    remix = videos.poll(remix.id, poll_interval_ms=POLL_MS)
    assert (remix.status, remix.size, remix.seconds) == ("completed", "1280x720", "4")

    first_page = videos.list(limit=2)
    assert len(first_page.data) == 2 and first_page.has_next_page()
    listed = [v.id for v in videos.list(limit=2)]  # auto-paging
    assert listed[:3] == [remix.id, from_image.id, text.id]

    mp4 = videos.download_content(text.id).content
    check_mp4(mp4, 1280, 720, 4.0)
    first = check_mp4(videos.download_content(from_image.id, variant="video").content, 720, 1280, 4.0)
    expected = np.asarray(Image.open(io.BytesIO(image)).convert("RGB"), dtype=np.int16)
    assert np.abs(first - expected).mean() < 8, "the first frame is the input image"
    check_mp4(videos.download_content(remix.id).content, 1280, 720, 4.0)
    with Image.open(io.BytesIO(videos.download_content(text.id, variant="thumbnail").content)) as thumb:
        assert thumb.format == "WEBP"
    with Image.open(io.BytesIO(videos.download_content(text.id, variant="spritesheet").content)) as sheet:
        assert sheet.format == "JPEG"

    for video in (remix, from_image, text):
        deleted = videos.delete(video.id)
        assert (deleted.id, deleted.object, deleted.deleted) == (video.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        videos.retrieve(text.id)

    # Without retries a 429 or 5xx would already have failed a call above; and nothing was injected.
    stats = httpx.get(f"{base_url}/_emulator/stats", headers={"api-key": "emulator-key"}).json()
    assert stats["faults"] == {}


def test_sdk_maps_emulator_errors_to_its_exceptions(surface: tuple[openai.OpenAI, str]) -> None:
    client, model = surface
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(openai.BadRequestError) as bad:
            client.videos.create(prompt="x", model=model, size="1024x1792")
    assert bad.value.param == "size"  # type: ignore[attr-defined]
    wrong_key = client.with_options(api_key="not-the-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong_key.videos.retrieve("video_123")
