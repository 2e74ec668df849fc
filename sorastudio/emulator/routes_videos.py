"""The `/videos` API, mounted twice: OpenAI at `/v1` and Azure Sora 2 at `/openai/v1`.

The two surfaces differ only where the services do (spec §3): Azure takes `api-key` or Bearer and an
`api-version` of v1/preview, `model` names a *deployment* (unknown → the observed 404), and the create
answer carries `usage`. OpenAI takes Bearer and a model name (default `sora-2`).

Choices where the services are undocumented (spec §7), all raised as 4xx JSON errors:
- list: `limit` 0–100, default 20; `order` default `desc` (newest first); an unknown `after` → 400.
- delete of a queued/in_progress video is allowed and cancels it (frees its running slot).
- content before completion → 400 `video_not_ready`; of a failed video → 400 `video_failed`;
  after `expires_at` → 404 `video_expired`; of a deleted video → 404 `video_not_found`.
- remix of a video that is not completed → 400; expired → 404; deleted/unknown → 404.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from .auth import check_api_version, check_azure, check_openai
from .config import Deployment
from .errors import azure_user_error, deployment_not_found
from .jobs import Job, Phase
from .state import EmulatorState, MediaUnavailable
from .videos_input import (
    CREATE_FIELDS,
    REMIX_FIELDS,
    check_reference_size,
    prompt_of,
    read_body,
    reference_image,
    seconds_of,
    string_field,
)
from .videos_wire import (
    MEDIA_TYPES,
    SIZES,
    VARIANTS,
    bad_request,
    created_object,
    failure_error,
    invalid_value,
    list_page,
    quoted,
    video_expired,
    video_not_found,
    video_object,
)

VideosSurface = Literal["azure_videos", "openai_videos"]
LIST_LIMIT_DEFAULT = 20
LIST_LIMIT_MAX = 100
# Deleted ids remembered per surface, for the "was deleted" message; older ones read as unknown.
DELETED_REMEMBERED = 10_000


class RecentIds:
    """A set of at most `limit` ids that forgets the oldest first (bounded memory in a long run)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, item: str) -> None:
        self._ids[item] = None
        self._ids.move_to_end(item)
        while len(self._ids) > self.limit:
            self._ids.popitem(last=False)

    def __contains__(self, item: object) -> bool:
        return item in self._ids

    def __len__(self) -> int:
        return len(self._ids)


