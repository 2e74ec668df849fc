"""The library: `AsyncStudio` (core) and, in `sorastudio.sync`, its blocking twin `Studio`.

    studio = AsyncStudio()                      # SORASTUDIO_HOME / platform data dir; SQLite; migrated
    handle = await studio.generate("a red kite over a park", seconds=4)
    result = await handle.wait()                # runs the engine in-process until the job is done
    print(result.paths)

Everything is durable first: `generate` validates, prices and reserves the estimate, and stores the
generation before any network call; the engine (`engine.worker.Worker`) does the rest — here while you
`wait`, or in a standalone `sorastudio worker` process. Results are `schemas.GenerationPublic`.
"""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import anyio.to_thread
from sqlalchemy.orm import Session

from sorastudio import ledger, media
from sorastudio.accounts import Budgets, Profiles
from sorastudio.catalog import DEFAULT_CATALOG, Catalog
from sorastudio.domain import Mode, Status, ValidatedRequest, validate_request
from sorastudio.engine import manager, queries
from sorastudio.engine.clock import Clock, SystemClock
from sorastudio.engine.providers import (
    CATALOG_PROVIDER,
    DEFAULT_MODEL,
    build_provider,
    check_model_runs,
    resolve_profile,
)
from sorastudio.engine.worker import Worker, WorkerSettings
from sorastudio.errors import NotFound, PollTimeout, ValidationError
from sorastudio.pricing import Estimate, estimate
from sorastudio.schemas import EventPublic, GenerationPublic
from sorastudio.store.db import HOME_ENV, open_store
from sorastudio.store.models import ApiKind, new_id
from sorastudio.store.profiles import EMULATOR_PROFILE

T = TypeVar("T")
OnUpdate = Callable[[EventPublic], Any]  # sync or async; sees every event in order


class AsyncGenerationHandle:
    """A queued generation: `.status` and `.paths` read the database; `await .wait()` finishes it."""

    def __init__(self, studio: AsyncStudio, generation_id: str) -> None:
        self._studio = studio
        self.id = generation_id

    def __repr__(self) -> str:
        return f"AsyncGenerationHandle(id={self.id!r})"

    @property
    def status(self) -> Status:
        with self._studio.store.session() as session:
            return queries.status(session, self.id)

    @property
    def info(self) -> GenerationPublic:
        with self._studio.store.session() as session:
            return queries.get(session, self.id)

    @property
    def paths(self) -> list[Path]:
        return self.info.paths

    async def wait(self, on_update: OnUpdate | None = None, timeout: float | None = None) -> GenerationPublic:  # noqa: ASYNC109
        return await self._studio.wait(self.id, on_update=on_update, timeout=timeout)


