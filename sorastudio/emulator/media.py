"""Rendered media for emulated jobs: one render per generation, in a thread pool, started at create.

Files live under `<data_dir>/<job id>/<generation index>/` (see `render.py` for the names). A job's
`RenderSpec` is kept after its files are discarded, so a remix of a deleted or expired source still
renders visibly related to it. Jobs planned to fail are never rendered: they have no content.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from . import render
from .config import EmulatorConfig
from .jobs import Generation, Job, Phase
from .render import RenderedMedia, RenderSpec
from .state import MediaKind, MediaUnavailable

_Key = tuple[str, int]
_T = TypeVar("_T")


async def _wait(future: Future[_T]) -> _T:
    try:
        # Shielded: a client that hangs up must not cancel a render other requests will want.
        return await asyncio.shield(asyncio.wrap_future(future))
    except asyncio.CancelledError:
        # The render was cancelled by `discard` (not this task): the media is gone.
        if future.cancelled():
            raise MediaUnavailable("the media was discarded") from None
        raise


class RenderedMediaStore:
    """The emulator's `Media`: renders with `render.render_media`, serves files by kind."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        if config.data_dir is None:
            self._temp = tempfile.TemporaryDirectory(prefix="sorastudio-emulator-")
            self.root = Path(self._temp.name)
        else:
            self.root = Path(config.data_dir)
            self.root.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(config.render_workers, thread_name_prefix="emulator-render")
        self._lock = threading.Lock()
        self._specs: dict[_Key, RenderSpec] = {}
        self._renders: dict[_Key, Future[RenderedMedia]] = {}
        self._low: dict[_Key, Future[Path]] = {}
        self._closed = False

    # -- Media protocol --------------------------------------------------------------------------

    def start(self, job: Job) -> None:
        with self._lock:
            for gen in job.generations:
                key = (job.id, gen.index)
                spec = self._spec(job, gen)
                self._specs[key] = spec
                if job.outcome is Phase.SUCCEEDED and not self._closed:
                    self._renders[key] = self._executor.submit(
                        render.render_media, spec, self._directory(job, gen)
                    )

    async def path(self, job: Job, generation: Generation, kind: MediaKind) -> Path:
        key = (job.id, generation.index)
        with self._lock:
            future = self._renders.get(key)
        if future is None:
            raise MediaUnavailable(f"no media for {job.id} generation {generation.index}")
        media = await _wait(future)
        if kind == "video":
            return media.video
        if kind == "thumbnail_webp":
            return media.thumbnail_webp
        if kind == "thumbnail_jpeg":
            return media.thumbnail_jpeg
        if kind == "spritesheet":
            return media.spritesheet
        return await _wait(self._low_quality(key, media, job, generation))

    def discard(self, job: Job) -> None:
        with self._lock:
            futures: list[Future[RenderedMedia] | Future[Path]] = []
            for gen in job.generations:
                key = (job.id, gen.index)
                render_future = self._renders.pop(key, None)
                low_future = self._low.pop(key, None)
                futures += [f for f in (render_future, low_future) if f is not None]
        directory = self.root / job.id
        pending = [f for f in futures if not f.cancel() and not f.done()]
        if not pending:
            shutil.rmtree(directory, ignore_errors=True)
            return
        # A render still writing: remove the folder once the last one finishes.
        remaining = [len(pending)]
        guard = threading.Lock()

        def _done(_: Future[RenderedMedia] | Future[Path]) -> None:
            with guard:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                shutil.rmtree(directory, ignore_errors=True)

        for future in pending:
            future.add_done_callback(_done)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._temp is not None:
            self._temp.cleanup()

    # -- helpers ---------------------------------------------------------------------------------

    def spec(self, job_id: str, index: int = 0) -> RenderSpec | None:
        """The spec a generation was (or would have been) rendered from."""
        return self._specs.get((job_id, index))

    def _spec(self, job: Job, gen: Generation) -> RenderSpec:
        source = self._specs.get((job.remixed_from, 0)) if job.remixed_from else None
        return RenderSpec(
            prompt=job.prompt,
            width=job.width,
            height=job.height,
            seconds=float(job.seconds),
            audio=job.deployment.audio,
            fps=self._config.fps,
            variant_index=gen.index,
            image=job.image,
            image_frame_index=job.image_frame_index,
            remix_of=source,
        )

    def _directory(self, job: Job, gen: Generation) -> Path:
        return self.root / job.id / str(gen.index)

    def _low_quality(self, key: _Key, media: RenderedMedia, job: Job, gen: Generation) -> Future[Path]:
        with self._lock:
            future = self._low.get(key)
            if future is None:
                if self._closed or key not in self._renders:
                    raise MediaUnavailable(f"no media for {job.id} generation {gen.index}")
                future = self._executor.submit(
                    render.render_low_quality, self._specs[key], media, self._directory(job, gen)
                )
                self._low[key] = future
            return future


class CannedMedia:
    """A media store serving one pre-rendered clip for every job: for load tests and benches that
    measure the API and scheduling, not rendering."""

    def __init__(self, media: RenderedMedia) -> None:
        self.media = media

    def start(self, job: Job) -> None:
        pass

    async def path(self, job: Job, generation: Generation, kind: MediaKind) -> Path:
        return {
            "thumbnail_webp": self.media.thumbnail_webp,
            "thumbnail_jpeg": self.media.thumbnail_jpeg,
            "spritesheet": self.media.spritesheet,
        }.get(kind, self.media.video)

    def discard(self, job: Job) -> None:
        pass

    def close(self) -> None:
        pass
