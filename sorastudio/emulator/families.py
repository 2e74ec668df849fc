"""Which API a request path belongs to, and the error body each API family sends.

Used by every place that answers outside a route handler (validation errors, unknown routes, 500s,
injected faults), so a client always sees its own API's envelope, never FastAPI's `{"detail": …}`.
"""

from __future__ import annotations

from typing import Any, Literal

from .errors import envelope

Family = Literal["openai", "azure", "sora1", "admin", "other"]


def route_family(path: str) -> Family:
    if path.startswith("/openai/v1/video/generations"):
        return "sora1"
    if path.startswith("/openai/"):
        return "azure"
    if path.startswith("/v1/") or path == "/v1":
        return "openai"
    if path.startswith("/_emulator"):
        return "admin"
    return "other"


def is_content_path(path: str) -> bool:
    """Media downloads: `/videos/{id}/content` and Sora 1 `/content/video|thumbnail`."""
    return path.endswith("/content") or "/content/" in path


def request_error(family: Family, message: str, param: str | None = None) -> dict[str, Any]:
    if family == "sora1":
        # Live Azure video errors are wrapped with this type (spec §4.6).
        return envelope(message, "video_generation_user_error", param=param)
    return envelope(message, "invalid_request_error", param=param)


def not_found_route(family: Family, method: str, path: str) -> dict[str, Any]:
    if family in ("azure", "sora1"):
        # Azure's answer for a wrong route (spec §3 "Wrong route").
        return {"error": {"code": "404", "message": "Resource not found"}}
    return envelope(f"Invalid URL ({method} {path})", "invalid_request_error")


def server_error(family: Family) -> dict[str, Any]:
    if family in ("azure", "sora1"):
        return {
            "error": {
                "code": "InternalServerError",
                "message": "The service encountered an internal error. Please retry the request.",
            }
        }
    return envelope(
        "The server had an error while processing your request. Sorry about that!", "server_error"
    )


def rate_limited(family: Family, seconds: int) -> dict[str, Any]:
    if family in ("azure", "sora1"):
        return {
            "error": {
                "code": "429",
                "message": "Requests to the video generation Operation under Azure OpenAI API version v1 "
                "have exceeded call rate limit of your current pricing tier. "
                f"Please retry after {seconds} seconds.",
            }
        }
    return envelope(
        f"Rate limit reached for requests. Please try again in {seconds}s.",
        "requests",
        code="rate_limit_exceeded",
    )


def content_unavailable(family: Family) -> dict[str, Any]:
    """What a CDN or gateway sometimes serves instead of the media: a JSON error document."""
    if family in ("azure", "sora1"):
        return {"error": {"code": "ContentUnavailable", "message": "The requested content is not available."}}
    return envelope("The requested content is temporarily unavailable.", "server_error")
