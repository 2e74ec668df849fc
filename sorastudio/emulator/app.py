"""The emulator application: all three API surfaces on one FastAPI app.

- `/v1/videos…`                        OpenAI (Bearer; model names)
- `/openai/v1/videos…`                 Azure Sora 2 (api-key or Bearer; deployment names)
- `/openai/v1/video/generations/…`     Azure Sora 1 jobs API (`routes_sora1`)
- `/_emulator/…`                       admin (see `admin.py`)

Errors always come in the route family's envelope — including FastAPI's own validation errors, unknown
routes and unhandled exceptions. Azure responses carry `apim-request-id`, OpenAI ones `x-request-id`.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import admin, routes_videos
from .clock import Clock, SystemClock
from .config import EmulatorConfig
from .errors import ApiError
from .families import not_found_route, request_error, route_family, server_error
from .faults import FaultMiddleware, FaultPlan
from .jobs import JobStore
from .media import RenderedMediaStore
from .state import EmulatorState

log = logging.getLogger(__name__)


def create_app(config: EmulatorConfig | None = None, *, clock: Clock | None = None) -> FastAPI:
    config = config or EmulatorConfig()
    clock = clock or SystemClock()
    state = EmulatorState(
        config=config, clock=clock, store=JobStore(config, clock), media=RenderedMediaStore(config)
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.media.close()

    app = FastAPI(
        title="sorastudio emulator",
        description="Azure Sora 1, Azure Sora 2 and OpenAI /v1/videos, emulated with real media.",
        lifespan=lifespan,
        # The docs UI would sit outside every API family; keep the app's surface exactly the APIs'.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.emulator = state
    plan = FaultPlan(state)
    app.state.faults = plan

    app.include_router(routes_videos.router(state, "openai_videos"), prefix="/v1")
    app.include_router(routes_videos.router(state, "azure_videos"), prefix="/openai/v1")
    sora1 = _sora1_router(state)
    if sora1 is not None:
        app.include_router(sora1, prefix="/openai/v1")
    app.include_router(admin.router(plan))

    _install_error_handlers(app)
    # Added last = outermost: fault responses get request ids too.
    app.add_middleware(FaultMiddleware, plan=plan)
    app.add_middleware(RequestIdMiddleware)
    return app


def _sora1_router(state: EmulatorState) -> APIRouter | None:
    # Written separately; the app must work before (and without) it.
    try:
        module = importlib.import_module(f"{__package__}.routes_sora1")
    except ImportError as exc:
        if exc.name != f"{__package__}.routes_sora1":
            raise
        log.warning("Sora 1 routes unavailable (%s); serving /videos only", exc)
        return None
    sora1: APIRouter = module.router(state)
    return sora1


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        # loc is ("query" | "body" | "path" | "header", field, …): name the field, not where it came from.
        loc = [str(p) for p in first.get("loc", ())][1:]
        param = ".".join(loc) or None
        message = (
            f"Invalid '{param}': {first.get('msg', 'invalid value')}." if param else str(first.get("msg"))
        )
        family = route_family(request.url.path)
        return JSONResponse(request_error(family, message, param), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        family = route_family(request.url.path)
        if exc.status_code in (404, 405):
            body = not_found_route(family, request.method, request.url.path)
        else:
            body = request_error(family, str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises after this handler, so the traceback is still logged.
        return JSONResponse(server_error(route_family(request.url.path)), status_code=500)


class RequestIdMiddleware:
    """`apim-request-id` on Azure responses (spec §3), `x-request-id` on OpenAI ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        family = route_family(scope["path"])
        if family in ("azure", "sora1"):
            header = (b"apim-request-id", str(uuid.uuid4()).encode())
        elif family == "openai":
            header = (b"x-request-id", f"req_{uuid.uuid4().hex}".encode())
        else:
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, send_with_id)
