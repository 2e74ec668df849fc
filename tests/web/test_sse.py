"""The event stream on a real server: a generation's events arrive live, in order, resumable."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from tests.web.conftest import Seen, api_session

TERMINAL = {"completed", "failed", "cancelled", "expired"}


def read_events(
    response: httpx.Response, until: Callable[[dict[str, Any]], bool], timeout: float, raw: list[str]
) -> list[dict[str, Any]]:
    """Parse `event: generation` messages until `until(event)` is true (bounded by `timeout`); every
    line read is appended to `raw` (searched for keys)."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    message: dict[str, str] = {}
    for line in response.iter_lines():
        raw.append(line)
        if time.monotonic() > deadline:
            break
        if line == "":
            if message.get("event") == "generation":
                event = json.loads(message["data"]) | {"sse_id": int(message["id"])}
                events.append(event)
                if until(event):
                    break
            message = {}
            continue
        key, _, value = line.partition(":")
        message[key] = value.strip()
    return events


def test_events_stream_live_and_resume(live_server: Callable[..., tuple[str, FastAPI]], seen: Seen) -> None:
    base, _ = live_server()
    client = api_session(base, seen)
    received: list[dict[str, Any]] = []
    raw: list[str] = []

    def listen() -> None:
        with client.stream("GET", "/api/events", timeout=30) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            received.extend(read_events(response, lambda e: e["status"] in TERMINAL, timeout=30, raw=raw))

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.5)  # the stream starts at "now": subscribe before creating
    created = client.post("/api/generations", data={"prompt": "a comet over the sea", "seconds": "4"})
    assert created.status_code == 201, created.text
    listener.join(40)
    seen.add("SSE /api/events", "\n".join(raw).encode())

    statuses = [e["status"] for e in received]
    assert statuses[0] == "queued" and statuses[-1] == "completed", statuses
    assert "running" in statuses
    assert all(e["generation_id"] == created.json()["id"] for e in received)
    ids = [e["sse_id"] for e in received]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    messages = {e["message"] for e in received}
    assert {"Job queued...", "Generating video..."} <= messages  # the seed's status messages

    # Reconnecting with Last-Event-ID replays exactly what came after it.
    with client.stream("GET", "/api/events", headers={"Last-Event-ID": str(ids[0])}) as response:
        replay = read_events(response, lambda e: e["sse_id"] == ids[-1], timeout=10, raw=raw)
    seen.add("SSE replay", "\n".join(raw).encode())
    assert [e["sse_id"] for e in replay] == ids[1:]
    client.close()
