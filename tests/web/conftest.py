"""Web app fixtures: a time-scaled emulator, an app around an `AsyncStudio`, clients that keep every
response body they saw (the no-secrets check reads them all), and a live uvicorn server for SSE and
the browser.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sorastudio.catalog import Catalog
from sorastudio.emulator.config import EmulatorConfig
from sorastudio.emulator.server import running_server
from sorastudio.engine.clock import SystemClock
from sorastudio.engine.worker import WorkerSettings
from sorastudio.studio import AsyncStudio
from sorastudio.web import WebSettings, create_app

SCALE = 0.01  # a 1–5 minute emulated job takes ~1–3 s
FAST = WorkerSettings(idle=0.05, lease=5.0, grace=2.0)
EMULATOR_KEY = "emulator-key"
TEST_SECRET = "sk-web-test-7f3a9c2e5b1d4f60a8e2c9b7d5f3a1e0"  # added as a profile key by tests
SECRETS = (EMULATOR_KEY, TEST_SECRET)
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Seen:
    """Every response body the tests saw, to be searched for secrets."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()

    def add(self, what: str, body: bytes) -> None:
        with self.lock:
            self.bodies.append((what, body))

    def leaks(self) -> list[str]:
        with self.lock:
            return [
                f"{secret!r} in {what}"
                for what, body in self.bodies
                for secret in SECRETS
                if secret.encode() in body
            ]


@pytest.fixture
def seen() -> Iterator[Seen]:
    """Asserts at teardown that no response of the test contained a key."""
    record = Seen()
    yield record
    assert not record.leaks(), record.leaks()


class RecordingClient(TestClient):
    """A TestClient that records every response body and sends the CSRF token it was given."""

    seen: Seen
    csrf: str | None = None

    def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        if self.csrf and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRF-Token", self.csrf)
            kwargs["headers"] = headers
        response = super().request(method, url, **kwargs)
        self.seen.add(f"{method} {url}", response.content)
        return response

    def fetch_csrf(self) -> str:
        """Load a page (which also sets the session cookie) and keep its CSRF token for later requests."""
        match = CSRF_META.search(self.get("/settings").text)
        assert match, "the page has no csrf-token meta tag"
        self.csrf = match.group(1)
        return self.csrf


def emulator_config(**overrides: Any) -> EmulatorConfig:
    values: dict[str, Any] = {"time_scale": SCALE, "fps": 4} | overrides
    return EmulatorConfig(**values)


@pytest.fixture
def emulator() -> Iterator[Callable[..., str]]:
    """`emulator(**config)` starts an emulator on 127.0.0.1 and returns its URL (stopped after the test)."""
    managers: list[Any] = []

    def start(**overrides: Any) -> str:
        manager = running_server(emulator_config(**overrides))
        url = manager.__enter__()
        managers.append(manager)
        return url

    yield start
    for manager in reversed(managers):
        manager.__exit__(None, None, None)


def make_studio(emulator_url: str, scale: float = SCALE, catalog: Catalog | None = None) -> AsyncStudio:
    return AsyncStudio(
        emulator_url=emulator_url, clock=SystemClock(scale), worker_settings=FAST, catalog=catalog
    )


@pytest.fixture
def make_client(emulator: Callable[..., str], seen: Seen) -> Iterator[Callable[..., RecordingClient]]:
    """`make_client(**settings)`: a client for an app on a fresh emulator; csrf token pre-fetched."""
    clients: list[RecordingClient] = []

    def make(
        *,
        base_url: str = "http://127.0.0.1",
        csrf: bool = True,
        scale: float = SCALE,
        emulator_config: dict[str, Any] | None = None,
        catalog: Catalog | None = None,
        **settings: Any,
    ) -> RecordingClient:
        url = emulator(**(emulator_config or {}), time_scale=scale)
        app = create_app(make_studio(url, scale, catalog), settings=WebSettings(**settings))
        client = RecordingClient(app, base_url=base_url)
        client.seen = seen
        client.__enter__()
        clients.append(client)
        if csrf:
            client.fetch_csrf()
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)
        client.app.state.studio.store.close()  # type: ignore[attr-defined]


@pytest.fixture
def client(make_client: Callable[..., RecordingClient]) -> RecordingClient:
    return make_client()


def wait_done(client: TestClient, generation_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll the API until the generation is final (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(f"/api/generations/{generation_id}").json()
        if info["terminal"]:
            return info  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"generation {generation_id} did not finish in {timeout} s: {info}")


def create(client: TestClient, prompt: str, **fields: Any) -> dict[str, Any]:
    files = fields.pop("files", None)
    data = {"prompt": prompt} | {k: str(v) for k, v in fields.items()}
    response = client.post("/api/generations", data=data, files=files)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def api_session(base: str, seen: Seen) -> httpx.Client:
    """An httpx client for a live server, holding its session cookie and CSRF token; records bodies."""

    def record(response: httpx.Response) -> None:
        if "text/event-stream" not in response.headers.get("content-type", ""):
            response.read()
            seen.add(f"{response.request.method} {response.request.url}", response.content)

    client = httpx.Client(base_url=base, timeout=30, event_hooks={"response": [record]})
    match = CSRF_META.search(client.get("/create").text)
    assert match, "the page has no csrf-token meta tag"
    client.headers["X-CSRF-Token"] = match.group(1)
    return client


def wait_done_http(client: httpx.Client, generation_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info: dict[str, Any] = client.get(f"/api/generations/{generation_id}").json()
        if info["terminal"]:
            return info
        time.sleep(0.1)
    raise AssertionError(f"generation {generation_id} did not finish in {timeout} s")


class LiveServer:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=1)
        )
        self.thread = threading.Thread(target=self.server.run, name="web-server", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture
def live_server(emulator: Callable[..., str]) -> Iterator[Callable[..., tuple[str, FastAPI]]]:
    """`live_server(**settings)`: the app on uvicorn (127.0.0.1, free port) with its engine running."""
    servers: list[LiveServer] = []

    def start(*, scale: float = SCALE, **settings: Any) -> tuple[str, FastAPI]:
        url = emulator(time_scale=scale)
        app = create_app(make_studio(url, scale), settings=WebSettings(**settings))
        server = LiveServer(app)
        base = server.__enter__()
        servers.append(server)
        return base, app

    yield start
    for server in reversed(servers):
        server.__exit__()
        server.app.state.studio.store.close()
