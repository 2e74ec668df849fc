"""The `/videos` API: OpenAI native, Azure Sora 2 (`/openai/v1/videos`) and compatible servers.

Request format (the seed's "conditional formatting", Sora 2 branch): `size` "WxH" and `seconds` as a
string, sent as a multipart form — what current OpenAI SDKs send, so every server built for them
accepts it; an image goes in the same form as the `input_reference` file part (filename + type).
Remix is `POST /videos/{id}/remix {"prompt": …}`. Media: `GET /videos/{id}/content?variant=…`.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx

from sorastudio.domain import Mode, Status, VideoRequest
from sorastudio.errors import BadRequest, NotFound, ProviderError, ValidationError
from sorastudio.providers.base import (
    Asset,
    AssetKind,
    Capabilities,
    ImageInput,
    RemoteJob,
    dimensions,
    image_for,
    unix_time,
    wire_model,
)
from sorastudio.providers.download import download_file
from sorastudio.providers.endpoints import Endpoint
from sorastudio.providers.http import (
    ApiClient,
    CreateContext,
    Family,
    FormPart,
    parse_body,
    poll_hint_seconds,
)
from sorastudio.providers.retry import RetryPolicy, Sleep
from sorastudio.providers.videos_wire import (
    CreateVideoBody,
    Deleted,
    RemixBody,
    Video,
    VideoList,
    VideoStatus,
)

log = logging.getLogger(__name__)

STATUSES: dict[VideoStatus, Status] = {
    "queued": Status.QUEUED,
    "in_progress": Status.RUNNING,
    "completed": Status.COMPLETED,
    "failed": Status.FAILED,
}
_PAGE = 100
DEFAULT_CAPABILITIES = Capabilities(
    modes=frozenset({Mode.TEXT, Mode.IMAGE, Mode.REMIX}),
    max_variants=1,
    assets=("video", "thumbnail", "spritesheet"),
)


class VideosAPI:
    """Provider for one `/videos` endpoint. `capabilities` can be narrowed for a compatible server."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        auth: httpx.Auth | None = None,
        deployment: str | None = None,
        capabilities: Capabilities = DEFAULT_CAPABILITIES,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        family: Family = "azure" if endpoint.kind == "azure" else "openai"
        self.deployment = deployment or endpoint.deployment
        self.capabilities = capabilities
        self.api = ApiClient(
            endpoint,
            family,
            auth=auth,
            client=client,
            transport=transport,
            retry=retry,
            sleep=sleep,
            wall_clock=wall_clock,
            rng=rng,
        )

    async def __aenter__(self) -> VideosAPI:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.api.aclose()

    # -- translation -----------------------------------------------------------------------------

    def _job(self, wire: Video, headers: httpx.Headers | None = None) -> RemoteJob:
        status = STATUSES[wire.status]
        expired = wire.expires_at is not None and wire.expires_at <= self.api.wall_clock()
        if status is Status.COMPLETED and expired:
            status = Status.EXPIRED
        seconds = _seconds(wire.seconds)
        error = wire.error
        return RemoteJob(
            id=wire.id,
            status=status,
            raw_status=wire.status,
            progress=100 if wire.status == "completed" and wire.progress is None else wire.progress,
            created_at=unix_time(wire.created_at),
            finished_at=unix_time(wire.completed_at),
            expires_at=unix_time(wire.expires_at),
            model=wire.model,
            prompt=wire.prompt,
            size=wire.size,
            seconds=seconds,
            variants=1,
            generation_ids=(wire.id,),
            failure_reason=error.code if error else None,
            failure_message=error.message if error else None,
            remixed_from=wire.remixed_from_video_id,
            poll_hint=poll_hint_seconds(headers, now=self.api.wall_clock) if headers is not None else None,
        )

    def _require(self, mode: Mode) -> None:
        if mode not in self.capabilities.modes:
            allowed = sorted(m.value for m in self.capabilities.modes)
            raise ValidationError(
                f"mode={mode} is not offered by this server: choose {', '.join(allowed)}",
                field="mode",
                value=str(mode),
                allowed=allowed,
            )

    # -- operations ------------------------------------------------------------------------------

    async def submit(
        self, request: VideoRequest, *, image: ImageInput | None = None, model: str | None = None
    ) -> RemoteJob:
        self._require(request.mode)
        if request.mode is Mode.REMIX:
            if not request.remix_of:
                raise ValidationError("remix_of is missing: mode=remix needs a video id", field="remix_of")
            return await self.remix(request.remix_of, request.prompt, model=model)
        if request.variants != 1:
            raise ValidationError(
                f"variants={request.variants} is not offered by the /videos API: it makes 1 video per job",
                field="variants",
                value=request.variants,
                allowed=("1",),
            )
        width, height, seconds = dimensions(request)
        body = CreateVideoBody(
            prompt=request.prompt,
            model=wire_model(request, model, self.deployment),
            size=f"{width}x{height}",
            seconds=str(seconds),
        )
        files: list[FormPart] = list(body.form_fields())
        picture = image_for(request, image)
        if picture is not None:
            files.append(("input_reference", (picture.filename, picture.data, picture.mime_type)))
        context = CreateContext("create", request.prompt, body.model, body.size, seconds)
        response = await self.api.create("/videos", context, files=files)
        return self._job(parse_body(Video, response, "create video"), response.headers)

    async def remix(self, remote_id: str, prompt: str, *, model: str | None = None) -> RemoteJob:
        self._require(Mode.REMIX)
        context = CreateContext("remix", prompt, model, source_id=remote_id)
        response = await self.api.create(
            f"/videos/{remote_id}/remix", context, json_body=RemixBody(prompt=prompt).model_dump()
        )
        return self._job(parse_body(Video, response, "remix video"), response.headers)

    async def status(self, remote_id: str) -> RemoteJob:
        response = await self.api.read("GET", f"/videos/{remote_id}")
        return self._job(parse_body(Video, response, "video status"), response.headers)

    async def delete(self, remote_id: str) -> None:
        response = await self.api.read("DELETE", f"/videos/{remote_id}")
        if response.content.strip():
            answer = parse_body(Deleted, response, "delete video")
            if not answer.deleted:
                raise ProviderError(f"the server did not delete video {remote_id}", status_code=200)

    async def list(self, since: datetime | None = None, limit: int = 100) -> builtins.list[RemoteJob]:
        jobs: builtins.list[RemoteJob] = []
        after: str | None = None
        for _ in range(max(1, limit // _PAGE + 2)):  # bounded even if a server pages forever
            response = await self.api.read(
                "GET", "/videos", limit=min(_PAGE, limit), order="desc", after=after
            )
            page = parse_body(VideoList, response, "video list")
            for wire in page.data:
                job = self._job(wire)
                if since is not None and job.created_at is not None and job.created_at < since:
                    return jobs
                jobs.append(job)
                if len(jobs) >= limit:
                    return jobs
            if not page.has_more or not page.data:
                return jobs
            after = page.last_id or page.data[-1].id
        return jobs

    async def download(self, job: RemoteJob, directory: Path) -> builtins.list[Asset]:
        if job.status is not Status.COMPLETED:
            raise ValidationError(
                f"video {job.id} is {job.raw_status}, not completed: only a finished video can be downloaded",
                field="status",
                value=job.raw_status,
                allowed=("completed",),
            )
        assets: builtins.list[Asset] = []
        for kind in self.capabilities.assets:
            try:
                assets.append(await self._fetch(job.id, kind, directory))
            except (NotFound, BadRequest) as exc:
                if kind == "video":
                    raise
                # A server without thumbnails or spritesheets must not cost us the paid video.
                log.warning("no %s for %s: %s", kind, job.id, exc)
        return assets

    async def _fetch(self, video_id: str, kind: AssetKind, directory: Path) -> Asset:
        return await download_file(
            self.api,
            f"/videos/{video_id}/content",
            {"variant": kind},
            directory=directory,
            stem=video_id if kind == "video" else f"{video_id}.{kind}",
            kind=kind,
            variant=0,
            source_id=video_id,
        )


def _seconds(text: str | None) -> int | None:
    """`"4"` → 4; a null or odd value (compatible servers) → None rather than a crash."""
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


__all__ = ["DEFAULT_CAPABILITIES", "STATUSES", "VideosAPI"]
