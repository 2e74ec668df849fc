"""Engine tests run a real emulator (uvicorn on 127.0.0.1 in a thread), time-scaled so a job takes ~1 s.

`EmulatorRun` exposes the emulator's state for assertions (create times, running jobs) and counts
every response status by route through a small ASGI middleware (429s included).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sorastudio.emulator.app import create_app
from sorastudio.emulator.config import Deployment, EmulatorConfig
from sorastudio.emulator.jobs import Job
from sorastudio.emulator.server import running_server
from sorastudio.engine.clock import SystemClock
from sorastudio.engine.worker import WorkerSettings
from sorastudio.store.db import Store, open_store
from sorastudio.store.models import ApiKind
from sorastudio.store.profiles import add_profile
from tests.store.conftest import BACKENDS, POSTGRES_URL_ENV
from tests.store.conftest import _postgres_schema_url as postgres_schema_url

SCALE = 0.01  # a Sora 1 480x480 1 s job: 60 emulated s → 0.6 real s
KEY = "emulator-key"


class StatusCounter:
    """ASGI middleware counting (method, path kind, status) of every API response."""

    def __init__(self, app: ASGIApp, counts: Counter[tuple[str, str, int]], lock: threading.Lock) -> None:
        self.app = app
        self.counts = counts
        self.lock = lock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                with self.lock:
                    self.counts[(scope["method"], _kind(scope["path"]), message["status"])] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


def _kind(path: str) -> str:
    if path.startswith("/_emulator"):
        return "admin"
    if "/content" in path:
        return "content"
    parts = [p for p in path.split("/") if p]
    return "item" if parts and parts[-1] not in ("jobs", "videos") else "collection"


@dataclass
class EmulatorRun:
    url: str
    app: FastAPI
    counts: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    @property
    def jobs(self) -> list[Job]:
        return self.app.state.emulator.store.all()

    @property
    def create_count(self) -> int:
        return int(self.app.state.emulator.store.create_count)

    def running(self) -> int:
        now = self.app.state.emulator.clock.now()
        return sum(1 for job in self.jobs if not job.phase(now).terminal)

    def responses(self, method: str, kind: str, status: int) -> int:
        return self.counts[(method, kind, status)]


def emulator_config(**overrides: Any) -> EmulatorConfig:
    sora1 = Deployment(
        name="sora",
        model="sora",
        running_cap=2,
        creates_per_minute=int(overrides.pop("sora_creates_per_minute", 0)),
    )
    base: dict[str, Any] = {
        "time_scale": SCALE,
        "fps": 4,
        "deployments": [
            sora1,
            Deployment(name="sora-2", model="sora-2", running_cap=2, creates_per_minute=2),
            Deployment(name="sora-2-pro", model="sora-2-pro", running_cap=2, creates_per_minute=2),
        ],
    }
    base.update(overrides)
    return EmulatorConfig(**base)


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., EmulatorRun]]:
    """Start an emulator with `emulator_config(**overrides)`; stopped at the end of the test."""
    stack: list[Any] = []

    def start(**overrides: Any) -> EmulatorRun:
        app = create_app(emulator_config(**overrides))
        counts: Counter[tuple[str, str, int]] = Counter()
        app.add_middleware(StatusCounter, counts=counts, lock=threading.Lock())
        manager = running_server(app=app)
        url = manager.__enter__()
        stack.append(manager)
        return EmulatorRun(url=url, app=app, counts=counts)

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database on each configured backend (PostgreSQL when SORASTUDIO_TEST_POSTGRES_URL is set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'engine.db'}"
        return
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_URL_ENV}")
    yield from postgres_schema_url(base)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.close()


def add_sora1_profile(store: Store, url: str, name: str = "sora1", **limits: int) -> int:
    """A Sora 1 profile on the emulator (480x480 1 s jobs are the cheapest to render)."""
    with store.write() as session:
        info = add_profile(
            session,
            name,
            api_kind=ApiKind.AZURE_SORA1,
            endpoint=url,
            api_key=KEY,
            deployment="sora",
            model="sora",
            running_cap=limits.get("running_cap", 2),
            creates_per_minute=limits.get("creates_per_minute", 0),
        )
    return info.id


def fast_clock() -> SystemClock:
    return SystemClock(SCALE)


FAST_SETTINGS = WorkerSettings(idle=0.05, lease=5.0, grace=2.0, resend_after=1.0)
