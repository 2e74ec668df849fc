"""Provider tests reach the emulator in process (`httpx.ASGITransport`) with a manual clock.

The providers' injected `sleep` advances that clock instead of waiting, so a job of several emulated
minutes finishes in a few real seconds (the rendering time); every sleep is recorded for assertions.
"""

from __future__ import annotations

import email.policy
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from fastapi import FastAPI

from sorastudio.emulator.app import create_app
from sorastudio.emulator.clock import ManualClock
from sorastudio.emulator.config import EmulatorConfig, Faults
from sorastudio.emulator.state import EmulatorState
from sorastudio.providers.auth import ApiKeyHeader, BearerKey
from sorastudio.providers.azure_sora1 import AzureSora1
from sorastudio.providers.endpoints import normalize_endpoint
from sorastudio.providers.videos_api import VideosAPI

KEY = "emulator-key"


class Recording(httpx.AsyncBaseTransport):
    """Keeps every request (body read) before handing it to the emulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport, log: list[httpx.Request]) -> None:
        self.inner = inner
        self.log = log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.log.append(request)
        return await self.inner.handle_async_request(request)


@dataclass
class Emulator:
    app: FastAPI
    clock: ManualClock
    sleeps: list[float] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    # Called (once) at the next sleep: lets a test lift a fault "while the client waits".
    on_sleep: Callable[[], Awaitable[None] | None] | None = None

    @property
    def state(self) -> EmulatorState:
        state: EmulatorState = self.app.state.emulator
        return state

    def faults(self, **settings: Any) -> None:
        self.app.state.faults.replace(Faults(**settings))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)
        hook, self.on_sleep = self.on_sleep, None
        if hook is not None:
            result = hook()
            if result is not None:
                await result

    def transport(self) -> httpx.AsyncBaseTransport:
        return Recording(httpx.ASGITransport(app=self.app), self.requests)

    def sora1(self, **kwargs: Any) -> AzureSora1:
        endpoint = normalize_endpoint("http://emulator.openai.azure.com/openai/v1", api="azure_sora1")
        return AzureSora1(
            endpoint,
            auth=ApiKeyHeader(KEY),
            deployment="sora",
            transport=self.transport(),
            sleep=self.sleep,
            wall_clock=self.clock.now,
            **kwargs,
        )

    def azure_videos(self, deployment: str = "sora-2", **kwargs: Any) -> VideosAPI:
        endpoint = normalize_endpoint("https://emulator.openai.azure.com/openai/v1/", api="azure_videos")
        return VideosAPI(
            endpoint,
            auth=ApiKeyHeader(KEY),
            deployment=deployment,
            transport=self.transport(),
            sleep=self.sleep,
            wall_clock=self.clock.now,
            **kwargs,
        )

    def openai(self, url: str = "https://api.openai.com/v1", **kwargs: Any) -> VideosAPI:
        return VideosAPI(
            normalize_endpoint(url),
            auth=BearerKey(KEY),
            transport=self.transport(),
            sleep=self.sleep,
            wall_clock=self.clock.now,
            **kwargs,
        )


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    clock = ManualClock()
    app = create_app(EmulatorConfig(), clock=clock)
    async with app.router.lifespan_context(app):
        yield Emulator(app, clock)


@dataclass(frozen=True)
class Probe:
    codec: str
    width: int
    height: int
    seconds: float
    audio: bool


def probe(path: Path) -> Probe:
    """What PyAV reads from a downloaded MP4."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        return Probe(
            codec=stream.codec_context.name,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            seconds=float(stream.duration * stream.time_base),
            audio=bool(container.streams.audio),
        )


@dataclass(frozen=True)
class Part:
    value: bytes
    filename: str | None
    content_type: str


def form_of(request: httpx.Request) -> dict[str, Part]:
    """The parts of a multipart/form-data request, by name."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    assert message.is_multipart(), request.headers["content-type"]
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts[str(name)] = Part(payload, part.get_filename(), part.get_content_type())
    return parts
