"""RenderedMediaStore: renders in a pool, waits, caches, discards — with stubbed renderers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from sorastudio.emulator import render
from sorastudio.emulator.clock import ManualClock
from sorastudio.emulator.config import EmulatorConfig
from sorastudio.emulator.jobs import Job, JobStore
from sorastudio.emulator.media import RenderedMediaStore
from sorastudio.emulator.state import MediaUnavailable


class Renders:
    """Stub renderers that count calls and can be held back."""

    def __init__(self) -> None:
        self.media: list[str] = []
        self.low: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def render_media(self, spec: render.RenderSpec, directory: Path) -> render.RenderedMedia:
        self.gate.wait(10)
        directory.mkdir(parents=True, exist_ok=True)
        paths = [directory / n for n in ("video.mp4", "thumbnail.webp", "thumbnail.jpg", "spritesheet.jpg")]
        for path in paths:
            path.write_bytes(spec.prompt.encode())
        self.media.append(spec.prompt)
        return render.RenderedMedia(*paths)

    def render_low_quality(
        self, spec: render.RenderSpec, source: render.RenderedMedia, directory: Path
    ) -> Path:
        path = directory / "video_low.mp4"
        path.write_bytes(b"low")
        self.low.append(spec.prompt)
        return path


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Renders:
    stub = Renders()
    monkeypatch.setattr(render, "render_media", stub.render_media)
    monkeypatch.setattr(render, "render_low_quality", stub.render_low_quality)
    return stub


def jobs(**config: Any) -> tuple[JobStore, RenderedMediaStore]:
    settings = EmulatorConfig(**config)
    return JobStore(settings, ManualClock()), RenderedMediaStore(settings)


def new_job(store: JobStore, prompt: str, **kwargs: Any) -> Job:
    deployment = store.config.openai_model("sora-2")
    assert deployment is not None
    return store.create("openai_videos", deployment, prompt, 1280, 720, 4, **kwargs)


@pytest.mark.anyio
async def test_files_by_kind_and_low_quality_rendered_once(renders: Renders) -> None:
    store, media = jobs()
    try:
        job = new_job(store, "a kite")
        media.start(job)
        gen = job.generations[0]
        video = await media.path(job, gen, "video")
        assert video == media.root / job.id / "0" / "video.mp4" and video.read_bytes() == b"a kite"
        assert (await media.path(job, gen, "thumbnail_webp")).name == "thumbnail.webp"
        assert (await media.path(job, gen, "spritesheet")).name == "spritesheet.jpg"
        low = [await media.path(job, gen, "video_low") for _ in range(3)]
        assert low[0].name == "video_low.mp4" and len(set(low)) == 1
        assert (renders.media, renders.low) == (["a kite"], ["a kite"])
    finally:
        media.close()


@pytest.mark.anyio
async def test_a_waiter_that_gives_up_does_not_cancel_the_render(renders: Renders) -> None:
    store, media = jobs(render_workers=1)
    try:
        renders.gate.clear()
        first, second = new_job(store, "first"), new_job(store, "second")
        media.start(first)
        media.start(second)  # queued behind `first`
        with anyio.move_on_after(0.1):
            await media.path(second, second.generations[0], "video")
        renders.gate.set()
        assert (await media.path(second, second.generations[0], "video")).read_bytes() == b"second"
    finally:
        media.close()


@pytest.mark.anyio
async def test_discard_removes_files_and_later_reads_fail(renders: Renders) -> None:
    store, media = jobs(render_workers=1)
    try:
        done = new_job(store, "done")
        media.start(done)
        await media.path(done, done.generations[0], "video")
        media.discard(done)
        assert not (media.root / done.id).exists()
        with pytest.raises(MediaUnavailable):
            await media.path(done, done.generations[0], "video")

        renders.gate.clear()
        running, pending = new_job(store, "running"), new_job(store, "pending")
        media.start(running)
        media.start(pending)
        media.discard(pending)  # never started: cancelled
        media.discard(running)  # still writing: removed when it finishes
        renders.gate.set()
        for _ in range(100):
            if not (media.root / running.id).exists() and renders.media[-1:] == ["running"]:
                break
            await anyio.sleep(0.02)
        assert not (media.root / running.id).exists()
        assert "pending" not in renders.media
    finally:
        media.close()


@pytest.mark.anyio
async def test_failed_jobs_are_not_rendered_and_remixes_keep_the_source_spec(renders: Renders) -> None:
    store, media = jobs()
    try:
        failed = new_job(store, "gore at noon")  # an input moderation word
        media.start(failed)
        with pytest.raises(MediaUnavailable):
            await media.path(failed, failed.generations[0], "video")

        source = new_job(store, "source", image=b"img")
        media.start(source)
        media.discard(source)
        remix = new_job(store, "remix", remixed_from=source.id)
        media.start(remix)
        spec = media.spec(remix.id)
        assert spec is not None and spec.remix_of is not None
        assert (spec.remix_of.prompt, spec.remix_of.image, spec.audio, spec.fps) == (
            "source",
            b"img",
            True,
            24,
        )
    finally:
        media.close()
    assert "gore at noon" not in renders.media


def test_temporary_root_is_removed_on_close_but_a_data_dir_is_kept(tmp_path: Path) -> None:
    _, temporary = jobs()
    root = temporary.root
    assert root.is_dir()
    temporary.close()
    assert not root.exists()
    _, kept = jobs(data_dir=tmp_path / "media")
    kept.close()
    assert (tmp_path / "media").is_dir()