def router(state: EmulatorState, surface: VideosSurface) -> APIRouter:
    config = state.config
    azure = surface == "azure_videos"
    # Remembered so a read of a deleted video says so, instead of a bare "not found".
    deleted = RecentIds(DELETED_REMEMBERED)

    async def authorize(request: Request) -> None:
        if azure:
            check_azure(request, config.keys)
            check_api_version(request)
        else:
            check_openai(request, config.keys)

    api = APIRouter(dependencies=[Depends(authorize)])

    def resolve(name: str | None) -> Deployment:
        if not azure:
            name = name or "sora-2"
            model = config.openai_model(name)
            if model is None:
                raise invalid_value("model", name, [m.name for m in config.openai_models])
            return model
        videos = [d.name for d in config.deployments if d.api == "videos"]
        if name is None:
            raise bad_request(
                "Missing required parameter: 'model'. On Azure, 'model' is the name of a Sora 2 "
                f"deployment (this resource has {quoted(videos) or 'none'}).",
                "model",
                "missing_required_parameter",
            )
        deployment = config.deployment(name)
        if deployment is None:
            raise deployment_not_found(name)
        if deployment.api != "videos":
            raise azure_user_error(
                f"The deployment '{name}' serves model '{deployment.model}' (Sora 1), which /videos does not "
                "support: use /video/generations/jobs for it, or a sora-2 / sora-2-pro deployment "
                f"({quoted(videos) or 'none on this resource'})."
            )
        return deployment

    def find(video_id: str) -> Job:
        job = state.store.get(video_id, surface)
        if job is None:
            raise video_not_found(video_id, deleted=video_id in deleted)
        return job

    def poll_headers(job: Job, now: float) -> dict[str, str]:
        if job.phase(now).terminal or config.poll_after_ms <= 0:
            return {}
        return {"openai-poll-after-ms": str(max(1, round(config.scaled(config.poll_after_ms))))}

    @api.post("/videos")
    async def create_video(request: Request) -> JSONResponse:
        body = await read_body(request, CREATE_FIELDS)
        prompt = prompt_of(body)
        deployment = resolve(string_field(body, "model"))
        size = string_field(body, "size") or "720x1280"
        allowed = SIZES.get(deployment.model, SIZES["sora-2"])
        if size not in allowed:
            raise invalid_value("size", size, allowed, f" for model '{deployment.name}'")
        seconds = seconds_of(body)
        width, height = (int(v) for v in size.split("x"))
        image = reference_image(body)
        if image is not None:
            check_reference_size(image, width, height)
        job = state.store.create(surface, deployment, prompt, width, height, seconds, image=image)
        state.media.start(job)
        return JSONResponse(created_object(job, state.clock.now(), surface))

    @api.get("/videos")
    async def list_videos(request: Request) -> JSONResponse:
        query = request.query_params
        limit = _limit(query.get("limit"))
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid_value("order", order, ("asc", "desc"))
        after = query.get("after") or None
        page = list_page(
            state.store.list(surface), state.clock.now(), surface, after=after, limit=limit, order=order
        )
        return JSONResponse(page)

    @api.get("/videos/{video_id}")
    async def retrieve_video(video_id: str) -> JSONResponse:
        job = find(video_id)
        if state.hidden_after_create(job):
            raise video_not_found(video_id)
        now = state.clock.now()
        return JSONResponse(video_object(job, now, surface), headers=poll_headers(job, now))

    @api.delete("/videos/{video_id}")
    async def delete_video(video_id: str) -> JSONResponse:
        job = find(video_id)
        # Also for a queued/in_progress video: removing it cancels the work and frees its slot.
        state.store.delete(job)
        state.media.discard(job)
        deleted.add(video_id)
        return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})

    # HEAD answers as GET does (status, Content-Type, Content-Length, Accept-Ranges) without the body:
    # download tools probe the size first. FileResponse and the server drop the body for HEAD.
    @api.api_route("/videos/{video_id}/content", methods=["GET", "HEAD"])
    async def download_content(video_id: str, request: Request) -> Response:
        variant = request.query_params.get("variant", "video")
        if variant not in VARIANTS:
            raise invalid_value("variant", variant, tuple(VARIANTS))
        job = find(video_id)
        now = state.clock.now()
        phase = job.phase(now)
        if phase in (Phase.FAILED, Phase.CANCELLED):
            code = failure_error(job)["code"]
            raise bad_request(
                f"Video '{video_id}' failed ({code}) and has no content to download.", None, "video_failed"
            )
        if not phase.terminal:
            status = video_object(job, now, surface)["status"]
            raise bad_request(
                f"Video '{video_id}' is not ready: its status is '{status}' ({job.progress(now)}% done). "
                "Download its content once the status is 'completed'.",
                None,
                "video_not_ready",
            )
        if job.expired(now):
            state.media.discard(job)
            raise video_expired(job)
        try:
            path = await state.media.path(job, job.generations[0], VARIANTS[variant])
        except MediaUnavailable:
            raise video_not_found(video_id) from None
        return FileResponse(path, media_type=MEDIA_TYPES[variant])

    @api.post("/videos/{video_id}/remix")
    async def remix_video(video_id: str, request: Request) -> JSONResponse:
        body = await read_body(request, REMIX_FIELDS)
        prompt = prompt_of(body)
        source = find(video_id)
        now = state.clock.now()
        phase = source.phase(now)
        if phase is not Phase.SUCCEEDED:
            status = video_object(source, now, surface)["status"]
            raise bad_request(
                f"Video '{video_id}' cannot be remixed: its status is '{status}'; "
                "only completed videos can be remixed.",
                None,
                "invalid_value",
            )
        if source.expired(now):
            raise video_expired(source)
        job = state.store.create(
            surface,
            source.deployment,
            prompt,
            source.width,
            source.height,
            source.seconds,
            remixed_from=source.id,
        )
        state.media.start(job)
        return JSONResponse(created_object(job, state.clock.now(), surface))

    return api


def _limit(raw: str | None) -> int:
    if raw is None:
        return LIST_LIMIT_DEFAULT
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request(
            f"Invalid 'limit': expected an integer, but got '{raw}' instead.", "limit", "invalid_type"
        ) from None
    if limit < 0:
        raise bad_request(
            f"Invalid 'limit': integer below minimum value. Expected a value >= 0, but got {limit} instead.",
            "limit",
            "integer_below_min_value",
        )
    if limit > LIST_LIMIT_MAX:
        raise bad_request(
            f"Invalid 'limit': integer above maximum value. Expected a value <= {LIST_LIMIT_MAX}, "
            f"but got {limit} instead.",
            "limit",
            "integer_above_max_value",
        )
    return limit
