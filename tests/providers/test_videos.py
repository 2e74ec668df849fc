"""VideosAPI against the emulator: Azure Sora 2 (`/openai/v1/videos`), OpenAI (`/v1/videos`) and a
compatible server (the emulator's `/v1` on a local URL), in text, image and remix modes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from sorastudio.domain import Mode, Status, VideoRequest
from sorastudio.errors import NotFound, ValidationError
from sorastudio.images import fit_image
from sorastudio.providers.base import Asset, Capabilities, RemoteJob
from sorastudio.providers.polling import wait
from sorastudio.providers.videos_api import VideosAPI
from tests.providers.conftest import Emulator, form_of, probe

SURFACE = {"azure": "azure_videos", "openai": "openai_videos", "compatible": "openai_videos"}


def provider(emulator: Emulator, kind: str, **kwargs: Any) -> VideosAPI:
    if kind == "azure":
        return emulator.azure_videos(**kwargs)
    if kind == "openai":
        return emulator.openai(**kwargs)
    return emulator.openai("http://127.0.0.1:8000/v1", **kwargs)


def picture(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (30, 90, 200))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


async def finish(emulator: Emulator, api: VideosAPI, job: RemoteJob) -> RemoteJob:
    done = await wait(api, job.id, sleep=emulator.sleep, clock=emulator.clock.now)
    assert done.status is Status.COMPLETED, done
    return done


def check_video(asset: Asset, width: int, height: int, seconds: int) -> None:
    info = probe(asset.path)
    assert (info.codec, info.width, info.height, info.audio) == ("h264", width, height, True)
    assert info.seconds == pytest.approx(seconds, abs=1 / 24)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["azure", "openai", "compatible"])
async def test_text_to_video(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    model = "sora-2" if kind == "azure" else "openai/sora-2"
    request = VideoRequest(prompt="A train through mountains", model=model, size="1280x720", seconds=4)
    async with provider(emulator, kind) as api:
        created = await api.submit(request)
        assert (created.status, created.raw_status, created.progress) == (Status.QUEUED, "queued", 0)
        assert (created.size, created.seconds, created.model) == ("1280x720", 4, "sora-2")
        done = await finish(emulator, api, created)
        assets = await api.download(done, tmp_path)

    create = emulator.requests[0]
    assert create.method == "POST" and create.url.path.endswith("/videos")
    form = form_of(create)
    assert {name: part.value for name, part in form.items()} == {
        "prompt": b"A train through mountains",
        "model": b"sora-2",
        "size": b"1280x720",
        "seconds": b"4",  # a string on the wire, as the API demands
    }
    if kind == "azure":
        assert create.headers["api-key"] == "emulator-key" and "api-version" not in create.url.params
    else:
        assert create.headers["authorization"] == "Bearer emulator-key"
    assert create.url.path == ("/openai/v1/videos" if kind == "azure" else "/v1/videos")

    # The emulator's openai-poll-after-ms (5 s) is never undercut.
    assert emulator.sleeps and min(emulator.sleeps) >= 5.0
    assert done.progress == 100 and done.finished_at is not None and done.expires_at is not None
    assert [a.kind for a in assets] == ["video", "thumbnail", "spritesheet"]
    check_video(assets[0], 1280, 720, 4)
    assert assets[0].path.name == f"{done.id}.mp4"
    assert assets[1].path.suffix == ".webp" and assets[2].content_type.startswith("image/")
    variants = [r.url.params.get("variant") for r in emulator.requests if r.url.path.endswith("/content")]
    assert variants == ["video", "thumbnail", "spritesheet"]


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["azure", "openai"])
async def test_image_to_video_sends_input_reference(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    fitted = fit_image(picture(1000, 1000), 720, 1280)
    request = VideoRequest(
        prompt="Animate this", model="sora-2", size="720x1280", seconds=4, image=fitted.data
    )
    async with provider(emulator, kind) as api:
        created = await api.submit(request, image=fitted)
        done = await finish(emulator, api, created)
        assets = await api.download(done, tmp_path)

    reference = form_of(emulator.requests[0])["input_reference"]
    assert reference.value == fitted.data
    assert (reference.filename, reference.content_type) == (fitted.filename, fitted.mime_type)
    job = emulator.state.store.get(created.id, SURFACE[kind])
    assert job is not None and job.image == fitted.data
    check_video(assets[0], 720, 1280, 4)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["azure", "openai"])
async def test_remix_of_a_finished_video(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    source_request = VideoRequest(prompt="A cat on a roof", model="sora-2", size="720x1280", seconds=8)
    async with provider(emulator, kind) as api:
        source = await finish(emulator, api, await api.submit(source_request))
        emulator.requests.clear()
        remix_request = VideoRequest(
            prompt="Same, at night", model="sora-2", mode=Mode.REMIX, remix_of=source.id
        )
        created = await api.submit(remix_request)
        assert created.remixed_from == source.id and created.id != source.id
        done = await finish(emulator, api, created)
        assets = await api.download(done, tmp_path)

    remix = emulator.requests[0]
    assert remix.url.path.endswith(f"/videos/{source.id}/remix")
    assert json.loads(remix.content) == {"prompt": "Same, at night"}
    assert (done.size, done.seconds, done.remixed_from) == ("720x1280", 8, source.id)
    check_video(assets[0], 720, 1280, 8)


@pytest.mark.anyio
async def test_sora_2_pro_sizes_on_openai(emulator: Emulator, tmp_path: Path) -> None:
    request = VideoRequest(prompt="Waves", model="sora-2-pro", size="1024x1792", seconds=4)
    async with emulator.openai() as api:
        created = await api.submit(request)
        assert created.model == "sora-2-pro"
        done = await finish(emulator, api, created)
        assets = await api.download(done, tmp_path)
    check_video(assets[0], 1024, 1792, 4)


@pytest.mark.anyio
async def test_a_compatible_server_declares_what_it_offers(emulator: Emulator, tmp_path: Path) -> None:
    text_only = Capabilities(modes=frozenset({Mode.TEXT}), max_variants=1, assets=("video",))
    async with provider(emulator, "compatible", capabilities=text_only) as api:
        with pytest.raises(ValidationError, match="mode=remix is not offered"):
            await api.remix("video_x", "again")
        image_request = VideoRequest(
            prompt="x", model="sora-2", size="720x1280", seconds=4, image=picture(720, 1280)
        )
        with pytest.raises(ValidationError, match="mode=image is not offered"):
            await api.submit(image_request)
        assert emulator.requests == []  # refused before any request
        done = await finish(
            emulator,
            api,
            await api.submit(VideoRequest(prompt="x", model="sora-2", size="720x1280", seconds=4)),
        )
        assets = await api.download(done, tmp_path)
    assert [a.kind for a in assets] == ["video"]


@pytest.mark.anyio
async def test_variants_are_refused_on_the_videos_api(emulator: Emulator) -> None:
    async with emulator.openai() as api:
        with pytest.raises(ValidationError, match="1 video per job"):
            await api.submit(VideoRequest(prompt="x", model="sora-2", size="720x1280", seconds=4, variants=2))
    assert emulator.requests == []


@pytest.mark.anyio
async def test_failed_video_carries_the_service_error(emulator: Emulator) -> None:
    async with emulator.openai() as api:
        created = await api.submit(VideoRequest(prompt="gore", model="sora-2", size="720x1280", seconds=4))
        done = await wait(api, created.id, sleep=emulator.sleep, clock=emulator.clock.now)
    assert done.status is Status.FAILED
    assert done.failure_reason == "moderation_blocked"
    assert done.failure_message == "Your request was blocked by our moderation system."


@pytest.mark.anyio
async def test_list_since_and_delete(emulator: Emulator) -> None:
    async with emulator.openai() as api:
        first = await api.submit(VideoRequest(prompt="gore a", model="sora-2", size="720x1280", seconds=4))
        emulator.clock.advance(120)
        second = await api.submit(VideoRequest(prompt="gore b", model="sora-2", size="720x1280", seconds=4))
        assert [j.id for j in await api.list()] == [second.id, first.id]
        assert second.created_at is not None
        assert [j.id for j in await api.list(since=second.created_at)] == [second.id]
        await api.delete(first.id)
        with pytest.raises(NotFound):
            await api.status(first.id)
        assert [j.id for j in await api.list()] == [second.id]


@pytest.mark.anyio
async def test_expired_video_is_reported_expired(emulator: Emulator) -> None:
    async with emulator.openai() as api:
        done = await finish(
            emulator,
            api,
            await api.submit(VideoRequest(prompt="x", model="sora-2", size="720x1280", seconds=4)),
        )
        emulator.clock.advance(86_400)
        later = await api.status(done.id)
    assert (later.status, later.raw_status) == (Status.EXPIRED, "completed")
