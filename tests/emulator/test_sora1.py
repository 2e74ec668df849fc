"""The emulator's Azure Sora 1 jobs API (`/openai/v1/video/generations/...`, spec §4, issue 3 item 1).

In process over `httpx.ASGITransport` with a manual clock (jobs move only when the test says so), plus
one plain-httpx flow against a real uvicorn server. Renders are kept tiny (480x480, 1 s).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import av
import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from PIL import Image

from sorastudio.emulator.app import create_app
from sorastudio.emulator.clock import ManualClock
from sorastudio.emulator.config import Deployment, EmulatorConfig, Faults
from sorastudio.emulator.server import running_server
from sorastudio.emulator.state import EmulatorState
from tests.schemas import assert_error_body, assert_valid

KEY = "emulator-key"
BASE = "/openai/v1"
JOBS = f"{BASE}/video/generations/jobs"
GENS = f"{BASE}/video/generations"
FPS = 24
LIFECYCLE = ["queued", "preprocessing", "running", "processing", "succeeded"]
TINY: dict[str, Any] = {"prompt": "A red kite over a park", "width": 480, "height": 480, "n_seconds": 1}
# Prompts with a moderation trigger word are never rendered: cheap creates for validation tests.
UNRENDERED = "gore in the rain"

JOB_SCHEMA = "azure/VideoGenerationJob.json"
LIST_SCHEMA = "azure/VideoGenerationJobList.json"
GENERATION_SCHEMA = "azure/VideoGeneration.json"


class Emulator:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient, clock: ManualClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock

    @property
    def state(self) -> EmulatorState:
        state: EmulatorState = self.app.state.emulator
        return state

    async def create(self, **fields: Any) -> httpx.Response:
        return await self.client.post(JOBS, json={"model": "sora", **TINY, **fields})

    async def job(self, job_id: str) -> dict[str, Any]:
        response = await self.client.get(f"{JOBS}/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert_valid(body, JOB_SCHEMA)
        return body

    async def run_to_end(self, job_id: str, step: float = 2.0) -> tuple[list[str], dict[str, Any]]:
        """Advance the clock in `step`s until the job is terminal; the statuses seen, in order."""
        seen: list[str] = []
        for _ in range(400):  # the longest planned job is 330 emulated seconds
            body = await self.job(job_id)
            if not seen or seen[-1] != body["status"]:
                seen.append(body["status"])
            if body["status"] in ("succeeded", "failed", "cancelled"):
                return seen, body
            self.clock.advance(step)
        raise AssertionError(f"job {job_id} never finished: {seen}")


@asynccontextmanager
async def emulator(**overrides: Any) -> AsyncIterator[Emulator]:
    clock = ManualClock()
    app = create_app(EmulatorConfig(**overrides), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://emulator", headers={"api-key": KEY}
        ) as client,
    ):
        yield Emulator(app, client, clock)


def assert_error(response: httpx.Response, status: int, type_: str, *fragments: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert_error_body(body, "sora1")
    assert body["error"]["type"] == type_
    for fragment in fragments:
        assert fragment in body["error"]["message"], (fragment, body)
    return body


def check_mp4(data: bytes, width: int, height: int, seconds: float) -> None:
    """H.264 at exactly width x height, duration within one frame, and (Sora 1) no audio stream."""
    with av.open(io.BytesIO(data)) as container:
        assert not container.streams.audio
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (width, height)
        assert stream.duration is not None and stream.time_base is not None
        assert abs(float(stream.duration * stream.time_base) - seconds) <= 1 / FPS + 1e-6
        frames = sum(1 for _ in container.decode(stream))
        assert abs(frames - seconds * FPS) <= 1


def frames(data: bytes) -> list[np.ndarray[Any, np.dtype[np.float64]]]:
    """Every decoded frame as float RGB pixels, shape (pixels, 3)."""
    with av.open(io.BytesIO(data)) as container:
        return [
            np.asarray(f.to_image().convert("RGB"), dtype=float).reshape(-1, 3)
            for f in container.decode(video=0)
        ]


def first_frame(data: bytes) -> np.ndarray[Any, np.dtype[np.float64]]:
    return frames(data)[0]


def png(width: int, height: int, left: tuple[int, int, int], right: tuple[int, int, int]) -> bytes:
    """An image whose left half is `left` and right half `right`."""
    image = Image.new("RGB", (width, height), left)
    image.paste(Image.new("RGB", (width - width // 2, height), right), (width // 2, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


RED, BLUE = (220, 20, 20), (20, 20, 220)


def inpaint(file_name: str = "start.png", **item: Any) -> str:
    return json.dumps([{"frame_index": 0, "type": "image", "file_name": file_name, **item}])


def form(**fields: Any) -> dict[str, str]:
    return {k: str(v) for k, v in {"model": "sora", **TINY, **fields}.items()}


# -- the whole flow ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_json_create_polls_every_status_and_downloads_every_variant() -> None:
    async with emulator() as emu:
        # Numeric strings, as the field guide sends them.
        response = await emu.create(width="480", height="480", n_seconds="1", n_variants="2")
        assert response.status_code == 200, response.text
        assert response.headers["apim-request-id"]
        created = response.json()
        assert_valid(created, JOB_SCHEMA)
        # Exactly the field set (and nulls) of the service's create response (spec §4.3).
        assert created == {
            "object": "video.generation.job",
            "id": created["id"],
            "status": "queued",
            "created_at": int(emu.clock.now()),
            "finished_at": None,
            "expires_at": None,
            "generations": [],
            "prompt": TINY["prompt"],
            "model": "sora",
            "n_variants": 2,
            "n_seconds": 1,
            "height": 480,
            "width": 480,
            "failure_reason": None,
        }
        assert created["id"].startswith("task_") and len(created["id"]) == 31

        seen, done = await emu.run_to_end(created["id"])
        assert seen == LIFECYCLE
        assert done["finished_at"] is not None and done["finished_at"] >= done["created_at"]
        assert done["expires_at"] == done["created_at"] + 86400
        assert len(done["generations"]) == 2

        videos: list[bytes] = []
        for gen in done["generations"]:
            assert gen["id"].startswith("gen_")
            assert (gen["job_id"], gen["width"], gen["height"], gen["n_seconds"]) == (
                created["id"],
                480,
                480,
                1,
            )
            meta = await emu.client.get(f"{GENS}/{gen['id']}")
            assert meta.status_code == 200
            assert_valid(meta.json(), GENERATION_SCHEMA)
            assert meta.json() == gen

            video = await emu.client.get(f"{GENS}/{gen['id']}/content/video")
            assert video.status_code == 200
            assert video.headers["content-type"] == "video/mp4"
            assert int(video.headers["content-length"]) == len(video.content)
            assert video.headers["accept-ranges"] == "bytes"
            assert video.headers["last-modified"]
            check_mp4(video.content, 480, 480, 1)
            videos.append(video.content)

            part = await emu.client.get(f"{GENS}/{gen['id']}/content/video", headers={"Range": "bytes=0-99"})
            assert (part.status_code, part.content) == (206, video.content[:100])

            head = await emu.client.head(f"{GENS}/{gen['id']}/content/video")
            assert head.status_code == 200 and head.content == b""
            assert head.headers["content-length"] == video.headers["content-length"]
            assert head.headers["accept-ranges"] == "bytes" and head.headers["last-modified"]

            thumb = await emu.client.get(f"{GENS}/{gen['id']}/content/thumbnail")
            assert thumb.status_code == 200
            assert thumb.headers["content-type"] == "image/jpeg"
            assert int(thumb.headers["content-length"]) == len(thumb.content)
            with Image.open(io.BytesIO(thumb.content)) as image:
                assert (image.format, image.size) == ("JPEG", (480, 480))
        # Variants of one job are different clips.
        assert videos[0] != videos[1]


@pytest.mark.anyio
async def test_low_quality_is_a_smaller_clip_of_the_same_shape_and_bad_quality_is_refused() -> None:
    async with emulator() as emu:
        job = (await emu.create()).json()
        _, done = await emu.run_to_end(job["id"], step=10)
        url = f"{GENS}/{done['generations'][0]['id']}/content/video"
        high = await emu.client.get(url, params={"quality": "high"})
        low = await emu.client.get(url, params={"quality": "low"})
        assert low.status_code == 200 and low.headers["content-type"] == "video/mp4"
        check_mp4(low.content, 480, 480, 1)
        assert len(low.content) < len(high.content)
        head = await emu.client.head(url, params={"quality": "low"})
        assert head.headers["content-length"] == str(len(low.content))
        bad = await emu.client.get(url, params={"quality": "medium"})
        body = assert_error(bad, 400, "invalid_request_error", "'quality'", "'medium'", "'high', 'low'")
        assert body["error"]["param"] == "quality"


@pytest.mark.anyio
async def test_multipart_image_is_cropped_into_the_requested_frame() -> None:
    async with emulator() as emu:
        # Left half red, right half blue; the crop keeps only the blue half.
        items = inpaint(crop_bounds={"left_fraction": 0.5})
        response = await emu.client.post(
            JOBS,
            data=form(inpaint_items=items),
            files=[("files", ("start.png", png(120, 80, RED, BLUE), "image/png"))],
        )
        assert response.status_code == 200, response.text
        job = response.json()
        assert_valid(job, JOB_SCHEMA)
        assert job["inpaint_items"] == [
            {
                "frame_index": 0,
                "type": "image",
                "file_name": "start.png",
                "crop_bounds": {
                    "left_fraction": 0.5,
                    "top_fraction": 0.0,
                    "right_fraction": 1.0,
                    "bottom_fraction": 1.0,
                },
            }
        ]
        _, done = await emu.run_to_end(job["id"], step=10)
        assert done["status"] == "succeeded"
        video = await emu.client.get(f"{GENS}/{done['generations'][0]['id']}/content/video")
        check_mp4(video.content, 480, 480, 1)
        red, _, blue = first_frame(video.content).mean(axis=0)
        # Uncropped, the centre of the image would be half red; cropped, the frame is all blue.
        assert blue > 150 and red < 60, (red, blue)

        # frame_index places the image later in the clip: that frame is the one closest to it.
        later = await emu.client.post(
            JOBS,
            data=form(inpaint_items=inpaint(frame_index=12)),
            files=[("files", ("start.png", png(64, 64, BLUE, BLUE), "image/png"))],
        )
        assert later.status_code == 200, later.text
        _, done = await emu.run_to_end(later.json()["id"], step=10)
        video = await emu.client.get(f"{GENS}/{done['generations'][0]['id']}/content/video")
        distance = [float(np.abs(frame - BLUE).max(axis=1).mean()) for frame in frames(video.content)]
        assert int(np.argmin(distance)) == 12, distance


# -- list ---------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_list_pages_newest_first_with_cursors_and_status_filter() -> None:
    async with emulator() as emu:

        async def make(prompt: str) -> str:
            response = await emu.create(prompt=prompt)
            assert response.status_code == 200, response.text
            return str(response.json()["id"])

        a = await make("first clip")
        emu.clock.advance(400)  # a succeeded
        b = await make(UNRENDERED)
        emu.clock.advance(400)  # b failed
        c = await make("third clip")
        emu.clock.advance(1)
        d = await make("fourth clip")  # c and d queued

        async def page(**params: Any) -> dict[str, Any]:
            response = await emu.client.get(JOBS, params=params)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            assert_valid(body, LIST_SCHEMA)
            return body

        def ids(body: dict[str, Any]) -> list[str]:
            return [job["id"] for job in body["data"]]

        everything = await page()
        assert ids(everything) == [d, c, b, a] and everything["has_more"] is False
        assert (everything["first_id"], everything["last_id"]) == (d, a)
        assert [job["status"] for job in everything["data"]] == ["queued", "queued", "failed", "succeeded"]

        first = await page(limit=2)
        assert (ids(first), first["has_more"], first["first_id"], first["last_id"]) == ([d, c], True, d, c)
        second = await page(limit=2, after=first["last_id"])
        assert (ids(second), second["has_more"]) == ([b, a], False)
        assert ids(await page(limit=1, before=b)) == [c]
        back = await page(before=b)
        assert (ids(back), back["has_more"]) == ([d, c], False)
        assert (await page(limit=1, before=b))["has_more"] is True
        assert ids(await page(after=d, before=a)) == [c, b]

        assert ids(await page(statuses="succeeded,failed")) == [b, a]
        assert ids(await page(statuses="queued", limit=1)) == [d]
        assert ids(await page(statuses="failed", after=c)) == [b]
        empty = await page(statuses="running")
        assert (empty["data"], empty["first_id"], empty["last_id"]) == ([], None, None)

        bad_status = await emu.client.get(JOBS, params={"statuses": "queued,done"})
        assert_error(bad_status, 400, "invalid_request_error", "'statuses'", "'done'", "succeeded")
        for limit in ("0", "101", "ten"):
            bad_limit = await emu.client.get(JOBS, params={"limit": limit})
            assert_error(bad_limit, 400, "invalid_request_error", f"'{limit}'", "from 1 to 100")
        bad_cursor = await emu.client.get(JOBS, params={"after": "task_nope"})
        assert_error(bad_cursor, 400, "invalid_request_error", "'after'", "task_nope")


# -- delete, expiry, not found ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_delete_answers_204_then_the_job_and_its_content_are_gone() -> None:
    async with emulator() as emu:
        job = (await emu.create()).json()
        _, done = await emu.run_to_end(job["id"], step=10)
        gen_id = done["generations"][0]["id"]
        # Reading content waits for the render; files of a render still running go when it ends.
        assert (await emu.client.get(f"{GENS}/{gen_id}/content/thumbnail")).status_code == 200
        media_dir = emu.state.media.root / job["id"]  # type: ignore[attr-defined]
        assert media_dir.is_dir()
        deleted = await emu.client.delete(f"{JOBS}/{job['id']}")
        assert deleted.status_code == 204 and deleted.content == b""
        assert not media_dir.exists()
        assert_error(
            await emu.client.get(f"{JOBS}/{job['id']}"), 404, "video_generation_user_error", "deleted"
        )
        content = await emu.client.get(f"{GENS}/{gen_id}/content/video")
        assert_error(content, 404, "video_generation_user_error", gen_id, "deleted")
        again = await emu.client.delete(f"{JOBS}/{job['id']}")
        assert_error(again, 404, "video_generation_user_error", job["id"])
        assert (await emu.client.get(JOBS)).json()["data"] == []


@pytest.mark.anyio
async def test_third_concurrent_job_gets_429_until_a_running_job_is_deleted() -> None:
    async with emulator() as emu:
        first = (await emu.create(prompt=UNRENDERED)).json()
        assert (await emu.create(prompt=UNRENDERED)).status_code == 200
        third = await emu.create(prompt=UNRENDERED)
        assert third.status_code == 429
        assert third.json() == {
            "error": {
                "message": "Too many running tasks",
                "type": "video_generation_user_error",
                "param": None,
                "code": None,
            }
        }
        assert_error_body(third.json(), "sora1")
        assert int(third.headers["retry-after"]) >= 1
        # Deleting a running job cancels it and frees its slot.
        assert (await emu.client.delete(f"{JOBS}/{first['id']}")).status_code == 204
        assert (await emu.create(prompt=UNRENDERED)).status_code == 200
        assert (await emu.create(prompt=UNRENDERED)).status_code == 429


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("prompt", "reason"), [(UNRENDERED, "input_moderation"), ("an output-blocked scene", "output_moderation")]
)
async def test_moderation_fails_the_job_with_its_failure_reason(prompt: str, reason: str) -> None:
    async with emulator() as emu:
        job = (await emu.create(prompt=prompt)).json()
        seen, done = await emu.run_to_end(job["id"])
        assert seen[0] == "queued" and seen[-1] == "failed" and "succeeded" not in seen
        assert done["failure_reason"] == reason
        assert done["finished_at"] is not None
        assert (done["expires_at"], done["generations"]) == (None, [])


@pytest.mark.anyio
async def test_expired_job_is_deleted_and_its_content_answers_404() -> None:
    async with emulator() as emu:
        job = (await emu.create()).json()
        _, done = await emu.run_to_end(job["id"], step=10)
        gen_id = done["generations"][0]["id"]
        emu.clock.advance(done["expires_at"] - emu.clock.now() - 1)
        assert (await emu.client.get(f"{GENS}/{gen_id}/content/thumbnail")).status_code == 200
        emu.clock.advance(1)
        assert_error(
            await emu.client.get(f"{JOBS}/{job['id']}"), 404, "video_generation_user_error", "expired"
        )
        assert not (emu.state.media.root / job["id"]).exists()  # type: ignore[attr-defined]
        for url in (
            f"{GENS}/{gen_id}",
            f"{GENS}/{gen_id}/content/video",
            f"{GENS}/{gen_id}/content/thumbnail",
        ):
            assert_error(await emu.client.get(url), 404, "video_generation_user_error", gen_id, "expired")
        assert (await emu.client.get(JOBS)).json()["data"] == []


@pytest.mark.anyio
async def test_generation_before_success_is_not_ready() -> None:
    async with emulator() as emu:
        job = (await emu.create()).json()
        # The API lists generations only once the job succeeded; a client that kept an id early
        # (or guesses one) is told the job is not ready yet.
        stored = emu.state.store.get(job["id"], "sora1")
        assert stored is not None
        gen_id = stored.generations[0].id
        emu.clock.advance(20)
        for url in (
            f"{GENS}/{gen_id}",
            f"{GENS}/{gen_id}/content/video",
            f"{GENS}/{gen_id}/content/thumbnail",
        ):
            body = assert_error(
                await emu.client.get(url),
                400,
                "video_generation_user_error",
                gen_id,
                "'running'",
                "'succeeded'",
            )
            assert body["error"]["code"] == "video_not_ready"
        _, done = await emu.run_to_end(job["id"], step=10)
        assert [g["id"] for g in done["generations"]] == [gen_id]
        assert (await emu.client.get(f"{GENS}/{gen_id}/content/thumbnail")).status_code == 200


@pytest.mark.anyio
async def test_unknown_ids_answer_404_naming_the_id() -> None:
    async with emulator() as emu:
        assert_error(
            await emu.client.get(f"{JOBS}/task_nope"), 404, "video_generation_user_error", "task_nope"
        )
        assert_error(await emu.client.get(f"{GENS}/gen_nope"), 404, "video_generation_user_error", "gen_nope")
        content = await emu.client.get(f"{GENS}/gen_nope/content/video")
        assert_error(content, 404, "video_generation_user_error", "gen_nope")


# -- validation ---------------------------------------------------------------------------------------

BAD_JSON: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"width": 500, "height": 480}, "width", ["width=500", "height=480", "480x854", "1920x1080"]),
    ({"width": 480, "height": 1280}, "height", ["480x1280", "Supported sizes"]),
    ({"width": 1920, "height": 1920}, "height", ["1920x1920"]),
    ({"n_seconds": 0}, "n_seconds", ["'n_seconds': 0", "from 1 to 20"]),
    ({"n_seconds": 21}, "n_seconds", ["'n_seconds': 21", "from 1 to 20"]),
    ({"n_seconds": "five"}, "n_seconds", ["'n_seconds'", '"five"', "integer"]),
    ({"n_seconds": 2.5}, "n_seconds", ["'n_seconds'", "2.5", "integer"]),
    ({"n_variants": 0}, "n_variants", ["'n_variants': 0", "from 1 to 4"]),
    ({"n_variants": 5}, "n_variants", ["'n_variants': 5", "480x480", "from 1 to 4"]),
    ({"width": 854, "height": 480, "n_variants": 5}, "n_variants", ["854x480", "from 1 to 4"]),
    ({"width": 1280, "height": 720, "n_variants": 3}, "n_variants", ["1280x720", "from 1 to 2"]),
    ({"width": 720, "height": 1280, "n_variants": 3}, "n_variants", ["720x1280", "from 1 to 2"]),
    ({"width": 1080, "height": 1080, "n_variants": 2}, "n_variants", ["1080x1080", "from 1 to 1"]),
    ({"width": 1920, "height": 1080, "n_variants": 2}, "n_variants", ["1920x1080", "from 1 to 1"]),
    ({"width": 1080, "height": 1920, "n_variants": 2}, "n_variants", ["1080x1920", "from 1 to 1"]),
    ({"prompt": None}, "prompt", ["Missing required parameter: 'prompt'"]),
    ({"prompt": "  "}, "prompt", ["'prompt'", "empty"]),
    ({"width": None}, "width", ["Missing required parameter: 'width'"]),
    ({"height": None}, "height", ["Missing required parameter: 'height'"]),
    ({"model": None}, "model", ["Missing required parameter: 'model'"]),
]


@pytest.mark.anyio
async def test_every_size_seconds_and_variants_rule_is_a_400_naming_field_value_and_allowed() -> None:
    async with emulator() as emu:
        for fields, param, fragments in BAD_JSON:
            body = {k: v for k, v in {"model": "sora", **TINY, **fields}.items() if v is not None}
            response = await emu.client.post(JOBS, json=body)
            error = assert_error(response, 400, "invalid_request_error", *fragments)
            assert error["error"]["param"] == param, (fields, error)


@pytest.mark.anyio
async def test_each_of_the_nine_sizes_takes_exactly_its_variant_limit() -> None:
    # The field guide's matrix: 1080p 1 variant, 720p (1280x720 both ways) 2, the others 4.
    limits = {
        (480, 480): 4, (480, 854): 4, (854, 480): 4, (720, 720): 4, (720, 1280): 2, (1280, 720): 2,
        (1080, 1080): 1, (1080, 1920): 1, (1920, 1080): 1,
    }  # fmt: skip
    async with emulator(deployments=[Deployment(name="sora", model="sora", running_cap=0)]) as emu:
        for (width, height), variants in limits.items():
            accepted = await emu.create(prompt=UNRENDERED, width=width, height=height, n_variants=variants)
            assert accepted.status_code == 200, (width, height, accepted.text)
            assert (accepted.json()["width"], accepted.json()["height"]) == (width, height)
            assert accepted.json()["n_variants"] == variants
            refused = await emu.create(prompt=UNRENDERED, width=width, height=height, n_variants=variants + 1)
            assert_error(refused, 400, "invalid_request_error", f"{width}x{height}", f"from 1 to {variants}")
        for seconds in (1, 20):
            assert (await emu.create(prompt=UNRENDERED, n_seconds=seconds)).json()["n_seconds"] == seconds
        minimal = {"model": "sora", "prompt": UNRENDERED, "width": 480, "height": 480}
        defaults = (await emu.client.post(JOBS, json=minimal)).json()
        assert (defaults["n_seconds"], defaults["n_variants"]) == (5, 1)


@pytest.mark.anyio
async def test_bad_inpaint_items_and_files_are_400s() -> None:
    image = png(64, 64, RED, BLUE)
    cases: list[tuple[dict[str, str], list[tuple[str, tuple[str, bytes, str]]], list[str]]] = [
        (
            {"inpaint_items": inpaint("other.png")},
            [("files", ("start.png", image, "image/png"))],
            ["inpaint_items[0]", '"other.png"', 'attached: "start.png"'],
        ),
        (
            {"inpaint_items": inpaint()},
            [("files", ("start.png", b"not an image", "image/png"))],
            ['"start.png"', "not a JPEG, PNG or WebP image"],
        ),
        (
            {"inpaint_items": inpaint(type="video")},
            [("files", ("start.png", image, "image/png"))],
            ["type", '"video"', "'image'"],
        ),
        (
            {"inpaint_items": inpaint(crop_bounds={"left_fraction": 0.6, "right_fraction": 0.4})},
            [("files", ("start.png", image, "image/png"))],
            ["left_fraction 0.6", "right_fraction 0.4"],
        ),
        (
            {"inpaint_items": inpaint(crop_bounds={"top_fraction": 1.5})},
            [("files", ("start.png", image, "image/png"))],
            ["crop_bounds.top_fraction", "1.5", "0.0 to 1.0"],
        ),
        (
            {"inpaint_items": inpaint(frame_index=24)},
            [("files", ("start.png", image, "image/png"))],
            ["frame_index 24", "from 0 to 23"],
        ),
        (
            {"inpaint_items": "[{not json"},
            [("files", ("start.png", image, "image/png"))],
            ["'inpaint_items'", "not valid JSON"],
        ),
        ({}, [("files", ("start.png", image, "image/png"))], ["no 'inpaint_items'"]),
        (
            {"inpaint_items": inpaint()},
            [("image", ("start.png", image, "image/png"))],
            ["'image'", "'files'"],
        ),
    ]
    async with emulator() as emu:
        for fields, files, fragments in cases:
            response = await emu.client.post(JOBS, data=form(**fields), files=files)
            assert_error(response, 400, "invalid_request_error", *fragments)
        json_items = await emu.create(
            inpaint_items=[{"frame_index": 0, "type": "image", "file_name": "a.png"}]
        )
        assert_error(json_items, 400, "invalid_request_error", '"a.png"', "attached: none")


# -- auth, api-version, deployments -------------------------------------------------------------------


@pytest.mark.anyio
async def test_auth_api_version_and_deployment_errors() -> None:
    async with emulator() as emu:
        wrong_key = await emu.client.get(JOBS, headers={"api-key": "nope"})
        assert wrong_key.status_code == 401
        assert_error_body(wrong_key.json(), "sora1")
        assert wrong_key.json()["error"]["code"] == "401"
        assert wrong_key.json()["error"]["message"].startswith(
            "Access denied due to invalid subscription key"
        )
        no_key = await emu.client.get(JOBS, headers={"api-key": ""})
        assert no_key.status_code == 401
        bearer = await emu.client.get(JOBS, headers={"api-key": "", "Authorization": f"Bearer {KEY}"})
        assert bearer.status_code == 200

        for version in (None, "v1", "preview"):
            params = {} if version is None else {"api-version": version}
            assert (await emu.client.get(JOBS, params=params)).status_code == 200
        old = await emu.client.get(JOBS, params={"api-version": "2024-01-01"})
        assert old.status_code == 400 and "2024-01-01" in old.json()["error"]["message"]
        assert_error_body(old.json(), "sora1")

        unknown = await emu.create(model="sora-9")
        assert unknown.status_code == 404
        assert unknown.json() == {
            "error": {
                "message": "The API deployment 'sora-9' for this resource does not exist. If you created the "
                "deployment within the last 5 minutes, please wait a moment and try again.",
                "type": "video_generation_user_error",
                "param": None,
                "code": None,
            }
        }
        sora2 = await emu.create(model="sora-2")
        body = assert_error(sora2, 400, "video_generation_user_error", "'sora-2'", "/openai/v1/videos")
        assert body["error"]["param"] == "model"


@pytest.mark.anyio
async def test_not_found_right_after_create_fault_hides_only_the_status_read() -> None:
    async with emulator(faults=Faults(not_found_after_create_seconds=5)) as emu:
        job = (await emu.create(prompt=UNRENDERED)).json()
        assert_error(
            await emu.client.get(f"{JOBS}/{job['id']}"), 404, "video_generation_user_error", job["id"]
        )
        assert [j["id"] for j in (await emu.client.get(JOBS)).json()["data"]] == [job["id"]]
        emu.clock.advance(5)
        assert (await emu.job(job["id"]))["status"] == "queued"


# -- a real server, plain httpx -----------------------------------------------------------------------


def test_the_sora1_flow_over_plain_httpx() -> None:
    """Create (JSON; multipart with an image), poll to succeeded, download every variant's media."""
    config = EmulatorConfig(time_scale=0.005)
    with (
        running_server(config) as base_url,
        httpx.Client(base_url=base_url, headers={"api-key": KEY}) as http,
    ):
        text = http.post(
            f"{JOBS}?api-version=preview",
            json={
                "model": "sora",
                "prompt": "Ocean waves",
                "width": 480,
                "height": 480,
                "n_seconds": 1,
                "n_variants": 2,
            },
        )
        assert text.status_code == 200, text.text
        image = http.post(
            f"{JOBS}?api-version=preview",
            data=form(prompt="The kite takes off", inpaint_items=inpaint()),
            files=[("files", ("start.png", png(480, 480, BLUE, BLUE), "image/png"))],
        )
        assert image.status_code == 200, image.text
        for created, variants in ((text.json(), 2), (image.json(), 1)):
            deadline = time.monotonic() + 20
            job = created
            while job["status"] not in ("succeeded", "failed", "cancelled"):
                assert time.monotonic() < deadline, job
                time.sleep(0.05)
                job = http.get(f"{JOBS}/{created['id']}", params={"api-version": "preview"}).json()
            assert job["status"] == "succeeded"
            assert_valid(job, JOB_SCHEMA)
            assert len(job["generations"]) == variants
            for gen in job["generations"]:
                video = http.get(f"{GENS}/{gen['id']}/content/video", params={"api-version": "preview"})
                assert video.status_code == 200
                check_mp4(video.content, 480, 480, 1)
                thumb = http.get(f"{GENS}/{gen['id']}/content/thumbnail", params={"api-version": "preview"})
                assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
            if variants == 1:
                red, _, blue = first_frame(video.content).mean(axis=0)
                assert blue > 150 and red < 60
