"""The one place errors become HTTP responses: `SorastudioError` → 4xx/5xx with its message.

JSON for the API, media and event stream (`{"detail": message, "error": kind, "field": …}`); an HTML
page for browsers asking for a page. Routes never catch errors to format them themselves.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sorastudio.errors import (
    BudgetExceeded,
    NotFound,
    PollTimeout,
    ProviderError,
    RateLimited,
    SorastudioError,
    ValidationError,
)

_MISSING_FIELDS = ("generation_id", "profile")


def status_for(exc: SorastudioError) -> int:
    """HTTP status for a sorastudio error (the user's input is 4xx; a provider failing us is 5xx)."""
    if isinstance(exc, BudgetExceeded):
        return 402  # payment required: the estimate does not fit a budget
    if isinstance(exc, ValidationError):
        if exc.field in _MISSING_FIELDS and (
            "does not exist" in exc.message or "is not valid" in exc.message
        ):
            return 404
        return 422
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, PollTimeout):
        return 504
    if isinstance(exc, ProviderError):
        return 502  # the provider answered badly: our gateway role failed, not the user's request
    return 400


def body_for(exc: SorastudioError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": exc.message, "error": type(exc).__name__}
    if isinstance(exc, ValidationError):
        # The offending value is not echoed: it may be a key typed into the wrong field.
        body |= {"field": exc.field, "allowed": list(exc.allowed)}
    if isinstance(exc, BudgetExceeded):
        body |= {
            "budget": str(exc.budget),
            "limit": str(exc.limit),
            "spent": str(exc.spent),
            "requested": str(exc.requested),
        }
    return body


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/media/", "/docs", "/openapi")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _render(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    if wants_html(request):
        from sorastudio.web.templating import render

        return render(request, "error.html", {"status": status, "message": body["detail"]}, status=status)
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SorastudioError)
    async def sorastudio_error(request: Request, exc: SorastudioError) -> Response:
        headers = None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            headers = {"Retry-After": str(max(1, round(exc.retry_after)))}
        return _render(request, status_for(exc), body_for(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        field = None
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ())][1:]  # drop "body" / "query" / "path"
            name = ".".join(loc) or "request"
            field = field or name
            problems.append(f"{name}: {error.get('msg', 'invalid value')}")
        body = {
            "detail": "; ".join(problems) or "invalid request",
            "error": "ValidationError",
            "field": field,
        }
        return _render(request, 422, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        body = {"detail": str(exc.detail), "error": "HTTPError"}
        return _render(request, exc.status_code, body, exc.headers)


__all__ = ["body_for", "install_error_handlers", "status_for", "wants_html"]
