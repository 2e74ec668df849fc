"""A 404 while downloading a paid video: retried until its expiry, expired only on proof it is gone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from sorastudio.domain import Status
from sorastudio.emulator.app import create_app
from sorastudio.emulator.server import running_server
from sorastudio.engine.retry import Action, RetryPolicy, backoff, decide
from sorastudio.errors import NotFound
from sorastudio.studio import AsyncStudio
from tests.engine.conftest import FAST_SETTINGS, add_sora1_profile, emulator_config, fast_clock

POLICY = RetryPolicy(base_delay=2, max_delay=60, missing_video_tries=4)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MISSING = NotFound("the provider answered 404 Not Found: The requested resource was not found.")


def test_404_before_the_expiry_is_retried_with_back_off() -> None:
    for attempts in (0, 3, 50):
        decision = decide(
            MISSING, attempts, "download", POLICY, now=NOW, expires_at=NOW + timedelta(hours=20)
        )
        assert decision.action is Action.RETRY
        assert decision.delay == backoff(attempts, POLICY)
        assert "2026-03-02 08:00:00" in decision.reason  # says how long the video is kept


def test_404_after_the_expiry_expires() -> None:
    for expires_at in (NOW, NOW - timedelta(seconds=1)):
        decision = decide(MISSING, 0, "download", POLICY, now=NOW, expires_at=expires_at)
        assert decision.action is Action.EXPIRE
        assert "expired at" in decision.reason and "404" in decision.reason


def test_404_saying_expired_expires_even_before_the_expiry() -> None:
    said = NotFound("Video 'video_1' has expired: its content was available until 12:00.")
    decision = decide(said, 0, "download", POLICY, now=NOW, expires_at=NOW + timedelta(hours=20))
    assert decision.action is Action.EXPIRE and "the provider says the video expired" in decision.reason


def test_404_with_an_unknown_expiry_is_retried_a_bounded_number_of_times() -> None:
    tries = [decide(MISSING, attempts, "download", POLICY).action for attempts in range(4)]
    assert tries == [Action.RETRY, Action.RETRY, Action.RETRY, Action.EXPIRE]


class FirstContentMissing:
    """Answers the first `count` content downloads with Azure's 404, as a not-yet-synced replica might."""

    def __init__(self, app: ASGIApp, count: int) -> None:
        self.app = app
        self.left = count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/content" in scope["path"] and self.left > 0:
            self.left -= 1
            body = json.dumps({"error": {"code": "NotFound", "message": "Resource not found."}}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


@pytest.fixture
def flaky_content() -> Iterator[str]:
    app = create_app(emulator_config())
    app.add_middleware(FirstContentMissing, count=2)
    with running_server(app=app) as url:
        yield url


@pytest.mark.anyio
async def test_a_passing_404_on_download_does_not_expire_a_paid_video(flaky_content: str) -> None:
    studio = AsyncStudio(emulator_url=flaky_content, clock=fast_clock(), worker_settings=FAST_SETTINGS)
    add_sora1_profile(studio.store, flaky_content)
    try:
        handle = await studio.generate("a quay at dawn", size="480x480", seconds=1, profile="sora1")
        result = await handle.wait(timeout=60)
        assert result.status is Status.COMPLETED, result.error
        assert result.paths and result.paths[0].is_file()
        events = await studio.events(handle.id)
        assert any("did not find the video" in (e.message or "") for e in events)
    finally:
        await studio.aclose()
