"""Run the emulator with uvicorn: in the foreground (`serve`) or in a background thread (`running_server`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from .app import create_app
from .config import EmulatorConfig

_START_TIMEOUT = 15.0


def serve(config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 8089) -> None:
    """Serve until interrupted (Ctrl-C)."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")


@contextmanager
def running_server(
    config: EmulatorConfig | None = None, port: int = 0, *, app: FastAPI | None = None
) -> Iterator[str]:
    """Start uvicorn on 127.0.0.1 in a thread (port 0 = a free one); yield its base URL, e.g.
    `http://127.0.0.1:54321`; stop it on exit. Pass `app` to reach its state from the test."""
    app = app or create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="emulator-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            raise RuntimeError("the emulator server did not start")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        thread.join(_START_TIMEOUT)
