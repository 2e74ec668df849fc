"""HEAD on `/videos/{id}/content` (both surfaces): GET's status and headers, no body."""

from __future__ import annotations

import time

import httpx
import pytest

from sorastudio.emulator.config import EmulatorConfig
from sorastudio.emulator.server import running_server
from tests.emulator.test_videos_api import (  # noqa: F401 - stub_render is an autouse fixture
    AZURE,
    OPENAI,
    auth,
    emulator,
    stub_render,
)

SAME_HEADERS = ("content-type", "content-length", "accept-ranges")


@pytest.mark.anyio
@pytest.mark.parametrize("base", [OPENAI, AZURE])
async def test_head_of_content_has_gets_headers_and_no_body(base: str) -> None:
    async with emulator() as emu:
        video = await emu.created(base)
        await emu.finish(video["id"], base)
        url = f"{base}/videos/{video['id']}/content"
        for params in ({}, {"variant": "video"}, {"variant": "thumbnail"}, {"variant": "spritesheet"}):
            got = await emu.client.get(url, params=params, headers=auth(base))
            head = await emu.client.head(url, params=params, headers=auth(base))
            assert got.status_code == head.status_code == 200, (params, head.status_code)
            assert head.content == b""
            for name in SAME_HEADERS:
                assert head.headers[name] == got.headers[name], (params, name)
            assert int(head.headers["content-length"]) == len(got.content) > 0


@pytest.mark.anyio
@pytest.mark.parametrize("base", [OPENAI, AZURE])
async def test_head_of_content_fails_as_get_does(base: str) -> None:
    async with emulator() as emu:
        video = await emu.created(base)
        content = f"{base}/videos/{video['id']}/content"
        cases = {
            "not ready": (content, {}, auth(base), 400),
            "unknown id": (f"{base}/videos/video_123/content", {}, auth(base), 404),
            "bad variant": (content, {"variant": "poster"}, auth(base), 400),
            "wrong key": (content, {}, {"authorization": "Bearer nope", "api-key": "nope"}, 401),
        }
        for name, (url, params, headers, status) in cases.items():
            got = await emu.client.get(url, params=params, headers=headers)
            head = await emu.client.head(url, params=params, headers=headers)
            assert (got.status_code, head.status_code) == (status, status), name
            assert head.headers["content-type"] == got.headers["content-type"] == "application/json", name
            assert head.headers["content-length"] == got.headers["content-length"], name
        await emu.finish(video["id"], base)
        deleted = await emu.client.delete(f"{base}/videos/{video['id']}", headers=auth(base))
        assert deleted.status_code == 200
        assert (await emu.client.head(content, headers=auth(base))).status_code == 404


def test_head_over_a_real_server_sends_no_body_even_for_errors() -> None:
    """In process the app's error body is visible; on the wire the server must drop it for HEAD."""
    with running_server(EmulatorConfig(time_scale=0.001)) as url, httpx.Client(base_url=url) as client:
        headers = auth(OPENAI)
        missing = client.head(f"{OPENAI}/videos/video_123/content", headers=headers)
        assert missing.status_code == 404 and missing.content == b""
        assert int(missing.headers["content-length"]) > 0  # the length GET's JSON body would have
        created = client.post(f"{OPENAI}/videos", json={"prompt": "A kite"}, headers=headers)
        assert created.status_code == 200, created.text
        video_id = created.json()["id"]
        deadline = time.monotonic() + 10
        while client.get(f"{OPENAI}/videos/{video_id}", headers=headers).json()["status"] != "completed":
            assert time.monotonic() < deadline, "the video did not complete"
            time.sleep(0.02)
        got = client.get(f"{OPENAI}/videos/{video_id}/content", headers=headers)
        head = client.head(f"{OPENAI}/videos/{video_id}/content", headers=headers)
        assert (got.status_code, head.status_code, head.content) == (200, 200, b"")
        for name in SAME_HEADERS:
            assert head.headers[name] == got.headers[name], name
