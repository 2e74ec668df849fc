"""The web application: JSON API (OpenAPI at `/docs`), HTML pages, media by id, and live events.

`create_app(studio, settings=...)` builds it around one `AsyncStudio`. Its lifespan runs the engine in
this process (`studio.run_worker`) and, on the embedded default — the built-in `emulator` profile at a
local address where nothing answers — the emulator too (`local_emulator`, the same one the
CLI uses), with the engine's clock on the emulator's time scale.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from sorastudio.engine.clock import SystemClock
from sorastudio.errors import SorastudioError
from sorastudio.local_emulator import emulator_endpoint, local_emulator
from sorastudio.store.profiles import EMULATOR_PROFILE
from sorastudio.studio import AsyncStudio
from sorastudio.web import services
from sorastudio.web.errors import install_error_handlers
from sorastudio.web.routes import auth, costs, estimate, events, generations, media, pages, profiles
from sorastudio.web.security import WebGuard
from sorastudio.web.settings import WebSettings
from sorastudio.web.templating import STATIC_DIR

log = logging.getLogger(__name__)
# Every router of the app (tests walk this list to check that each state-changing route wants CSRF).
ROUTERS = tuple(m.router for m in (generations, estimate, events, costs, profiles, media, auth, pages))


async def _start_emulator(stack: AsyncExitStack, studio: AsyncStudio) -> None:
    """Serve the built-in emulator profile's address in this process if nothing answers there."""
    try:
        await services.ensure_default_profile(studio)
    except SorastudioError as exc:  # the pages show the same problem, with context
        log.warning("could not prepare the default profile: %s", exc)
        return
    names = {p.name for p in await services.call(studio.profiles.list)}
    if EMULATOR_PROFILE not in names:
        return
    endpoint = await services.call(emulator_endpoint, studio.profiles, EMULATOR_PROFILE)
    emulator = local_emulator(endpoint)
    scale = await anyio.to_thread.run_sync(emulator.__enter__)  # starting uvicorn blocks briefly
    stack.push_async_callback(anyio.to_thread.run_sync, lambda: emulator.__exit__(None, None, None))
    if scale is not None:
        studio.clock = SystemClock(scale)  # the engine must wait on the emulator's time
        log.info("built-in emulator serving %s (time scale %g)", endpoint, scale)


def create_app(studio: AsyncStudio | None = None, *, settings: WebSettings | None = None) -> FastAPI:
    """The app around `studio` (default: `AsyncStudio()` on the embedded default, closed on shutdown)."""
    settings = (settings or WebSettings.from_env()).check()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            current = studio
            if current is None:
                current = await anyio.to_thread.run_sync(AsyncStudio)
                stack.push_async_callback(current.aclose)
            app.state.studio = current
            if settings.embedded_emulator:
                await _start_emulator(stack, current)
            if settings.run_engine:
                stop = asyncio.Event()
                engine = asyncio.create_task(current.run_worker(stop), name="sorastudio-engine")

                async def stop_engine() -> None:
                    stop.set()
                    await engine

                stack.push_async_callback(stop_engine)
            yield

    app = FastAPI(
        title="sorastudio",
        description="AI video generation on Azure OpenAI Sora and OpenAI /v1/videos: the web app's JSON API.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.studio = studio
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    app.add_middleware(WebGuard, settings=settings)
    if not settings.login_required:
        # No login on loopback, so only loopback names may reach it: a page that rebinds its own
        # host name to 127.0.0.1 (DNS rebinding) would otherwise be same-origin with the studio.
        hosts = sorted({"127.0.0.1", "localhost", "::1", settings.host})
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    return app


__all__ = ["ROUTERS", "create_app"]
