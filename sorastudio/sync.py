"""`Studio`: the blocking twin of `AsyncStudio`, method for method (a test keeps the signatures in sync).

    with Studio() as studio:
        video = studio.generate("a lighthouse in a storm", seconds=4).wait()
        print(video.paths)

Calls run on one event loop in a helper thread (an anyio blocking portal), so a `Studio` also works
where an event loop is already running (notebooks). Close it (or use `with`) to stop that thread.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import threading
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import anyio.to_thread
from anyio.from_thread import BlockingPortal, start_blocking_portal

from sorastudio import ledger
from sorastudio.accounts import Budgets, Profiles
from sorastudio.catalog import Catalog
from sorastudio.domain import Status
from sorastudio.engine.clock import Clock
from sorastudio.engine.worker import WorkerSettings
from sorastudio.pricing import Estimate
from sorastudio.schemas import EventPublic, GenerationPublic
from sorastudio.store.db import Store
from sorastudio.studio import AsyncStudio, OnUpdate

T = TypeVar("T")


class GenerationHandle:
    """A queued generation: `.status` and `.paths` read the database; `.wait()` blocks until it is final."""

    def __init__(self, studio: Studio, generation_id: str) -> None:
        self._studio = studio
        self.id = generation_id

    def __repr__(self) -> str:
        return f"GenerationHandle(id={self.id!r})"

    @property
    def status(self) -> Status:
        return self._studio.get(self.id).status

    @property
    def info(self) -> GenerationPublic:
        return self._studio.get(self.id)

    @property
    def paths(self) -> list[Path]:
        return self.info.paths

    def wait(self, on_update: OnUpdate | None = None, timeout: float | None = None) -> GenerationPublic:
        return self._studio.wait(self.id, on_update=on_update, timeout=timeout)


class Studio:
    """Blocking library façade; see `AsyncStudio` for what each method does."""

    def __init__(
        self,
        home: str | Path | None = None,
        database_url: str | None = None,
        *,
        emulator_url: str | None = None,
        clock: Clock | None = None,
        catalog: Catalog | None = None,
        worker_settings: WorkerSettings | None = None,
    ) -> None:
        self._async = AsyncStudio(
            home,
            database_url,
            emulator_url=emulator_url,
            clock=clock,
            catalog=catalog,
            worker_settings=worker_settings,
        )
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        return self._async.store

    @property
    def budgets(self) -> Budgets:
        return self._async.budgets

    @property
    def profiles(self) -> Profiles:
        return self._async.profiles

    def _call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        with self._lock:
            if self._portal is None:
                self._portal_cm = start_blocking_portal("asyncio")
                self._portal = self._portal_cm.__enter__()
            portal = self._portal
        return portal.call(functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        with self._lock:
            portal_cm, self._portal_cm, self._portal = self._portal_cm, None, None
        if portal_cm is not None:
            portal_cm.__exit__(None, None, None)
        self._async.store.close()

    def __enter__(self) -> Studio:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @overload
    def generate(
        self,
        prompt: str,
        *,
        model: str | None = ...,
        size: str | None = ...,
        seconds: int | None = ...,
        variants: int = ...,
        image: str | Path | bytes | None = ...,
        fit: str = ...,
        profile: str | None = ...,
        priority: int = ...,
        dry_run: Literal[False] = ...,
    ) -> GenerationHandle: ...
    @overload
    def generate(
        self,
        prompt: str,
        *,
        model: str | None = ...,
        size: str | None = ...,
        seconds: int | None = ...,
        variants: int = ...,
        image: str | Path | bytes | None = ...,
        fit: str = ...,
        profile: str | None = ...,
        priority: int = ...,
        dry_run: Literal[True],
    ) -> Estimate: ...
    def generate(
        self,
        prompt: str,
        *,
        model: str | None = None,
        size: str | None = None,
        seconds: int | None = None,
        variants: int = 1,
        image: str | Path | bytes | None = None,
        fit: str = "cover",
        profile: str | None = None,
        priority: int = 0,
        dry_run: bool = False,
    ) -> GenerationHandle | Estimate:
        result = self._call(
            self._async.generate,
            prompt,
            model=model,
            size=size,
            seconds=seconds,
            variants=variants,
            image=image,
            fit=fit,
            profile=profile,
            priority=priority,
            dry_run=dry_run,
        )
        return result if isinstance(result, Estimate) else GenerationHandle(self, result.id)

    def remix(self, generation_id: str, prompt: str, *, profile: str | None = None) -> GenerationHandle:
        return GenerationHandle(
            self, self._call(self._async.remix, generation_id, prompt, profile=profile).id
        )

    def estimate(
        self,
        *,
        model: str | None = None,
        size: str | None = None,
        seconds: int | None = None,
        variants: int = 1,
        profile: str | None = None,
    ) -> Estimate:
        return self._call(
            self._async.estimate, model=model, size=size, seconds=seconds, variants=variants, profile=profile
        )

    def get(self, generation_id: str) -> GenerationPublic:
        return self._call(self._async.get, generation_id)

    def list(
        self,
        *,
        status: str | None = None,
        model: str | None = None,
        mode: str | None = None,
        query: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[GenerationPublic]:
        return self._call(
            self._async.list, status=status, model=model, mode=mode, query=query, limit=limit, offset=offset
        )

    def events(self, generation_id: str, after: int = 0) -> builtins.list[EventPublic]:
        return self._call(self._async.events, generation_id, after)

    def costs(self, by: ledger.TotalsBy = "day") -> builtins.list[ledger.LedgerTotal]:
        return self._call(self._async.costs, by)

    def cancel(self, generation_id: str) -> GenerationPublic:
        return self._call(self._async.cancel, generation_id)

    def retry(self, generation_id: str) -> GenerationHandle:
        return GenerationHandle(self, self._call(self._async.retry, generation_id).id)

    def delete(self, generation_id: str, remote: bool = False) -> GenerationPublic:
        return self._call(self._async.delete, generation_id, remote)

    def download(self, generation_id: str, dest: str | Path) -> builtins.list[Path]:
        return self._call(self._async.download, generation_id, dest)

    def wait(
        self, generation_id: str, on_update: OnUpdate | None = None, timeout: float | None = None
    ) -> GenerationPublic:
        return self._call(self._async.wait, generation_id, on_update=on_update, timeout=timeout)

    def run_worker(self, stop_event: threading.Event | None = None) -> None:
        """Run the engine until `stop_event` (a `threading.Event`) is set; blocks this thread."""

        async def run() -> None:
            stop = asyncio.Event()

            async def watch(event: threading.Event) -> None:
                await anyio.to_thread.run_sync(event.wait, abandon_on_cancel=True)
                stop.set()

            watcher = asyncio.create_task(watch(stop_event)) if stop_event is not None else None
            try:
                await self._async.run_worker(stop)
            finally:
                if watcher is not None:
                    watcher.cancel()

        self._call(run)


__all__ = ["GenerationHandle", "Studio"]
