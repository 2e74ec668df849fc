"""The `/videos` surfaces in-process (OpenAI `/v1`, Azure Sora 2 `/openai/v1`) with a manual clock.

Renders are replaced by a stub writing tiny files unless a test asks for `real_media`: the lifecycle,
limits and error bodies do not depend on the media, and real renders would cost seconds each.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from PIL import Image

from sorastudio.emulator import render
from sorastudio.emulator.app import create_app
from sorastudio.emulator.clock import ManualClock
from sorastudio.emulator.config import Deployment, EmulatorConfig
from sorastudio.emulator.state import EmulatorState
from tests.schemas import assert_error_body, assert_valid

KEY = "emulator-key"
OPENAI = "/v1"
AZURE = "/openai/v1"
VIDEO_FIELDS = {
    "id",
    "object",
    "model",
    "status",
    "progress",
    "created_at",
    "completed_at",
    "expires_at",
    "prompt",
    "size",
    "seconds",
    "remixed_from_video_id",
    "error",
}
VIDEO = "openai/VideoResource.json"
# Past the longest planned job (`Timing.maximum`: 300 emulated seconds), with a margin.
LONGEST = 500.0


class Emulator:
    def __init__(self, app: Any, client: httpx.AsyncClient, clock: ManualClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock

    @property
    def state(self) -> EmulatorState:
        state: EmulatorState = self.app.state.emulator
        return state

    async def create(self, base: str = OPENAI, **fields: Any) -> httpx.Response:
        body: dict[str, Any] = {"prompt": "A paper boat on a rainy street", **fields}
        if base == AZURE:
            body.setdefault("model", "sora-2")
        return await self.client.post(f"{base}/videos", json=body, headers=auth(base))

    async def created(self, base: str = OPENAI, **fields: Any) -> dict[str, Any]:
        response = await self.create(base, **fields)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert_valid(body, VIDEO)
        return body

    async def get(self, video_id: str, base: str = OPENAI) -> httpx.Response:
        return await self.client.get(f"{base}/videos/{video_id}", headers=auth(base))

    async def video(self, video_id: str, base: str = OPENAI) -> dict[str, Any]:
        response = await self.get(video_id, base)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert_valid(body, VIDEO)
        assert set(body) == VIDEO_FIELDS
        return body

    async def finish(self, video_id: str, base: str = OPENAI) -> dict[str, Any]:
        """Advance the clock past the longest possible job; the terminal Video."""
        self.clock.advance(LONGEST)
        body = await self.video(video_id, base)
        assert body["status"] in ("completed", "failed"), body
        return body


def auth(base: str) -> dict[str, str]:
    return {"api-key": KEY} if base == AZURE else {"authorization": f"Bearer {KEY}"}


@asynccontextmanager
async def emulator(**overrides: Any) -> AsyncIterator[Emulator]:
    clock = ManualClock()
    app = create_app(EmulatorConfig(**overrides), clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator") as client,
    ):
        yield Emulator(app, client, clock)


@pytest.fixture
def real_media() -> bool:
    return True


@pytest.fixture(autouse=True)
def stub_render(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "real_media" in request.fixturenames:
        return

    def fake(spec: render.RenderSpec, directory: Path) -> render.RenderedMedia:
        directory.mkdir(parents=True, exist_ok=True)
        names = {
            "video": "video.mp4",
            "webp": "thumbnail.webp",
            "jpeg": "thumbnail.jpg",
            "sprite": "sprite.jpg",
        }
        for kind, name in names.items():
            (directory / name).write_bytes(f"{kind}:{spec.prompt}".encode())
        return render.RenderedMedia(*(directory / n for n in names.values()))

    monkeypatch.setattr(render, "render_media", fake)


def assert_error(
    response: httpx.Response,
    status: int,
    message: str | None = None,
    *,
    contains: tuple[str, ...] = (),
    param: str | None = None,
    code: str | None = None,
    type_: str = "invalid_request_error",
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert_valid(body, "openai/ErrorResponse.json")
    error = body["error"]
    if message is not None:
        assert error["message"] == message
    for fragment in contains:
        assert fragment in error["message"], (fragment, error)
    assert (error["type"], error["param"], error["code"]) == (type_, param, code)
    return error


def png(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 160, 90)).save(out, format=fmt)
    return out.getvalue()


# -- lifecycle ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_openai_lifecycle_queued_in_progress_completed_with_all_fields() -> None:
    async with emulator() as emu:
        created = await emu.created(prompt="A lighthouse at dusk")
        assert set(created) == VIDEO_FIELDS
        assert created["id"].startswith("video_") and len(created["id"]) == len("video_") + 32
        assert created["object"] == "video"
        assert (created["status"], created["progress"]) == ("queued", 0)
        assert (created["model"], created["size"], created["seconds"]) == ("sora-2", "720x1280", "4")
        assert created["prompt"] == "A lighthouse at dusk"
        for null in ("completed_at", "expires_at", "remixed_from_video_id", "error"):
            assert created[null] is None
        assert "usage" not in created  # Azure-only

        statuses: list[str] = []
        progress: list[int] = []
        for _ in range(200):
            response = await emu.get(created["id"])
            body = response.json()
            assert_valid(body, VIDEO)
            if body["status"] in ("queued", "in_progress"):
                # Scaled poll hint, only while work is pending.
                assert response.headers["openai-poll-after-ms"] == "5000"
            else:
                assert "openai-poll-after-ms" not in response.headers
            if not statuses or statuses[-1] != body["status"]:
                statuses.append(body["status"])
            progress.append(body["progress"])
            if body["status"] == "completed":
                break
            emu.clock.advance(3)
        assert statuses == ["queued", "in_progress", "completed"]
        assert progress == sorted(progress), "progress must never go down"
        assert any(0 < p < 100 for p in progress) and progress[-1] == 100
        assert body["completed_at"] is not None and body["completed_at"] >= body["created_at"]
        assert body["expires_at"] == body["created_at"] + 86400
        assert body["error"] is None


@pytest.mark.anyio
async def test_azure_create_multipart_echoes_deployment_and_adds_usage() -> None:
    async with emulator(time_scale=0.5, poll_after_ms=1000) as emu:
        response = await emu.client.post(
            f"{AZURE}/videos",
            params={"api-version": "preview"},
            data={"prompt": "A fox in snow", "model": "sora-2-pro", "size": "1792x1024", "seconds": "8"},
            files={},
            headers=auth(AZURE),
        )
        assert response.status_code == 200, response.text
        assert response.headers["apim-request-id"]
        body = response.json()
        assert_valid(body, VIDEO)
        assert (body["model"], body["size"], body["seconds"]) == ("sora-2-pro", "1792x1024", "8")
        assert body["usage"] == {"duration_seconds": 8.0}
        polled = await emu.get(body["id"], AZURE)
        assert polled.headers["openai-poll-after-ms"] == "500"  # 1000 ms × time_scale 0.5
        assert "usage" not in polled.json()
        # A time-scaled job: 0.5 × (60 … 500) emulated seconds.
        emu.clock.advance(LONGEST * 0.5)
        assert (await emu.video(body["id"], AZURE))["expires_at"] == body["created_at"] + 43200


@pytest.mark.anyio
async def test_openai_accepts_snapshot_model_names_and_echoes_them() -> None:
    async with emulator() as emu:
        body = await emu.created(model="sora-2-pro-2025-10-06", size="1024x1792", seconds="12")
        assert (body["model"], body["size"], body["seconds"]) == ("sora-2-pro-2025-10-06", "1024x1792", "12")


@pytest.mark.anyio
async def test_surfaces_do_not_see_each_others_videos() -> None:
    async with emulator() as emu:
        openai_video = await emu.created()
        azure_video = await emu.created(AZURE)
        assert (await emu.get(openai_video["id"], AZURE)).status_code == 404
        assert (await emu.get(azure_video["id"], OPENAI)).status_code == 404


# -- list -----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_list_pages_with_after_limit_order() -> None:
    async with emulator() as emu:
        ids = []
        for n in range(5):
            ids.append((await emu.created(prompt=f"clip {n}"))["id"])
        await emu.created(AZURE)  # another surface: never listed on /v1

        async def page(**query: Any) -> dict[str, Any]:
            response = await emu.client.get(f"{OPENAI}/videos", params=query, headers=auth(OPENAI))
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            assert_valid(body, "openai/VideoListResource.json")
            return body

        everything = await page()
        assert [v["id"] for v in everything["data"]] == ids[::-1]  # default: newest first
        assert (everything["first_id"], everything["last_id"], everything["has_more"]) == (
            ids[4],
            ids[0],
            False,
        )

        seen: list[str] = []
        after: str | None = None
        pages = 0
        while True:
            body = await page(limit=2, **({"after": after} if after else {}))
            pages += 1
            seen += [v["id"] for v in body["data"]]
            assert body["first_id"] == body["data"][0]["id"] and body["last_id"] == body["data"][-1]["id"]
            if not body["has_more"]:
                break
            after = body["last_id"]
        assert (seen, pages) == (ids[::-1], 3)

        ascending = await page(order="asc", limit=3)
        assert [v["id"] for v in ascending["data"]] == ids[:3] and ascending["has_more"] is True
        assert [v["id"] for v in (await page(order="asc", after=ids[3]))["data"]] == [ids[4]]
        empty = await page(limit=0)
        assert (empty["data"], empty["first_id"], empty["last_id"]) == ([], None, None)

        azure = (await emu.client.get(f"{AZURE}/videos", headers=auth(AZURE))).json()
        assert len(azure["data"]) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("query", "message", "param", "code"),
    [
        (
            {"limit": "101"},
            "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.",
            "limit",
            "integer_above_max_value",
        ),
        (
            {"limit": "-1"},
            "Invalid 'limit': integer below minimum value. Expected a value >= 0, but got -1 instead.",
            "limit",
            "integer_below_min_value",
        ),
        (
            {"limit": "ten"},
            "Invalid 'limit': expected an integer, but got 'ten' instead.",
            "limit",
            "invalid_type",
        ),
        (
            {"order": "newest"},
            "Invalid value: 'newest'. Supported values are: 'asc' and 'desc'.",
            "order",
            "invalid_value",
        ),
        (
            {"after": "video_missing"},
            "Invalid 'after': no video with id 'video_missing' exists.",
            "after",
            "invalid_value",
        ),
    ],
)
async def test_list_rejects_bad_query(query: dict[str, str], message: str, param: str, code: str) -> None:
    async with emulator() as emu:
        response = await emu.client.get(f"{OPENAI}/videos", params=query, headers=auth(OPENAI))
        assert_error(response, 400, message, param=param, code=code)


# -- delete ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_delete_completed_then_reads_say_deleted() -> None:
    async with emulator() as emu:
        video = await emu.created()
        await emu.finish(video["id"])
        response = await emu.client.delete(f"{OPENAI}/videos/{video['id']}", headers=auth(OPENAI))
        assert response.status_code == 200
        assert_valid(response.json(), "openai/DeletedVideoResource.json")
        assert response.json() == {"id": video["id"], "object": "video.deleted", "deleted": True}
        for path in ("", "/content"):
            gone = await emu.client.get(f"{OPENAI}/videos/{video['id']}{path}", headers=auth(OPENAI))
            assert_error(
                gone,
                404,
                f"Video '{video['id']}' was deleted; its status and content are no longer available.",
                code="video_not_found",
            )
        again = await emu.client.delete(f"{OPENAI}/videos/{video['id']}", headers=auth(OPENAI))
        assert again.status_code == 404
        # Files go once any render still writing them has finished.
        folder = emu.state.media.root / video["id"]  # type: ignore[attr-defined]
        for _ in range(100):
            if not folder.exists():
                break
            await anyio.sleep(0.05)
        assert not folder.exists()


@pytest.mark.anyio
async def test_delete_in_progress_cancels_and_frees_the_running_slot() -> None:
    deployments = [Deployment(name="sora-2", model="sora-2", running_cap=2, creates_per_minute=0)]
    async with emulator(deployments=deployments) as emu:
        first = await emu.created(AZURE)
        await emu.created(AZURE)
        assert (await emu.create(AZURE)).status_code == 429
        deleted = await emu.client.delete(f"{AZURE}/videos/{first['id']}", headers=auth(AZURE))
        assert deleted.status_code == 200
        assert (await emu.create(AZURE)).status_code == 200


# -- remix ----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_remix_inherits_size_seconds_model_and_links_the_source() -> None:
    async with emulator() as emu:
        source = await emu.created(AZURE, model="sora-2", size="1280x720", seconds="8")
        url = f"{AZURE}/videos/{source['id']}/remix"
        early = await emu.client.post(url, json={"prompt": "now at night"}, headers=auth(AZURE))
        assert_error(
            early,
            400,
            f"Video '{source['id']}' cannot be remixed: its status is 'queued'; "
            "only completed videos can be remixed.",
            code="invalid_value",
        )
        await emu.finish(source["id"], AZURE)
        response = await emu.client.post(url, data={"prompt": "now at night"}, files={}, headers=auth(AZURE))
        assert response.status_code == 200, response.text
        remix = response.json()
        assert_valid(remix, VIDEO)
        assert remix["id"] != source["id"]
        assert (remix["status"], remix["remixed_from_video_id"], remix["prompt"]) == (
            "queued",
            source["id"],
            "now at night",
        )
        assert (remix["size"], remix["seconds"], remix["model"]) == ("1280x720", "8", "sora-2")
        # The media store renders the remix from the source's spec.
        spec = emu.state.media.spec(remix["id"])  # type: ignore[attr-defined]
        assert spec.remix_of is not None and spec.remix_of.prompt == source["prompt"]

        missing = await emu.client.post(
            f"{AZURE}/videos/video_nope/remix", json={"prompt": "x"}, headers=auth(AZURE)
        )
        assert_error(missing, 404, "No video found with id 'video_nope'.", code="video_not_found")
        no_prompt = await emu.client.post(url, json={}, headers=auth(AZURE))
        assert_error(
            no_prompt,
            400,
            "Missing required parameter: 'prompt'.",
            param="prompt",
            code="missing_required_parameter",
        )


@pytest.mark.anyio
async def test_remix_of_expired_or_deleted_source_is_refused() -> None:
    async with emulator() as emu:
        source = await emu.created()
        await emu.finish(source["id"])
        emu.clock.advance(86400)
        url = f"{OPENAI}/videos/{source['id']}/remix"
        expired = await emu.client.post(url, json={"prompt": "again"}, headers=auth(OPENAI))
        assert_error(expired, 404, contains=(f"Video '{source['id']}' has expired",), code="video_expired")
        await emu.client.delete(f"{OPENAI}/videos/{source['id']}", headers=auth(OPENAI))
        deleted = await emu.client.post(url, json={"prompt": "again"}, headers=auth(OPENAI))
        assert_error(deleted, 404, contains=("was deleted",), code="video_not_found")


# -- create validation: every 400 body ----------------------------------------------------------

INT_SECONDS = "Invalid type for 'seconds': expected one of '4', '8', or '12', but got an integer instead."
INPAINT = "Inpaint image must match the requested width and height"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fields", "message", "param", "code"),
    [
        ({"seconds": 8}, INT_SECONDS, "seconds", "invalid_type"),
        (
            {"seconds": "5"},
            "Invalid value: '5'. Supported values are: '4', '8', and '12'.",
            "seconds",
            "invalid_value",
        ),
        (
            {"size": "1024x1792"},
            "Invalid value: '1024x1792'. Supported values for model 'sora-2' are: '720x1280' and '1280x720'.",
            "size",
            "invalid_value",
        ),
        (
            {"size": "1920x1080", "model": "sora-2-pro"},
            "Invalid value: '1920x1080'. Supported values for model "
            "'sora-2-pro' are: '720x1280', '1280x720', '1024x1792', and '1792x1024'.",
            "size",
            "invalid_value",
        ),
        (
            {"size": 720},
            "Invalid type for 'size': expected a string, but got an integer instead.",
            "size",
            "invalid_type",
        ),
        (
            {"prompt": ""},
            "Invalid 'prompt': string too short. Expected a string with minimum length 1, but got an "
            "empty string instead.",
            "prompt",
            "string_below_min_length",
        ),
        (
            {"prompt": "x" * 32001},
            "Invalid 'prompt': string too long. Expected a string with maximum length "
            "32000, but got a string with length 32001 instead.",
            "prompt",
            "string_above_max_length",
        ),
        (
            {"prompt": 7},
            "Invalid type for 'prompt': expected a string, but got an integer instead.",
            "prompt",
            "invalid_type",
        ),
        (
            {"model": "sora-3"},
            "Invalid value: 'sora-3'. Supported values are: 'sora-2', 'sora-2-2025-10-06', "
            "'sora-2-2025-12-08', 'sora-2-pro', and 'sora-2-pro-2025-10-06'.",
            "model",
            "invalid_value",
        ),
        ({"n_variants": 2}, "Unknown parameter: 'n_variants'.", "n_variants", "unknown_parameter"),
        (
            {"input_reference": "https://example.com/cat.png"},
            "Invalid type for 'input_reference': expected an "
            "object with 'image_url' or 'file_id', but got a string instead.",
            "input_reference",
            "invalid_type",
        ),
        (
            {"input_reference": {"image_url": "https://example.com/cat.png"}},
            "Invalid 'input_reference.image_url': "
            "the emulator cannot fetch remote URLs ('https://example.com/cat.png'); "
            "send the image as a base64 data URL (data:image/png;base64,…) or upload the file.",
            "input_reference.image_url",
            "invalid_value",
        ),
        (
            {"input_reference": {"image_url": "data:image/png;base64,@@@"}},
            "Invalid 'input_reference.image_url': "
            "not a valid base64 data URL (expected data:image/<type>;base64,<data>).",
            "input_reference.image_url",
            "invalid_value",
        ),
        (
            {"input_reference": {"file_id": "file-abc"}},
            "Invalid 'input_reference.file_id': no file with id "
            "'file-abc' exists (the emulator has no Files API: upload the image, "
            "or send it as a base64 data URL).",
            "input_reference.file_id",
            "invalid_value",
        ),
        (
            {"input_reference": {"image_url": "data:,x", "file_id": "f"}},
            "Invalid 'input_reference': provide exactly one of 'image_url' or 'file_id'.",
            "input_reference",
            "invalid_value",
        ),
        (
            {
                "input_reference": {
                    "image_url": "data:text/plain;base64," + base64.b64encode(b"hello").decode()
                }
            },
            "Invalid 'input_reference.image_url': the file is not a supported image; "
            "use image/jpeg, image/png or image/webp.",
            "input_reference.image_url",
            "invalid_image_format",
        ),
        (
            {
                "input_reference": {
                    "image_url": "data:image/png;base64," + base64.b64encode(png(640, 480)).decode()
                }
            },
            INPAINT,
            None,
            None,
        ),
    ],
)
async def test_create_json_validation_errors(
    fields: dict[str, Any], message: str, param: str | None, code: str | None
) -> None:
    async with emulator() as emu:
        assert_error(await emu.create(**fields), 400, message, param=param, code=code)
        assert emu.state.store.create_count == 0


@pytest.mark.anyio
async def test_create_without_prompt_and_with_bad_bodies() -> None:
    async with emulator() as emu:
        url, headers = f"{OPENAI}/videos", auth(OPENAI)
        assert_error(
            await emu.client.post(url, json={}, headers=headers),
            400,
            "Missing required parameter: 'prompt'.",
            param="prompt",
            code="missing_required_parameter",
        )
        garbage = await emu.client.post(
            url, content=b"{nope", headers={**headers, "content-type": "application/json"}
        )
        assert_error(garbage, 400, contains=("not valid JSON",))
        listed = await emu.client.post(url, json=["prompt"], headers=headers)
        assert_error(listed, 400, "Invalid body: expected a JSON object, but got an array instead.")


@pytest.mark.anyio
async def test_multipart_input_reference_file_must_match_size_and_be_an_image() -> None:
    async with emulator() as emu:
        url, headers = f"{AZURE}/videos", auth(AZURE)
        fields = {"prompt": "A kite", "model": "sora-2", "size": "1280x720"}
        wrong = await emu.client.post(
            url,
            data=fields,
            files={"input_reference": ("ref.png", png(720, 1280), "image/png")},
            headers=headers,
        )
        assert_error(wrong, 400, INPAINT)
        text = await emu.client.post(
            url,
            data=fields,
            files={"input_reference": ("ref.png", b"not an image", "image/png")},
            headers=headers,
        )
        assert_error(
            text,
            400,
            "Invalid 'input_reference': the file is not a supported image; use image/jpeg, "
            "image/png or image/webp.",
            param="input_reference",
            code="invalid_image_format",
        )
        gif = io.BytesIO()
        Image.new("RGB", (1280, 720)).save(gif, format="GIF")
        as_gif = await emu.client.post(
            url,
            data=fields,
            files={"input_reference": ("ref.gif", gif.getvalue(), "image/gif")},
            headers=headers,
        )
        assert as_gif.status_code == 400
        image = png(1280, 720, "WEBP")
        ok = await emu.client.post(
            url, data=fields, files={"input_reference": ("ref.webp", image, "image/webp")}, headers=headers
        )
        assert ok.status_code == 200, ok.text
        assert emu.state.media.spec(ok.json()["id"]).image == image  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_input_reference_as_data_url_in_json_and_form_fields() -> None:
    async with emulator() as emu:
        image = png(720, 1280)
        data_url = "data:image/png;base64," + base64.b64encode(image).decode()
        as_json = await emu.create(input_reference={"image_url": data_url})
        assert as_json.status_code == 200, as_json.text
        # The SDK's form encoding of the object: input_reference[image_url]=…
        as_form = await emu.client.post(
            f"{OPENAI}/videos",
            data={"prompt": "A kite", "input_reference[image_url]": data_url},
            files={},
            headers=auth(OPENAI),
        )
        assert as_form.status_code == 200, as_form.text
        for response in (as_json, as_form):
            assert emu.state.media.spec(response.json()["id"]).image == image  # type: ignore[attr-defined]


# -- auth, deployments, api-version ---------------------------------------------------------------

AZURE_401 = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)


@pytest.mark.anyio
async def test_openai_auth_bodies() -> None:
    async with emulator() as emu:
        missing = await emu.client.get(f"{OPENAI}/videos")
        assert_error(missing, 401, contains=("You didn't provide an API key",), code="invalid_api_key")
        wrong = await emu.client.get(
            f"{OPENAI}/videos", headers={"authorization": "Bearer sk-wrong-key-1234"}
        )
        error = assert_error(
            wrong, 401, contains=("Incorrect API key provided: sk-*****1234",), code="invalid_api_key"
        )
        assert "wrong-key" not in error["message"]  # never echo the whole key
        # OpenAI routes do not take Azure's api-key header.
        assert (await emu.client.get(f"{OPENAI}/videos", headers={"api-key": KEY})).status_code == 401


@pytest.mark.anyio
async def test_azure_auth_body_and_both_key_headers() -> None:
    async with emulator() as emu:
        for headers in ({}, {"api-key": "nope"}, {"authorization": "Bearer nope"}):
            response = await emu.client.get(f"{AZURE}/videos", headers=headers)
            assert response.status_code == 401
            assert response.json() == {"error": {"code": "401", "message": AZURE_401}}
            assert_error_body(response.json(), "azure")
            assert response.headers["apim-request-id"]
        for headers in ({"api-key": KEY}, {"authorization": f"Bearer {KEY}"}):
            assert (await emu.client.get(f"{AZURE}/videos", headers=headers)).status_code == 200


@pytest.mark.anyio
async def test_azure_model_is_a_sora2_deployment_name() -> None:
    async with emulator() as emu:
        unknown = await emu.create(AZURE, model="sora2-test")
        assert unknown.status_code == 404
        assert unknown.json() == {
            "error": {
                "message": "The API deployment 'sora2-test' for this resource does not exist. If you "
                "created the deployment within the last 5 minutes, please wait a moment and try again.",
                "type": "video_generation_user_error",
                "param": None,
                "code": None,
            }
        }
        sora1 = await emu.create(AZURE, model="sora")
        assert_error(
            sora1,
            400,
            contains=("deployment 'sora' serves model 'sora' (Sora 1)", "/video/generations/jobs"),
            type_="video_generation_user_error",
        )
        no_model = await emu.client.post(f"{AZURE}/videos", json={"prompt": "x"}, headers=auth(AZURE))
        assert_error(
            no_model,
            400,
            contains=("Missing required parameter: 'model'", "'sora-2' and 'sora-2-pro'"),
            param="model",
            code="missing_required_parameter",
        )


@pytest.mark.anyio
async def test_azure_api_version_rules() -> None:
    async with emulator() as emu:
        for version in (None, "v1", "preview"):
            params = {"api-version": version} if version else {}
            response = await emu.client.get(f"{AZURE}/videos", params=params, headers=auth(AZURE))
            assert response.status_code == 200, (version, response.text)
        bad = await emu.client.get(
            f"{AZURE}/videos", params={"api-version": "2024-10-21"}, headers=auth(AZURE)
        )
        assert bad.status_code == 400
        assert_error_body(bad.json(), "azure")
        assert "'2024-10-21' is not supported" in bad.json()["error"]["message"]


@pytest.mark.anyio
async def test_unknown_ids_and_routes_use_each_familys_envelope() -> None:
    async with emulator() as emu:
        for method in ("GET", "DELETE"):
            response = await emu.client.request(method, f"{OPENAI}/videos/video_123", headers=auth(OPENAI))
            assert_error(response, 404, "No video found with id 'video_123'.", code="video_not_found")
        content = await emu.client.get(f"{AZURE}/videos/video_123/content", headers=auth(AZURE))
        assert_error(content, 404, "No video found with id 'video_123'.", code="video_not_found")
        route = await emu.client.get(f"{OPENAI}/nothing", headers=auth(OPENAI))
        assert_error(route, 404, "Invalid URL (GET /v1/nothing)")
        azure_route = await emu.client.get(f"{AZURE}/nothing", headers=auth(AZURE))
        assert azure_route.json() == {"error": {"code": "404", "message": "Resource not found"}}
        assert "detail" not in azure_route.json()


# -- limits ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_third_running_job_gets_429_too_many_running_tasks() -> None:
    deployments = [Deployment(name="sora-2", model="sora-2", running_cap=2, creates_per_minute=0)]
    async with emulator(deployments=deployments) as emu:
        first = await emu.created(AZURE)
        await emu.created(AZURE)
        third = await emu.create(AZURE)
        assert third.status_code == 429
        assert third.json() == {
            "error": {
                "message": "Too many running tasks",
                "type": "video_generation_user_error",
                "param": None,
                "code": None,
            }
        }
        assert int(third.headers["retry-after"]) >= 1
        await emu.finish(first["id"], AZURE)
        assert (await emu.create(AZURE)).status_code == 200


@pytest.mark.anyio
async def test_create_rate_two_per_minute_then_ok_after_the_scaled_minute() -> None:
    deployments = [Deployment(name="sora-2", model="sora-2", running_cap=0, creates_per_minute=2)]
    async with emulator(deployments=deployments, time_scale=0.1) as emu:
        assert (await emu.create(AZURE)).status_code == 200
        emu.clock.advance(1)
        assert (await emu.create(AZURE)).status_code == 200
        third = await emu.create(AZURE)
        assert third.status_code == 429
        assert_error_body(third.json(), "azure")
        assert (
            "exceeded the rate limit of 2 video job requests per minute" in third.json()["error"]["message"]
        )
        # The window is 60 emulated seconds = 6 real seconds at time_scale 0.1; 5 of them are left.
        assert int(third.headers["retry-after"]) == 5
        emu.clock.advance(4.9)
        assert (await emu.create(AZURE)).status_code == 429
        emu.clock.advance(0.2)
        assert (await emu.create(AZURE)).status_code == 200


# -- expiry, moderation, content ------------------------------------------------------------------


@pytest.mark.anyio
async def test_content_after_expiry_is_a_404_error() -> None:
    async with emulator() as emu:
        video = await emu.created()
        done = await emu.finish(video["id"])
        url = f"{OPENAI}/videos/{video['id']}/content"
        assert (await emu.client.get(url, headers=auth(OPENAI))).status_code == 200
        emu.clock.advance(done["expires_at"] - emu.clock.now())
        expired = await emu.client.get(url, headers=auth(OPENAI))
        assert_error(expired, 404, contains=(f"Video '{video['id']}' has expired",), code="video_expired")
        still = await emu.video(video["id"])
        assert (still["status"], still["expires_at"]) == ("completed", done["expires_at"])


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("prompt", "overrides", "code", "message"),
    [
        ("gore everywhere", {}, "moderation_blocked", "Your request was blocked by our moderation system."),
        (
            "an output-blocked scene",
            {},
            "moderation_blocked",
            "Your request was blocked by our moderation system.",
        ),
        (
            "a calm lake",
            {"moderation": {"internal_error_rate": 1.0}},
            "internal_error",
            "The video generation failed because of an internal error.",
        ),
    ],
)
async def test_failed_jobs_carry_the_error_object(
    prompt: str, overrides: dict[str, Any], code: str, message: str
) -> None:
    async with emulator(**overrides) as emu:
        video = await emu.created(prompt=prompt)
        failed = await emu.finish(video["id"])
        assert failed["status"] == "failed"
        assert failed["error"] == {"code": code, "message": message}
        assert failed["expires_at"] is None and failed["completed_at"] is not None
        content = await emu.client.get(f"{OPENAI}/videos/{video['id']}/content", headers=auth(OPENAI))
        assert_error(
            content,
            400,
            f"Video '{video['id']}' failed ({code}) and has no content to download.",
            code="video_failed",
        )


@pytest.mark.anyio
async def test_content_variants_types_and_lengths(real_media: bool) -> None:
    async with emulator() as emu:
        video = await emu.created(AZURE, prompt="A red balloon over a city")
        url = f"{AZURE}/videos/{video['id']}/content"
        early = await emu.client.get(url, headers=auth(AZURE))
        assert_error(early, 400, contains=("is not ready: its status is 'queued'",), code="video_not_ready")
        await emu.finish(video["id"], AZURE)
        signatures = {"video": (b"ftyp", 4), "thumbnail": (b"WEBP", 8), "spritesheet": (b"\xff\xd8", 0)}
        types = {"video": "video/mp4", "thumbnail": "image/webp", "spritesheet": "image/jpeg"}
        for variant, (magic, offset) in signatures.items():
            params = {"variant": variant} if variant != "video" else {}
            response = await emu.client.get(url, params=params, headers=auth(AZURE))
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == types[variant]
            assert int(response.headers["content-length"]) == len(response.content) > 100
            assert response.content[offset : offset + len(magic)] == magic
        bad = await emu.client.get(url, params={"variant": "poster"}, headers=auth(AZURE))
        assert_error(
            bad,
            400,
            "Invalid value: 'poster'. Supported values are: 'video', 'thumbnail', and 'spritesheet'.",
            param="variant",
            code="invalid_value",
        )


@pytest.mark.anyio
async def test_framework_validation_errors_and_crashes_use_the_family_envelope() -> None:
    app = create_app(EmulatorConfig())

    # Probe routes with declared parameters, as route modules may have: FastAPI validates them.
    @app.get("/v1/probe")
    @app.get("/openai/v1/video/generations-probe")
    async def probe(count: int) -> dict[str, int]:
        return {"count": count}

    @app.get("/v1/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://e") as c,
    ):
        openai_body = assert_error(
            await c.get("/v1/probe", params={"count": "many"}),
            400,
            param="count",
            contains=("Invalid 'count'",),
        )
        assert "integer" in openai_body["message"]
        sora1 = await c.get("/openai/v1/video/generations-probe")
        assert sora1.status_code == 400
        assert sora1.json()["error"]["param"] == "count"
        assert_error_body(sora1.json(), "sora1")
        crashed = await c.get("/v1/crash")
        assert_error(crashed, 500, type_="server_error", contains=("The server had an error",))