class AsyncStudio:
    """The async library façade over the store, ledger and engine. One per process is plenty.

    `home` sets `SORASTUDIO_HOME` for this process (database, media, key file); `database_url`
    overrides the SQLite default; `emulator_url` is where the built-in emulator profile points;
    `clock` carries the time scale for a time-scaled emulator.
    """

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
        if home is not None:
            os.environ[HOME_ENV] = str(Path(home).expanduser())  # media and key file follow the home
        self.store = open_store(database_url)
        self.clock = clock or SystemClock()
        self.catalog = catalog or DEFAULT_CATALOG
        self.emulator_url = emulator_url
        self.worker_settings = worker_settings or WorkerSettings()
        self.budgets = Budgets(self.store)
        self.profiles = Profiles(self.store)
        self._workers: set[Worker] = set()

    async def aclose(self) -> None:
        self.store.close()

    async def __aenter__(self) -> AsyncStudio:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- database helpers ------------------------------------------------------------------------------

    async def _write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def run() -> T:
            with self.store.write() as session:
                return fn(session, *args, **kwargs)

        return await anyio.to_thread.run_sync(run)

    async def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def run() -> T:
            with self.store.session() as session:
                return fn(session, *args, **kwargs)

        return await anyio.to_thread.run_sync(run)

    def _prepare(
        self,
        session: Session,
        profile: str | None,
        request: dict[str, Any],
    ) -> tuple[int, ValidatedRequest, Estimate, str | None]:
        """(profile id, validated request, estimate, deployment) — or the first problem, as an error."""
        row = resolve_profile(session, profile, emulator=self.emulator_url)
        kind = ApiKind(row.api_kind)
        request = {**request, "model": request.get("model") or row.model or DEFAULT_MODEL[kind]}
        # Before pricing: a model of another API would be stored, reserved and only then refused remotely.
        check_model_runs(self.catalog, row, str(request["model"]))
        # An entry id ("openai/sora-2") names its provider itself; the catalog resolves it only without one.
        provider = None if str(request["model"]) in self.catalog else CATALOG_PROVIDER[kind]
        validated = validate_request(request, self.catalog, provider=provider)
        deployment = row.deployment
        if row.name == EMULATOR_PROFILE and row.model and validated.entry.model != row.model:
            deployment = validated.entry.model  # the emulator names its deployments after the models
        return row.id, validated, estimate(validated), deployment

    # -- creating work ---------------------------------------------------------------------------------

    @overload
    async def generate(
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
    ) -> AsyncGenerationHandle: ...
    @overload
    async def generate(
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
    async def generate(
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
    ) -> AsyncGenerationHandle | Estimate:
        """Queue a video (durably, estimate reserved); `dry_run` returns the estimate and stores nothing.

        Raises `ValidationError` (bad input), `BudgetExceeded` (with the numbers), `ModelRetired`.
        """
        if isinstance(image, str):
            image = Path(image)
        request = {"prompt": prompt, "model": model, "size": size, "seconds": seconds, "variants": variants}
        if image is not None:
            request |= {"image": image, "fit": fit}
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise ValidationError(
                f"priority={priority!r} is not allowed: a whole number (higher runs sooner)",
                field="priority",
                value=priority,
            )
        profile_id, validated, cost, deployment = await self._write(self._prepare, profile, request)
        if dry_run:
            return cost
        generation_id = new_id()
        stored_image = None
        if validated.request.mode is Mode.IMAGE:
            raw = validated.request.image
            stored_image = await anyio.to_thread.run_sync(
                lambda: media.store_input_image(
                    generation_id,
                    raw.read_bytes() if isinstance(raw, Path) else bytes(raw or b""),
                    validated.width,
                    validated.height,
                    validated.request.fit.value,
                )
            )
        try:
            await self._write(
                self._enqueue,
                validated,
                cost,
                profile_id,
                generation_id,
                priority,
                None,
                stored_image,
                deployment,
            )
        except BaseException:
            if stored_image is not None:
                media.remove_generation(generation_id)
            raise
        self._wake()
        return AsyncGenerationHandle(self, generation_id)

    def _enqueue(
        self,
        session: Session,
        validated: ValidatedRequest,
        cost: Estimate,
        profile_id: int,
        generation_id: str,
        priority: int,
        parent_id: str | None,
        image_path: str | None,
        deployment: str | None,
    ) -> None:
        manager.enqueue(
            session,
            validated,
            cost,
            manager.profile_row(session, profile_id),
            now=self.clock.now(),
            priority=priority,
            generation_id=generation_id,
            parent_id=parent_id,
            input_image_path=image_path,
            deployment=deployment,
            today=date.today(),
        )

    async def remix(
        self, generation_id: str, prompt: str, *, profile: str | None = None
    ) -> AsyncGenerationHandle:
        """Queue a remix of a completed generation (a `/videos` model) with a new prompt."""
        parent = await self.get(generation_id)
        if parent.status is not Status.COMPLETED or not parent.remote_id:
            raise ValidationError(
                f"generation {generation_id} is {parent.status.value}: only a completed video can be remixed",
                field="generation_id",
                value=generation_id,
            )
        request = {
            "prompt": prompt,
            "model": parent.model,
            "size": parent.size,
            "seconds": parent.seconds,
            "mode": "remix",
            "remix_of": parent.id,
        }
        profile_id, validated, cost, deployment = await self._write(
            self._prepare, profile or parent.profile, request
        )
        new = new_id()
        await self._write(self._enqueue, validated, cost, profile_id, new, 0, parent.id, None, deployment)
        self._wake()
        return AsyncGenerationHandle(self, new)

    async def estimate(
        self,
        *,
        model: str | None = None,
        size: str | None = None,
        seconds: int | None = None,
        variants: int = 1,
        profile: str | None = None,
    ) -> Estimate:
        request = {
            "prompt": "estimate",
            "model": model,
            "size": size,
            "seconds": seconds,
            "variants": variants,
        }
        return (await self._write(self._prepare, profile, request))[2]

    # -- reading ---------------------------------------------------------------------------------------

    async def get(self, generation_id: str) -> GenerationPublic:
        return await self._read(queries.get, generation_id)

    async def list(
        self,
        *,
        status: str | None = None,
        model: str | None = None,
        mode: str | None = None,
        query: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[GenerationPublic]:
        return await self._read(
            queries.list_generations,
            status=status,
            model=model,
            mode=mode,
            query=query,
            limit=limit,
            offset=offset,
        )

    async def events(self, generation_id: str, after: int = 0) -> builtins.list[EventPublic]:
        return await self._read(queries.events, generation_id, after)

    async def costs(self, by: ledger.TotalsBy = "day") -> builtins.list[ledger.LedgerTotal]:
        return await self._read(ledger.totals, by)

    # -- changing work ---------------------------------------------------------------------------------

    async def cancel(self, generation_id: str) -> GenerationPublic:
        """Cancel a queued or running generation (costs 0). A finished one cannot be cancelled."""
        reason = "cancelled by the user"
        status, remote_id, profile_id = await self._write(self._cancel_queued, generation_id, reason)
        if status is Status.CANCELLED:
            return await self.get(generation_id)
        if status.terminal or status is Status.DOWNLOADING:
            raise ValidationError(
                f"generation {generation_id} is {status.value}: the video was already made (and paid); "
                "delete it instead",
                field="generation_id",
                value=generation_id,
            )
        if not remote_id:
            raise ValidationError(
                f"generation {generation_id} is being sent to the provider right now: try again in a moment",
                field="generation_id",
                value=generation_id,
            )
        await self._delete_remote(profile_id, remote_id)
        await self._write(
            manager.fail, generation_id, None, reason, now=self.clock.now(), status=Status.CANCELLED
        )
        return await self.get(generation_id)

    def _cancel_queued(
        self, session: Session, generation_id: str, reason: str
    ) -> tuple[Status, str | None, int | None]:
        row = manager.cancel_queued(session, generation_id, now=self.clock.now(), reason=reason)
        return Status(row.status), row.remote_id, row.profile_id

    async def retry(self, generation_id: str) -> AsyncGenerationHandle:
        """Failed or cancelled: queue the same generation again. Expired: queue a new one like it."""
        current = await self.get(generation_id)
        if current.status in (Status.FAILED, Status.CANCELLED):
            await self._write(manager.requeue, generation_id, now=self.clock.now(), today=date.today())
            self._wake()
            return AsyncGenerationHandle(self, generation_id)
        if current.status is Status.EXPIRED and current.mode != Mode.REMIX:
            image = await self._read(self._input_image, generation_id)
            handle = await self.generate(
                current.prompt,
                model=current.model,
                size=current.size,
                seconds=current.seconds,
                variants=current.variants,
                image=image,
                fit=current.fit or "cover",
                profile=current.profile,
                priority=current.priority,
            )
            return handle
        raise ValidationError(
            f"generation {generation_id} is {current.status.value}: only failed, cancelled or expired "
            "generations can be retried",
            field="generation_id",
            value=generation_id,
        )

    def _input_image(self, session: Session, generation_id: str) -> bytes | None:
        row = queries.get_row(session, generation_id)
        return media.resolve(row.input_image_path).read_bytes() if row.input_image_path else None

    async def delete(self, generation_id: str, remote: bool = False) -> GenerationPublic:
        """Delete a finished generation and its local files; with `remote=True` also the provider's copy.

        Nothing is deleted by accident: a generation still in progress is refused (cancel it first), and
        the provider's copy stays unless `remote=True`. The ledger keeps what was spent.
        """
        info = await self.get(generation_id)
        if not info.terminal:
            raise ValidationError(
                f"generation {generation_id} is {info.status.value}: cancel it first, or let it finish",
                field="generation_id",
                value=generation_id,
            )
        if remote and info.remote_id:
            profile_id = await self._read(lambda s: queries.get_row(s, generation_id).profile_id)
            await self._delete_remote(profile_id, info.remote_id)
        deleted = await self._write(queries.delete, generation_id)
        await anyio.to_thread.run_sync(media.remove_generation, generation_id)
        return deleted

    async def _delete_remote(self, profile_id: int | None, remote_id: str) -> None:
        if profile_id is None:
            return
        provider = await self._write(
            lambda s: build_provider(
                s, manager.profile_row(s, profile_id), sleep=self.clock.sleep, wall_clock=self.clock.time
            )
        )
        try:
            await provider.delete(remote_id)
        except NotFound:
            pass  # already gone: that is what we wanted
        finally:
            await provider.aclose()

    async def download(self, generation_id: str, dest: str | Path) -> builtins.list[Path]:
        """Copy the video(s) to `dest` (a folder, or a file name for a single video)."""
        info = await self.get(generation_id)
        if not info.paths:
            raise ValidationError(
                f"generation {generation_id} is {info.status.value} and has no video to copy",
                field="generation_id",
                value=generation_id,
            )
        return await anyio.to_thread.run_sync(media.copy_out, info.paths, Path(dest))

    # -- the engine ------------------------------------------------------------------------------------

    def _new_worker(self) -> Worker:
        worker = Worker(self.store, clock=self.clock, settings=self.worker_settings)
        self._workers.add(worker)
        return worker

    def _wake(self) -> None:
        for worker in self._workers:
            worker.wake()

    async def run_worker(self, stop_event: asyncio.Event | None = None) -> None:
        """Run the engine in this process until `stop_event` is set."""
        worker = self._new_worker()
        try:
            await worker.run(stop_event)
        finally:
            self._workers.discard(worker)

    async def wait(
        self,
        generation_id: str,
        on_update: OnUpdate | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - measured on the injected clock
    ) -> GenerationPublic:
        """Run the engine in-process until the generation is final; `on_update` sees each new event.

        Claims in the database keep this worker and any standalone worker from doing a step twice.
        Raises `PollTimeout` after `timeout` seconds (the job keeps its place in the queue).
        """
        stop = asyncio.Event()
        worker = self._new_worker()
        engine = asyncio.create_task(worker.run(stop))
        started = self.clock.time()
        seen = 0
        try:
            while True:
                worker.changed.clear()
                news = await self.events(generation_id, seen)
                info = await self.get(generation_id)
                for event in news:
                    seen = event.id
                    if on_update is not None:
                        result = on_update(event)
                        if asyncio.iscoroutine(result):
                            await result
                if info.terminal:
                    return info
                if engine.done():
                    engine.result()  # surfaces a crashed engine
                if timeout is not None and self.clock.time() - started > timeout:
                    raise PollTimeout(
                        f"generation {generation_id} is still {info.status.value} after {timeout:g} s; "
                        "it stays queued and continues with the next worker",
                        job_id=generation_id,
                        last_status=info.status.value,
                    )
                await _first(worker.changed.wait(), self.clock.sleep(0.25))
        finally:
            stop.set()
            await engine
            self._workers.discard(worker)


async def _first(*awaitables: Any) -> None:
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


__all__ = ["AsyncGenerationHandle", "AsyncStudio"]


def __getattr__(name: str) -> Any:
    # The blocking twin lives in `sync.py` (it imports this module).
    if name in ("Studio", "GenerationHandle"):
        from sorastudio import sync

        return getattr(sync, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
