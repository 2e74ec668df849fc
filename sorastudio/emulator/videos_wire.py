"""The `/videos` wire format: the Video object, list pages and the errors of these routes.

Messages follow the OpenAI API's own wording ("Invalid value: 'x'. Supported values are: …"), and
every error names the parameter in `param`, so a client can point at the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .errors import ApiError, envelope
from .jobs import Job, Phase, Surface

# Sizes per model; the spec's enum, split as the services enforce it (sora-2: 720p only).
SIZES: dict[str, tuple[str, ...]] = {
    "sora-2": ("720x1280", "1280x720"),
    "sora-2-pro": ("720x1280", "1280x720", "1024x1792", "1792x1024"),
}
SECONDS = ("4", "8", "12")
VARIANTS = {"video": "video", "thumbnail": "thumbnail_webp", "spritesheet": "spritesheet"}
MEDIA_TYPES = {"video": "video/mp4", "thumbnail": "image/webp", "spritesheet": "image/jpeg"}
PROMPT_MAX = 32000
MODERATION_MESSAGE = "Your request was blocked by our moderation system."

_STATUS = {
    Phase.QUEUED: "queued",
    Phase.PREPROCESSING: "in_progress",
    Phase.RUNNING: "in_progress",
    Phase.PROCESSING: "in_progress",
    Phase.SUCCEEDED: "completed",
    Phase.FAILED: "failed",
    Phase.CANCELLED: "failed",
}


def quoted(values: tuple[str, ...] | list[str]) -> str:
    """'a', 'b', and 'c' — the service's way of listing allowed values."""
    items = [f"'{v}'" for v in values]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def bad_request(
    message: str, param: str | None = None, code: str | None = None, status: int = 400
) -> ApiError:
    return ApiError(status, envelope(message, "invalid_request_error", param=param, code=code))


def invalid_value(
    param: str, value: object, allowed: tuple[str, ...] | list[str], context: str = ""
) -> ApiError:
    return bad_request(
        f"Invalid value: '{value}'. Supported values{context} are: {quoted(allowed)}.", param, "invalid_value"
    )


def json_type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a string"


def video_not_found(video_id: str, deleted: bool = False) -> ApiError:
    if deleted:
        message = f"Video '{video_id}' was deleted; its status and content are no longer available."
    else:
        message = f"No video found with id '{video_id}'."
    return bad_request(message, None, "video_not_found", status=404)


def video_expired(job: Job) -> ApiError:
    until = datetime.fromtimestamp(job.created_at + job.expiry, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return bad_request(
        f"Video '{job.id}' has expired: its content was available until {until}.",
        None,
        "video_expired",
        status=404,
    )


def failure_error(job: Job) -> dict[str, str]:
    reason = job.failure_reason or ""
    if job.cancelled_at is not None:
        return {"code": "cancelled", "message": "The video generation was cancelled."}
    if reason.endswith("moderation"):
        return {"code": "moderation_blocked", "message": MODERATION_MESSAGE}
    return {"code": "internal_error", "message": "The video generation failed because of an internal error."}


def video_object(job: Job, now: float, surface: Surface) -> dict[str, Any]:
    """All 13 fields of the Video object, nulls included (the spec makes every one required)."""
    phase = job.phase(now)
    finished = job.finished_at(now)
    expires = job.expires_at(now)
    return {
        "id": job.id,
        "object": "video",
        # Azure echoes the deployment name, OpenAI the model (or snapshot) asked for.
        "model": job.deployment.name,
        "status": _STATUS[phase],
        "progress": job.progress(now),
        "created_at": int(job.created_at),
        "completed_at": int(finished) if finished is not None else None,
        "expires_at": int(expires) if expires is not None else None,
        "prompt": job.prompt,
        "size": job.size,
        "seconds": str(job.seconds),
        "remixed_from_video_id": job.remixed_from,
        "error": failure_error(job) if phase in (Phase.FAILED, Phase.CANCELLED) else None,
    }


def created_object(job: Job, now: float, surface: Surface) -> dict[str, Any]:
    """The create/remix answer; Azure adds `usage` there (observed, litellm #16753)."""
    body = video_object(job, now, surface)
    if surface == "azure_videos":
        body["usage"] = {"duration_seconds": float(job.seconds)}
    return body


def list_page(
    jobs: list[Job], now: float, surface: Surface, *, after: str | None, limit: int, order: str
) -> dict[str, Any]:
    """One page of a cursor list: `jobs` newest first; `after` is the last id of the previous page."""
    ordered = jobs if order == "desc" else list(reversed(jobs))
    start = 0
    if after is not None:
        ids = [job.id for job in ordered]
        if after not in ids:
            raise bad_request(
                f"Invalid 'after': no video with id '{after}' exists.", "after", "invalid_value"
            )
        start = ids.index(after) + 1
    page = ordered[start : start + limit]
    data = [video_object(job, now, surface) for job in page]
    return {
        "object": "list",
        "data": data,
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
        "has_more": start + len(page) < len(ordered),
    }
