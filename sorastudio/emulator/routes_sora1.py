"""Azure OpenAI Sora 1 video generation jobs API (preview), mounted at `/openai/v1`.

Routes (spec §4.1): create, list, get and delete jobs; get a generation; its video (GET/HEAD,
`quality=high|low`) and JPEG thumbnail. Every route takes `api-key` or `Authorization: Bearer` and
`api-version` absent, `v1` or `preview`. Request validation and bodies live in `sora1_wire.py`.

Behaviour the service leaves open, decided here:
- List order is newest first. `after=<id>` returns the jobs older than that job (OpenAI cursor
  semantics, so `after=last_id` pages on); `before=<id>` the `limit` jobs just newer than it, still
  newest first, with `has_more` telling whether even newer ones exist. An id that is not a job → 400.
  `statuses` is comma-separated (repeating the parameter also works); `limit` is 1–100, default 10.
- Delete removes the job whatever its state. A job still running is cancelled: its running-cap slot
  frees at once and its render is discarded. The API has no cancel endpoint, so `cancelled` is never
  seen on the wire.
- A succeeded job expires `expiry_seconds` (24 h, scaled) after creation; the service "automatically
  deletes" it, so from then on the job, its generations and their content answer 404 saying it expired.
- Generations and their content exist once the job has succeeded (the job lists them only then).
  Before that they answer 400 with code `video_not_ready` (as `/videos` content does; retrying later
  helps); after a failure 404 naming the `failure_reason` (the generation never came to exist).
- `apim-request-id` is added to every response by the app's middleware. Error `type`s follow the rule
  in `sora1_wire.py`: `invalid_request_error` for bad fields, `video_generation_user_error` for state.
- The thumbnail is sent as `image/jpeg`, the registered MIME type that browsers and HTTP clients know;
  the OpenAPI document's `image/jpg` is not a registered type and no live response shows it is sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from .auth import check_api_version, check_azure
from .errors import ApiError, azure_user_error, deployment_not_found, envelope, invalid_request
from .jobs import Generation, Job, Phase
from .media import MediaUnavailable
from .sora1_wire import MAX_FILE_BYTES, UploadedFile, generation_body, job_body, list_body, parse_create
from .state import EmulatorState, MediaKind

SURFACE: Final = "sora1"
DEFAULT_LIMIT: Final = 10
MAX_LIMIT: Final = 100
QUALITIES: Final = ("high", "low")
STATUSES: Final = tuple(phase.value for phase in Phase)
# Ids of deleted and expired jobs/generations, so a 404 can say why; bounded, oldest dropped first.
MAX_TOMBSTONES: Final = 10_000


def router(state: EmulatorState) -> APIRouter:
    """The Sora 1 routes over `state`, relative to `/openai/v1`."""
    config = state.config

    async def guard(request: Request) -> None:
        check_azure(request, config.keys)
        check_api_version(request)

    api = APIRouter(dependencies=[Depends(guard)], tags=["Azure Sora 1 jobs"])
    gone: dict[str, str] = {}

    def forget(job: Job, why: str) -> None:
        state.media.discard(job)
        state.store.delete(job)
        gone[job.id] = f"Video generation job '{job.id}' {why}."
        for gen in job.generations:
            gone[gen.id] = f"Video generation '{gen.id}' is gone: its job '{job.id}' {why}."
        while len(gone) > MAX_TOMBSTONES:
            del gone[next(iter(gone))]

    def sweep() -> float:
        """Delete expired jobs (the service does so automatically); return the current time."""
        now = state.clock.now()
        for job in state.store.list(SURFACE):
            expires = job.expires_at(now)
            if expires is not None and now >= expires:
                forget(job, f"expired at {_iso(expires)} and was deleted with its videos")
        return now

    def find_job(job_id: str) -> Job:
        job = state.store.get(job_id, SURFACE)
        if job is None:
            raise _not_found(gone.get(job_id) or f"Video generation job '{job_id}' not found.")
        return job

    def ready_generation(generation_id: str) -> tuple[Job, Generation]:
        sweep()
        found = state.store.generation(generation_id)
        if found is None or found[0].surface != SURFACE:
            raise _not_found(gone.get(generation_id) or f"Video generation '{generation_id}' not found.")
        job, gen = found
        phase = job.phase(state.clock.now())
        if phase is Phase.SUCCEEDED:
            return job, gen
        if phase is Phase.FAILED:
            raise _not_found(
                f"Video generation '{generation_id}' has no content: its job '{job.id}' failed "
                f"(failure_reason: {job.failure_reason})."
            )
        if phase is Phase.CANCELLED:
            raise _not_found(f"Video generation '{generation_id}' has no content: its job was cancelled.")
        raise ApiError(
            400,
            envelope(
                f"Video generation '{generation_id}' is not ready: its job '{job.id}' is "
                f"'{phase.value}'. Its content can be read once the job status is 'succeeded'.",
                "video_generation_user_error",
                code="video_not_ready",
            ),
        )

    async def media_file(job: Job, gen: Generation, kind: MediaKind) -> Path:
        try:
            return await state.media.path(job, gen, kind)
        except MediaUnavailable:
            # Deleted while this request waited for the render.
            raise _not_found(gone.get(gen.id) or f"Video generation '{gen.id}' not found.") from None

    @api.post("/video/generations/jobs")
    async def create_job(request: Request) -> Response:
        fields, files = await _read_create_body(request)
        wanted = parse_create(fields, files, fps=config.fps)
        deployment = config.deployment(wanted.model)
        if deployment is None:
            raise deployment_not_found(wanted.model)
        if deployment.api != SURFACE:
            raise ApiError(
                400,
                envelope(
                    f"The deployment '{deployment.name}' runs model '{deployment.model}', which does not "
                    "serve the video generation jobs API: use POST /openai/v1/videos for Sora 2 "
                    "deployments.",
                    "video_generation_user_error",
                    param="model",
                ),
            )
        sweep()
        job = state.store.create(
            SURFACE,
            deployment,
            wanted.prompt,
            wanted.width,
            wanted.height,
            wanted.n_seconds,
            wanted.n_variants,
            image=wanted.image,
            image_frame_index=wanted.image_frame_index,
            inpaint_items=wanted.inpaint_items,
        )
        state.media.start(job)
        return _json(job_body(job, state.clock.now()))

    @api.get("/video/generations/jobs")
    async def list_jobs(request: Request) -> Response:
        query = request.query_params
        limit = _limit(query.get("limit"))
        statuses = _statuses(query.getlist("statuses"))
        now = sweep()
        jobs = state.store.list(SURFACE)
        ids = [job.id for job in jobs]

        def position(name: str) -> int | None:
            cursor = query.get(name)
            if not cursor:
                return None
            if cursor not in ids:
                why = gone.get(cursor) or f"No video generation job has the id '{cursor}'."
                raise invalid_request(
                    f"Invalid value for '{name}': '{cursor}' is not a listable job. {why}", param=name
                )
            return ids.index(cursor)

        after, before = position("after"), position("before")
        window = jobs[(after + 1 if after is not None else 0) : before]
        if statuses:
            window = [job for job in window if job.phase(now).value in statuses]
        # `before` alone pages backwards: the jobs adjacent to the cursor.
        page = window[-limit:] if before is not None and after is None else window[:limit]
        return _json(list_body(page, len(window) > len(page), now))

    @api.get("/video/generations/jobs/{job_id}")
    async def get_job(job_id: str) -> Response:
        now = sweep()
        job = find_job(job_id)
        if state.hidden_after_create(job):
            raise _not_found(f"Video generation job '{job_id}' not found.")
        return _json(job_body(job, now))

    @api.delete("/video/generations/jobs/{job_id}", status_code=204)
    async def delete_job(job_id: str) -> Response:
        now = sweep()
        job = find_job(job_id)
        if not job.phase(now).terminal:
            job.cancelled_at = now
        forget(job, "was deleted")
        return Response(status_code=204)

    @api.get("/video/generations/{generation_id}")
    async def get_generation(generation_id: str) -> Response:
        job, gen = ready_generation(generation_id)
        return _json(generation_body(job, gen))

    @api.api_route("/video/generations/{generation_id}/content/video", methods=["GET", "HEAD"])
    async def video_content(generation_id: str, request: Request) -> Response:
        quality = request.query_params.get("quality", "high")
        if quality not in QUALITIES:
            raise invalid_request(
                f"Invalid value for 'quality': '{quality}'. Allowed values: 'high', 'low'.", param="quality"
            )
        job, gen = ready_generation(generation_id)
        path = await media_file(job, gen, "video" if quality == "high" else "video_low")
        return FileResponse(path, media_type="video/mp4")

    @api.api_route("/video/generations/{generation_id}/content/thumbnail", methods=["GET", "HEAD"])
    async def thumbnail_content(generation_id: str) -> Response:
        job, gen = ready_generation(generation_id)
        path = await media_file(job, gen, "thumbnail_jpeg")
        return FileResponse(path, media_type="image/jpeg")

    return api


async def _read_create_body(request: Request) -> tuple[dict[str, object], list[UploadedFile]]:
    """The create fields from a JSON object or a form, and the form's `files` parts."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form()
        except (HTTPException, MultiPartException) as exc:
            detail = exc.detail if isinstance(exc, HTTPException) else exc.message
            raise invalid_request(f"The multipart body could not be parsed: {detail}") from None
        fields: dict[str, object] = {}
        files: list[UploadedFile] = []
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields[key] = value
            elif key == "files":
                # One byte over the limit is enough for the validation to name the file as too large.
                files.append(UploadedFile(value.filename or "", await value.read(MAX_FILE_BYTES + 1)))
            else:
                raise invalid_request(
                    f"Unexpected file part '{key}': attach media as repeated 'files' parts.", param=key
                )
        await form.close()
        return fields, files
    if content_type in ("application/json", "") or content_type.endswith("+json"):
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise invalid_request(f"The request body is not valid JSON: {exc}.") from None
        if not isinstance(body, dict):
            raise invalid_request(
                "The request body must be a JSON object with prompt, width, height and model."
            )
        return body, []
    raise invalid_request(
        f"Unsupported Content-Type '{content_type}': send application/json, or multipart/form-data "
        "to attach files.",
        status=415,
    )


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if raw.strip().isdigit() and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    raise invalid_request(
        f"Invalid value for 'limit': '{raw}'. It must be an integer from 1 to {MAX_LIMIT}.", param="limit"
    )


def _statuses(raw: list[str]) -> set[str]:
    wanted = {part.strip() for value in raw for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(STATUSES))
    if unknown:
        raise invalid_request(
            f"Invalid value for 'statuses': {', '.join(repr(s) for s in unknown)}. Allowed values "
            f"(comma-separated): {', '.join(STATUSES)}.",
            param="statuses",
        )
    return wanted


def _not_found(message: str) -> ApiError:
    return azure_user_error(message, status=404)


def _json(body: dict[str, object]) -> JSONResponse:
    return JSONResponse(body)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
