"""`/api/events`: Server-Sent Events of generation events (status, progress, the seed's messages).

One stream per page; it reads new rows of `generation_events` (the engine writes them in the same
transaction as each status change), so any number of engine processes feed it. `Last-Event-ID` (sent
by the browser on reconnect) or `?after=` resumes without gaps; without either the stream starts at
"now". A stream ends after `sse_max_seconds` and the browser reconnects on its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from sorastudio.studio import AsyncStudio
from sorastudio.web import reads
from sorastudio.web.deps import SettingsDep, StudioDep
from sorastudio.web.services import read

router = APIRouter(tags=["events"])
KEEPALIVE_SECONDS = 15.0


@router.get(
    "/api/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`event: generation` per event"}},
)
async def events(
    request: Request,
    studio: StudioDep,
    settings: SettingsDep,
    generation_id: Annotated[str | None, Query(description="only this generation's events")] = None,
    after: Annotated[int | None, Query(ge=0, description="resume after this event id")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    start = after
    if start is None and last_event_id and last_event_id.isdigit():
        start = int(last_event_id)
    if start is None:
        start = await read(studio, reads.latest_event_id)
    return StreamingResponse(
        _stream(request, studio, settings.sse_poll_seconds, settings.sse_max_seconds, start, generation_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    request: Request,
    studio: AsyncStudio,
    poll: float,
    lifetime: float,
    last: int,
    generation_id: str | None,
) -> AsyncIterator[str]:
    yield f"retry: 2000\nid: {last}\n\n"
    deadline = time.monotonic() + lifetime
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and not await request.is_disconnected():
        news = await read(studio, reads.events_after, last, generation_id=generation_id)
        for event in news:
            last = event.id
            data = json.dumps(event.model_dump(mode="json"))
            yield f"id: {event.id}\nevent: generation\ndata: {data}\n\n"
        if news:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            quiet_since = time.monotonic()
            yield ": keep-alive\n\n"  # proxies close silent connections
        await anyio.sleep(poll)
