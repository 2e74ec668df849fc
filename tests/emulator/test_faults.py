"""Injected faults (one test each), their seeded reproducibility and the `/_emulator/` admin routes.

Dropped connections and truncated downloads need a real server (`running_server`): in-process
transports cannot break a connection. Renders are stubbed: these tests are about the HTTP layer.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from sorastudio.emulator import render
from sorastudio.emulator.app import create_app
from sorastudio.emulator.clock import ManualClock
from sorastudio.emulator.config import EmulatorConfig, Faults
from sorastudio.emulator.server import running_server
from tests.schemas import assert_error_body, assert_valid

KEY = "emulator-key"
OPENAI_AUTH = {"authorization": f"Bearer {KEY}"}
AZURE_AUTH = {"api-key": KEY}
VIDEO_BYTES = 10_000


@pytest.fixture(autouse=True)
def stub_render(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(spec: render.RenderSpec, directory: Path) -> render.RenderedMedia:
        directory.mkdir(parents=True, exist_ok=True)
        paths = [directory / n for n in ("video.mp4", "thumbnail.webp", "thumbnail.jpg", "sprite.jpg")]
        for path in paths:
            path.write_bytes(b"m" * VIDEO_BYTES)
        return render.RenderedMedia(*paths)

    monkeypatch.setattr(render, "render_media", fake)


@asynccontextmanager
async def emulator(**faults: Any) -> AsyncIterator[tuple[httpx.AsyncClient, ManualClock, Any]]:
    clock = ManualClock()
    app = create_app(EmulatorConfig(faults=Faults(**faults)), clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator") as client,
    ):
        yield client, clock, app


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/_emulator/stats", headers=AZURE_AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.anyio
async def test_rate_limit_fault_is_a_429_in_each_familys_envelope_with_retry_after() -> None:
    async with emulator(rate_limit=1.0, rate_limit_retry_after=3.0) as (client, _, _):
        openai_429 = await client.get("/v1/videos", headers=OPENAI_AUTH)
        assert openai_429.status_code == 429
        assert (openai_429.headers["retry-after"], openai_429.headers["retry-after-ms"]) == ("3", "3000")
        assert_valid(openai_429.json(), "openai/ErrorResponse.json")
        assert openai_429.json()["error"]["code"] == "rate_limit_exceeded"
        azure_429 = await client.get("/openai/v1/videos", headers=AZURE_AUTH)
        assert azure_429.status_code == 429 and azure_429.headers["apim-request-id"]
        assert_error_body(azure_429.json(), "azure")
        assert "Please retry after 3 seconds" in azure_429.json()["error"]["message"]
        # Admin routes are never faulted; they count what was injected.
        assert (await stats(client))["faults"] == {"rate_limit": 2}


@pytest.mark.anyio
async def test_server_error_fault_is_a_500_and_does_not_run_the_request() -> None:
    async with emulator(server_error=1.0, methods=["POST"]) as (client, _, app):
        response = await client.post("/v1/videos", json={"prompt": "x"}, headers=OPENAI_AUTH)
        assert response.status_code == 500
        assert_valid(response.json(), "openai/ErrorResponse.json")
        assert response.json()["error"]["type"] == "server_error"
        azure = await client.post(
            "/openai/v1/videos", json={"prompt": "x", "model": "sora-2"}, headers=AZURE_AUTH
        )
        assert azure.status_code == 500
        assert_error_body(azure.json(), "azure")
        assert app.state.emulator.store.create_count == 0
        # `methods` restricts the fault: reads pass.
        assert (await client.get("/v1/videos", headers=OPENAI_AUTH)).status_code == 200


@pytest.mark.anyio
async def test_slow_fault_delays_by_real_seconds() -> None:
    async with emulator(slow=1.0, slow_seconds=0.3, paths=["/v1/videos"]) as (client, _, _):
        started = time.monotonic()
        assert (await client.get("/v1/videos", headers=OPENAI_AUTH)).status_code == 200
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        # Outside `paths`: no delay.
        assert (await client.get("/_emulator/health")).status_code == 200
        assert time.monotonic() - started < 0.3


@pytest.mark.anyio
@pytest.mark.parametrize("status", [200, 503])
async def test_json_on_content_fault_serves_a_json_error_instead_of_media(status: int) -> None:
    async with emulator(json_on_content=1.0, json_on_content_status=status) as (client, clock, _):
        created = await client.post("/v1/videos", json={"prompt": "x"}, headers=OPENAI_AUTH)
        assert created.status_code == 200  # not a content route: untouched
        clock.advance(500)
        content = await client.get(f"/v1/videos/{created.json()['id']}/content", headers=OPENAI_AUTH)
        assert content.status_code == status
        assert content.headers["content-type"] == "application/json"
        assert_valid(content.json(), "openai/ErrorResponse.json")


@pytest.mark.anyio
async def test_status_is_404_right_after_create() -> None:
    async with emulator(not_found_after_create_seconds=5.0) as (client, clock, _):
        created = (await client.post("/v1/videos", json={"prompt": "x"}, headers=OPENAI_AUTH)).json()
        hidden = await client.get(f"/v1/videos/{created['id']}", headers=OPENAI_AUTH)
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "video_not_found"
        clock.advance(5.0)
        assert (await client.get(f"/v1/videos/{created['id']}", headers=OPENAI_AUTH)).status_code == 200
        assert (await stats(client))["faults"] == {"not_found_after_create": 1}


def test_drop_connection_fault_breaks_the_connection_after_doing_the_work() -> None:
    app = create_app(EmulatorConfig(faults=Faults(drop_connection=1.0, methods=["POST"])))
    with running_server(app=app) as base, httpx.Client(base_url=base, headers=OPENAI_AUTH) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/v1/videos", json={"prompt": "a lost answer"})
        # The create happened although the client never saw its answer.
        listed = client.get("/v1/videos").json()
        assert [v["prompt"] for v in listed["data"]] == ["a lost answer"]


def test_truncated_download_sends_half_the_declared_length_then_closes() -> None:
    config = EmulatorConfig(time_scale=0.001, faults=Faults(truncate_download=1.0))
    app = create_app(config)
    with running_server(app=app) as base, httpx.Client(base_url=base, headers=OPENAI_AUTH) as client:
        video = client.post("/v1/videos", json={"prompt": "x"}).json()
        # Not a content route: whole answers.
        for _ in range(100):
            video = client.get(f"/v1/videos/{video['id']}").json()
            if video["status"] == "completed":
                break
            time.sleep(0.05)
        assert video["status"] == "completed"
        received = 0
        with (
            pytest.raises(httpx.RemoteProtocolError),
            client.stream("GET", f"/v1/videos/{video['id']}/content") as response,
        ):
            assert response.headers["content-length"] == str(VIDEO_BYTES)
            for chunk in response.iter_raw():
                received += len(chunk)
        assert received == VIDEO_BYTES // 2


async def _statuses(client: httpx.AsyncClient, n: int = 40) -> list[int]:
    return [(await client.get("/v1/videos", headers=OPENAI_AUTH)).status_code for _ in range(n)]


@pytest.mark.anyio
async def test_same_seed_gives_the_same_fault_sequence() -> None:
    settings = {"seed": 7, "rate_limit": 0.25, "server_error": 0.25}
    async with emulator(**settings) as (first, _, _), emulator(**settings) as (second, _, _):
        sequence = await _statuses(first)
        assert sequence == await _statuses(second)
        assert {200, 429, 500} <= set(sequence)
        # PUT /_emulator/faults restarts the seeded sequence; another seed gives another one.
        assert (await first.put("/_emulator/faults", json=settings, headers=AZURE_AUTH)).status_code == 200
        assert await _statuses(first) == sequence
        await first.put("/_emulator/faults", json={**settings, "seed": 8}, headers=AZURE_AUTH)
        assert await _statuses(first) != sequence


@pytest.mark.anyio
async def test_admin_routes_need_a_key_validate_faults_and_reset() -> None:
    async with emulator() as (client, _, _):
        assert (await client.get("/_emulator/health")).json() == {"status": "ok"}
        assert (await client.get("/_emulator/stats")).status_code == 401
        for body in ({"prompt": "a"}, {"prompt": "b", "model": "sora-2"}):
            prefix = "/v1" if "model" not in body else "/openai/v1"
            headers = OPENAI_AUTH if prefix == "/v1" else AZURE_AUTH
            assert (await client.post(f"{prefix}/videos", json=body, headers=headers)).status_code == 200
        counts = await stats(client)
        assert counts["creates"] == {"azure_videos": {"sora-2": 1}, "openai_videos": {"sora-2": 1}}
        assert counts["running"] == counts["creates"] and counts["jobs"] == 2

        bad = await client.put("/_emulator/faults", json={"rate_limit": 2}, headers=AZURE_AUTH)
        assert bad.status_code == 400
        assert "rate_limit" in bad.json()["error"]["message"]
        typo = await client.put("/_emulator/faults", json={"rate_limits": 0.5}, headers=AZURE_AUTH)
        assert typo.status_code == 400
        turned_on = await client.put("/_emulator/faults", json={"rate_limit": 1.0}, headers=AZURE_AUTH)
        assert turned_on.json()["rate_limit"] == 1.0
        assert (await client.get("/_emulator/faults", headers=AZURE_AUTH)).json()["rate_limit"] == 1.0
        assert (await client.get("/v1/videos", headers=OPENAI_AUTH)).status_code == 429

        reset = await client.post("/_emulator/reset", headers=AZURE_AUTH)
        assert reset.json() == {"reset": True, "jobs_dropped": 2}
        after = await stats(client)
        assert (after["jobs"], after["creates"], after["faults"]) == (0, {}, {})
