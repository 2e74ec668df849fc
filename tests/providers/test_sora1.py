"""AzureSora1 against the emulator's Sora 1 jobs API (in process, manual clock)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from sorastudio.domain import Status, VideoRequest
from sorastudio.errors import AuthenticationError, NotFound, ValidationError
from sorastudio.images import fit_image
from sorastudio.providers.auth import ApiKeyHeader
from sorastudio.providers.azure_sora1 import AzureSora1
from sorastudio.providers.base import RemoteJob
from sorastudio.providers.polling import expected_duration, wait
from tests.providers.conftest import Emulator, probe

TEXT = VideoRequest(prompt="A red kite over a park", model="sora", size="480x480", seconds=1, variants=2)


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.anyio
async def test_text_to_video_with_two_variants(emulator: Emulator, tmp_path: Path) -> None:
    seen: list[RemoteJob] = []
    async with emulator.sora1() as sora:
        created = await sora.submit(TEXT)
        assert (created.status, created.raw_status) == (Status.QUEUED, "queued")
        assert (created.size, created.seconds, created.variants, created.model) == ("480x480", 1, 2, "sora")
        assert created.prompt == TEXT.prompt and created.created_at is not None

        done = await wait(
            sora,
            created.id,
            sleep=emulator.sleep,
            clock=emulator.clock.now,
            on_update=seen.append,
            expected_duration=expected_duration(480, 480, 1, 2),
        )
        assert done.status is Status.COMPLETED and done.raw_status == "succeeded"
        assert len(done.generation_ids) == 2 and done.finished_at is not None and done.expires_at is not None
        assets = await sora.download(done, tmp_path)

    assert seen[0].status is Status.QUEUED and seen[-1] == done
    # Fewer polls than the seed baseline (3 s + 1 s per attempt) would make over the same time.
    assert len(emulator.sleeps) < baseline_polls(sum(emulator.sleeps))
    job = emulator.state.store.get(created.id, "sora1")
    assert job is not None and (job.width, job.height, job.seconds, job.variants) == (480, 480, 1, 2)

    assert [(a.kind, a.variant) for a in assets] == [
        ("video", 0),
        ("thumbnail", 0),
        ("video", 1),
        ("thumbnail", 1),
    ]
    assert [a.source_id for a in assets[::2]] == list(done.generation_ids)
    videos = [a for a in assets if a.kind == "video"]
    for video in videos:
        assert video.path.suffix == ".mp4" and video.content_type == "video/mp4"
        info = probe(video.path)
        assert (info.codec, info.width, info.height, info.audio) == ("h264", 480, 480, False)
        assert info.seconds == pytest.approx(1.0, abs=1 / 24)
    assert videos[0].sha256 != videos[1].sha256  # two different variants, not one file twice
    thumbs = [a for a in assets if a.kind == "thumbnail"]
    assert all(t.path.suffix == ".jpg" and t.content_type.startswith("image/") for t in thumbs)
    assert names_in(tmp_path) == sorted(a.path.name for a in assets)


def baseline_polls(elapsed: float) -> int:
    polls, waited = 0, 0.0
    while waited < elapsed:
        waited += min(15.0, 3.0 + polls)
        polls += 1
    return polls


def names_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.anyio
async def test_every_sora1_phase_maps_to_the_one_vocabulary(emulator: Emulator) -> None:
    seen: list[tuple[str, Status, int | None]] = []
    async with emulator.sora1() as sora:
        created = await sora.submit(TEXT.model_copy(update={"variants": 1}))
        for _ in range(200):
            job = await sora.status(created.id)
            if not seen or seen[-1][0] != job.raw_status:
                seen.append((job.raw_status, job.status, job.progress))
            if job.status.terminal:
                break
            emulator.clock.advance(1.0)
    assert seen == [
        ("queued", Status.QUEUED, None),
        ("preprocessing", Status.PREPROCESSING, None),
        ("running", Status.RUNNING, None),
        ("processing", Status.RUNNING, None),
        ("succeeded", Status.COMPLETED, 100),
    ]


@pytest.mark.anyio
async def test_image_to_video_sends_the_image_as_files_with_an_inpaint_item(
    emulator: Emulator, tmp_path: Path
) -> None:
    fitted = fit_image(png(640, 360, (200, 30, 30)), 854, 480)
    request = VideoRequest(prompt="Animate this", model="sora", size="854x480", seconds=1, image=fitted.data)
    async with emulator.sora1() as sora:
        created = await sora.submit(request, image=fitted)
        job = emulator.state.store.get(created.id, "sora1")
        assert job is not None
        assert job.image == fitted.data and job.image_frame_index == 0
        assert job.inpaint_items is not None
        assert job.inpaint_items[0]["file_name"] == fitted.filename
        assert job.inpaint_items[0]["type"] == "image"
        done = await wait(sora, created.id, sleep=emulator.sleep, clock=emulator.clock.now)
        assets = await sora.download(done, tmp_path)
    info = probe(assets[0].path)
    assert (info.codec, info.width, info.height) == ("h264", 854, 480)


@pytest.mark.anyio
async def test_raw_image_bytes_are_sniffed_and_sent(emulator: Emulator) -> None:
    data = png(480, 480, (10, 200, 10))
    request = VideoRequest(prompt="Animate", model="sora", size="480x480", seconds=1, image=data)
    async with emulator.sora1() as sora:
        created = await sora.submit(request)
    job = emulator.state.store.get(created.id, "sora1")
    assert job is not None and job.image == data
    assert job.inpaint_items is not None
    assert json.loads(json.dumps(job.inpaint_items))[0]["file_name"] == "reference.png"


@pytest.mark.anyio
async def test_a_moderated_job_fails_with_its_reason(emulator: Emulator, tmp_path: Path) -> None:
    async with emulator.sora1() as sora:
        created = await sora.submit(TEXT.model_copy(update={"prompt": "gore in the rain", "variants": 1}))
        done = await wait(sora, created.id, sleep=emulator.sleep, clock=emulator.clock.now)
        assert done.status is Status.FAILED
        assert done.failure_reason == "input_moderation"
        assert done.failure_message is not None and "moderation" in done.failure_message
        with pytest.raises(ValidationError, match="only a finished job can be downloaded"):
            await sora.download(done, tmp_path)


@pytest.mark.anyio
async def test_list_since_and_delete(emulator: Emulator) -> None:
    async with emulator.sora1() as sora:
        old = await sora.submit(TEXT.model_copy(update={"prompt": "gore one", "variants": 1}))
        emulator.clock.advance(600)
        new = await sora.submit(TEXT.model_copy(update={"prompt": "gore two", "variants": 1}))
        everything = await sora.list()
        assert [j.id for j in everything] == [new.id, old.id]
        assert new.created_at is not None
        recent = await sora.list(since=new.created_at)
        assert [j.id for j in recent] == [new.id]
        assert [j.id for j in await sora.list(limit=1)] == [new.id]
        await sora.delete(old.id)
        with pytest.raises(NotFound):
            await sora.status(old.id)


@pytest.mark.anyio
async def test_list_pages_through_more_than_one_page(emulator: Emulator) -> None:
    emulator.state.config.deployments[0].running_cap = 0
    async with emulator.sora1() as sora:
        ids = []
        for n in range(12):
            ids.append((await sora.submit(TEXT.model_copy(update={"prompt": f"gore {n}", "variants": 1}))).id)
            emulator.clock.advance(1)
        import sorastudio.providers.azure_sora1 as module

        page, module._PAGE = module._PAGE, 5
        try:
            listed = await sora.list(limit=11)
        finally:
            module._PAGE = page
    assert [j.id for j in listed] == ids[::-1][:11]


@pytest.mark.anyio
async def test_remix_is_refused_before_any_request(emulator: Emulator) -> None:
    async with emulator.sora1() as sora:
        with pytest.raises(ValidationError, match="remix is not offered"):
            await sora.remix("task_x", "again")
        with pytest.raises(ValidationError, match="remix is not offered"):
            await sora.submit(VideoRequest(prompt="again", model="sora", mode="remix", remix_of="task_x"))
    assert emulator.state.store.create_count == 0


@pytest.mark.anyio
async def test_wrong_key_and_unknown_deployment(emulator: Emulator) -> None:
    async with AzureSora1(
        emulator.sora1().api.endpoint,
        auth=ApiKeyHeader("not-the-key-4321"),
        deployment="sora",
        transport=emulator.transport(),
    ) as sora:
        with pytest.raises(AuthenticationError, match="401") as caught:
            await sora.submit(TEXT)
        assert "4321" not in str(caught.value)
    async with emulator.sora1() as sora:
        with pytest.raises(NotFound, match="deployment 'nope'"):
            await sora.submit(TEXT, model="nope")
