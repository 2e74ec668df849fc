"""Azure OpenAI Sora 1: the preview jobs API at `{resource}/openai/v1/video/generations/…` (spec §4).

Request format (the seed's "conditional formatting", Sora 1 branch): separate `width`/`height`,
`n_seconds`, `n_variants`, `model` = the deployment name. Text → JSON body; image → multipart with the
image as a `files` part and `inpaint_items` as a JSON string placing it at frame 0.
A job has one generation per variant; each has its own video and thumbnail.
"""

from __future__ import annotations

import asyncio
import builtins
import random
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx

from sorastudio.domain import Mode, Status, VideoRequest
from sorastudio.errors import ValidationError
from sorastudio.providers.base import (
    Asset,
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
    FormPart,
    parse_body,
    poll_hint_seconds,
)
from sorastudio.providers.retry import RetryPolicy, Sleep
from sorastudio.providers.sora1_wire import (
    CreateVideoGenerationRequest,
    InpaintItem,
    JobStatus,
    VideoGenerationJob,
    VideoGenerationJobList,
)

STATUSES: dict[JobStatus, Status] = {
    "queued": Status.QUEUED,
    "preprocessing": Status.PREPROCESSING,
    "running": Status.RUNNING,
    "processing": Status.RUNNING,  # post-processing of the rendered clip; still working for us
    "succeeded": Status.COMPLETED,
    "failed": Status.FAILED,
    "cancelled": Status.CANCELLED,
}
_JOBS = "/video/generations/jobs"
_PAGE = 100


class AzureSora1:
    """Provider for the Sora 1 jobs API of one Azure resource."""

    capabilities = Capabilities(
        modes=frozenset({Mode.TEXT, Mode.IMAGE}),
        max_variants=4,
        assets=("video", "thumbnail"),
    )

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        auth: httpx.Auth | None = None,
        deployment: str | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.deployment = deployment or endpoint.deployment
        self.api = ApiClient(
            endpoint,
            "azure",
            auth=auth,
            client=client,
            transport=transport,
            retry=retry,
            sleep=sleep,
            wall_clock=wall_clock,
            rng=rng,
        )

    async def __aenter__(self) -> AzureSora1:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.api.aclose()

    # -- translation -----------------------------------------------------------------------------

    def _job(self, wire: VideoGenerationJob, headers: httpx.Headers | None = None) -> RemoteJob:
        status = STATUSES[wire.status]
        expires_at = unix_time(wire.expires_at)
        if (
            status is Status.COMPLETED
            and wire.expires_at is not None
            and wire.expires_at <= self.api.wall_clock()
        ):
            status = Status.EXPIRED
        width, height = wire.width, wire.height
        return RemoteJob(
            id=wire.id,
            status=status,
            raw_status=wire.status,
            # Sora 1 reports no progress; the phases carry it.
            progress=100 if status is Status.COMPLETED else None,
            created_at=unix_time(wire.created_at),
            finished_at=unix_time(wire.finished_at),
            expires_at=expires_at,
            model=wire.model,
            prompt=wire.prompt,
            size=f"{width}x{height}" if width and height else None,
            seconds=wire.n_seconds,
            variants=wire.n_variants or max(1, len(wire.generations or ())),
            generation_ids=tuple(g.id for g in wire.generations or ()),
            failure_reason=wire.failure_reason,
            failure_message=_failure_message(wire.failure_reason) if wire.status == "failed" else None,
            poll_hint=poll_hint_seconds(headers, now=self.api.wall_clock) if headers is not None else None,
        )

    # -- operations ------------------------------------------------------------------------------

    async def submit(
        self, request: VideoRequest, *, image: ImageInput | None = None, model: str | None = None
    ) -> RemoteJob:
        if request.mode is Mode.REMIX:
            raise ValidationError(
                "mode=remix is not offered by the Sora 1 jobs API: use a Sora 2 model",
                field="mode",
                value="remix",
                allowed=("text", "image"),
            )
        width, height, seconds = dimensions(request)
        body = CreateVideoGenerationRequest(
            model=wire_model(request, model, self.deployment),
            prompt=request.prompt,
            width=width,
            height=height,
            n_seconds=seconds,
            n_variants=request.variants,
        )
        context = CreateContext("create", request.prompt, body.model, request.size, seconds)
        picture = image_for(request, image)
        if picture is None:
            response = await self.api.create(_JOBS, context, json_body=body.model_dump())
        else:
            item = InpaintItem(frame_index=0, type="image", file_name=picture.filename)
            files: list[FormPart] = [
                *body.form_fields([item]),
                ("files", (picture.filename, picture.data, picture.mime_type)),
            ]
            response = await self.api.create(_JOBS, context, files=files)
        return self._job(parse_body(VideoGenerationJob, response, "create job"), response.headers)

    async def status(self, remote_id: str) -> RemoteJob:
        response = await self.api.read("GET", f"{_JOBS}/{remote_id}")
        return self._job(parse_body(VideoGenerationJob, response, "job status"), response.headers)

    async def remix(self, remote_id: str, prompt: str, *, model: str | None = None) -> RemoteJob:
        raise ValidationError(
            "remix is not offered by the Sora 1 jobs API: use a Sora 2 model",
            field="mode",
            value="remix",
            allowed=("text", "image"),
        )

    async def delete(self, remote_id: str) -> None:
        await self.api.read("DELETE", f"{_JOBS}/{remote_id}")

    async def list(self, since: datetime | None = None, limit: int = 100) -> builtins.list[RemoteJob]:
        jobs: builtins.list[RemoteJob] = []
        after: str | None = None
        for _ in range(max(1, limit // _PAGE + 2)):  # bounded even if a server pages forever
            response = await self.api.read("GET", _JOBS, limit=min(_PAGE, limit), after=after)
            page = parse_body(VideoGenerationJobList, response, "job list")
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
                f"job {job.id} is {job.raw_status}, not succeeded: only a finished job can be downloaded",
                field="status",
                value=job.raw_status,
                allowed=("succeeded",),
            )
        generations = job.generation_ids or (await self.status(job.id)).generation_ids
        assets: builtins.list[Asset] = []
        for index, generation_id in enumerate(generations):
            for kind, tail in (("video", "video"), ("thumbnail", "thumbnail")):
                stem = f"{job.id}.v{index}" + ("" if kind == "video" else ".thumbnail")
                assets.append(
                    await download_file(
                        self.api,
                        f"/video/generations/{generation_id}/content/{tail}",
                        {},
                        directory=directory,
                        stem=stem,
                        kind="video" if kind == "video" else "thumbnail",
                        variant=index,
                        source_id=generation_id,
                    )
                )
        return assets


def _failure_message(reason: str | None) -> str:
    return {
        "input_moderation": "the prompt or input image was blocked by content moderation",
        "output_moderation": "the generated video was blocked by content moderation",
        "internal_error": "the service failed while generating (internal error); trying again may work",
    }.get(reason or "", f"the job failed ({reason or 'no reason given'})")


__all__ = ["STATUSES", "AzureSora1"]
