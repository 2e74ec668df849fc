"""Fault injection: a pure ASGI middleware driven by `config.faults` and a seeded RNG.

Every eligible request (API routes, filtered by `faults.paths` / `faults.methods`; never
`/_emulator/*`) draws the same number of random values, so one seed and one request sequence
always give the same faults. At most one fault per request, checked in this order:

- `rate_limit`        429 in the route family's envelope, with `Retry-After` / `retry-after-ms`
                      (`rate_limit_retry_after` emulated seconds, scaled by `time_scale`).
- `server_error`      500 in the family's envelope; the request is not executed.
- `drop_connection`   the request IS executed (a create really creates), then the response head
                      (with Content-Length) is sent and the connection closed without a body —
                      the nastiest case for clients: the work happened but they never learn of it.
                      (Needs a real server; in process the client sees an empty body.)
- `truncate_download` content routes only: half of the declared Content-Length, then close.
- `json_on_content`   content routes only: a JSON error document instead of the media, with status
                      `json_on_content_status` (default 200: what a misbehaving CDN or proxy does, and
                      what a client that trusts the status code will save as a "video").
- `slow`              the response is delayed by `slow_seconds` of *real* time (not scaled): it
                      exercises client timeouts, which are wall-clock.

"404 on status right after create" is not drawn here: `state.hidden_after_create` answers it in the
routes, from `faults.not_found_after_create_seconds`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Faults
from .errors import retry_headers
from .families import (
    content_unavailable,
    is_content_path,
    rate_limited,
    route_family,
    server_error,
)
from .state import EmulatorState

FaultKind = Literal[
    "rate_limit", "server_error", "drop_connection", "truncate_download", "json_on_content", "slow"
]
_ORDER: tuple[FaultKind, ...] = (
    "rate_limit",
    "server_error",
    "drop_connection",
    "truncate_download",
    "json_on_content",
    "slow",
)
_CONTENT_ONLY = {"truncate_download", "json_on_content"}


class FaultPlan:
    """The seeded sequence of faults; shared by the middleware and the admin routes (reseed)."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.reseed()

    @property
    def faults(self) -> Faults:
        return self.state.config.faults

    def reseed(self) -> None:
        self._rng = random.Random(self.faults.seed)

    def replace(self, faults: Faults) -> None:
        self.state.config.faults = faults
        self.reseed()

    def draw(self, method: str, path: str) -> FaultKind | None:
        faults = self.faults
        if route_family(path) in ("admin", "other"):
            return None
        if faults.paths and not any(p in path for p in faults.paths):
            return None
        if faults.methods and method.upper() not in {m.upper() for m in faults.methods}:
            return None
        draws = [self._rng.random() for _ in _ORDER]
        content = is_content_path(path)
        for kind, value in zip(_ORDER, draws, strict=True):
            if kind in _CONTENT_ONLY and not content:
                continue
            if value < getattr(faults, kind):
                return kind
        return None


class FaultMiddleware:
    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        kind = self.plan.draw(scope["method"], path)
        if kind is None:
            await self.app(scope, receive, send)
            return
        self.plan.state.fault_counts[kind] += 1
        faults = self.plan.faults
        family = route_family(path)
        if kind == "rate_limit":
            wait = self.plan.state.config.scaled(faults.rate_limit_retry_after)
            headers = retry_headers(wait)
            await _send_json(send, 429, rate_limited(family, int(headers["retry-after"])), headers)
        elif kind == "server_error":
            await _send_json(send, 500, server_error(family))
        elif kind == "json_on_content":
            await _send_json(send, faults.json_on_content_status, content_unavailable(family))
        elif kind == "slow":
            await asyncio.sleep(faults.slow_seconds)
            await self.app(scope, receive, send)
        elif kind == "drop_connection":
            await self.app(scope, receive, _Cut(send, keep_fraction=0.0))
        else:
            await self.app(scope, receive, _Cut(send, keep_fraction=0.5))


class InjectedDisconnect(Exception):
    """Raised out of the app when the server refuses a short body: uvicorn then closes the connection."""


class _Cut:
    """Forwards the response head and the first `keep_fraction` of the body, then ends the body early.

    Against uvicorn the early end breaks the declared Content-Length, so the server closes the
    connection: the client reads fewer bytes than announced, then a broken connection. In process
    (httpx.ASGITransport, which cannot break a connection) the client gets the short body with the
    full Content-Length — still detectable, as a real truncated download is.
    """

    def __init__(self, send: Send, keep_fraction: float) -> None:
        self._send = send
        self._fraction = keep_fraction
        self._left = 0
        self._ended = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._left = int(_content_length(message) * self._fraction)
            await self._send(message)
            return
        if message["type"] != "http.response.body" or self._ended:
            return
        chunk: bytes = message.get("body", b"")[: self._left]
        self._left -= len(chunk)
        if self._left > 0 and message.get("more_body", False):
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
            return
        self._ended = True
        try:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": False})
        except Exception as exc:
            raise InjectedDisconnect("injected fault: response cut short") from exc


class _QuietInjected(logging.Filter):
    """uvicorn logs an app exception with a traceback; for an injected cut, one line is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], InjectedDisconnect):
            record.msg, record.args, record.exc_info = (
                "Injected fault: connection closed mid-response",
                (),
                None,
            )
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


logging.getLogger("uvicorn.error").addFilter(_QuietInjected())


def _content_length(message: Message) -> int:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-length":
            return int(value)
    return 0


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((k.encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
