"""The library: `Studio` (sync) mirrors `AsyncStudio`; end to end on the built-in emulator profile."""

from __future__ import annotations

import inspect
import io
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import av
import pytest
from PIL import Image

from sorastudio import ledger
from sorastudio.domain import Status
from sorastudio.errors import ValidationError
from sorastudio.studio import AsyncGenerationHandle, AsyncStudio
from sorastudio.sync import GenerationHandle, Studio
from tests.engine.conftest import FAST_SETTINGS, EmulatorRun, add_sora1_profile, fast_clock

ASYNC_ONLY = {"aclose"}
SYNC_ONLY = {"close"}


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def _shape(signature: inspect.Signature) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"), [(Studio, AsyncStudio), (GenerationHandle, AsyncGenerationHandle)]
)
def test_sync_and_async_signatures_are_in_sync(sync_cls: type, async_cls: type) -> None:
    sync_methods = _public_methods(sync_cls)
    async_methods = _public_methods(async_cls)
    assert set(sync_methods) - SYNC_ONLY == set(async_methods) - ASYNC_ONLY
    for name, signature in async_methods.items():
        if name in ASYNC_ONLY:
            continue
        assert _shape(sync_methods[name]) == _shape(signature), name
        assert inspect.iscoroutinefunction(getattr(async_cls, name)), name
        assert not inspect.iscoroutinefunction(getattr(sync_cls, name)), name
    assert _shape(inspect.signature(sync_cls.__init__)) == _shape(inspect.signature(async_cls.__init__))
    properties = {n for n, v in inspect.getmembers(async_cls) if isinstance(v, property)}
    assert properties <= {n for n, v in inspect.getmembers(sync_cls) if isinstance(v, property)} | {"store"}


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def test_library_end_to_end_on_the_builtin_emulator_profile(
    start_emulator: Callable[..., EmulatorRun], tmp_path: Path
) -> None:
    run = start_emulator()
    with Studio(emulator_url=run.url, clock=fast_clock(), worker_settings=FAST_SETTINGS) as studio:
        handle = studio.generate("a red kite over a green park", seconds=4)  # sora-2, 720x1280 by default
        assert isinstance(handle, GenerationHandle) and handle.status is Status.QUEUED
        video = handle.wait()
        assert video.status is Status.COMPLETED and video.profile == "emulator"
        assert video.actual_cost == Decimal("0.4000")
        assert {a.kind for a in video.assets} == {"video", "thumbnail", "spritesheet"}
        with av.open(str(video.paths[0])) as container:
            assert container.streams.audio  # Sora 2 has sound
            assert container.streams.video[0].codec_context.height == 1280

        picture = tmp_path / "photo.png"
        picture.write_bytes(_png(640, 480))  # 4:3, will be cover-cropped to 720x1280
        from_image = studio.generate("the photo comes alive", seconds=4, image=picture).wait()
        assert from_image.status is Status.COMPLETED and from_image.mode == "image"

        remix = studio.remix(video.id, "the same kite at night").wait()
        assert (remix.status, remix.parent_id, remix.mode) == (Status.COMPLETED, video.id, "remix")
        assert run.create_count == 3

        assert [g.id for g in studio.list(query="kite")] == [remix.id, video.id]
        assert [g.id for g in studio.list(mode="image")] == [from_image.id]
        copies = studio.download(video.id, tmp_path / "out.mp4")
        assert copies == [tmp_path / "out.mp4"] and copies[0].read_bytes() == video.paths[0].read_bytes()

        deleted = studio.delete(video.id)
        assert deleted.id == video.id and not video.paths[0].exists()
        with pytest.raises(ValidationError, match="does not exist"):
            studio.get(video.id)
        with studio.store.session() as session:  # money spent stays spent
            assert ledger.totals(session)[0].actual == Decimal("1.2000")
        assert run.jobs and any(j.id == video.remote_id for j in run.jobs)  # remote copy kept


def test_bad_input_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    with Studio(emulator_url="http://127.0.0.1:9") as studio:
        with pytest.raises(ValidationError) as info:
            studio.generate("a kite", size="640x480")
        assert info.value.field == "size" and "1280x720" in str(info.value)
        with pytest.raises(ValidationError, match="profile 'nope' does not exist"):
            studio.generate("a kite", profile="nope")
        with pytest.raises(ValidationError) as missing:
            studio.generate("a kite", image=tmp_path / "missing.png")
        assert missing.value.field == "image"
        with pytest.raises(ValidationError) as cancel:
            studio.retry("01M00000000000000000000000")
        assert cancel.value.field == "generation_id"
        assert studio.list() == [] and studio.profiles.list() == []  # not even the default profile
        assert studio.estimate(seconds=8).total == Decimal("0.8000")
        (profile,) = studio.profiles.list()
        assert profile.name == "emulator" and profile.has_key and not hasattr(profile, "api_key")


def test_a_profile_serves_its_own_model(start_emulator: Callable[..., EmulatorRun]) -> None:
    run = start_emulator()
    with Studio(emulator_url=run.url, clock=fast_clock(), worker_settings=FAST_SETTINGS) as studio:
        # The built-in emulator profile reaches every emulator deployment, named after its model.
        pro = studio.generate("a kite", model="sora-2-pro", seconds=4).wait()
        assert (pro.status, pro.deployment, pro.actual_cost) == (
            Status.COMPLETED,
            "sora-2-pro",
            Decimal("1.2000"),
        )
        add_sora1_profile(studio.store, run.url)
        with pytest.raises(ValidationError) as info:
            studio.generate("a kite", model="sora-2", profile="sora1")
        assert info.value.field == "model" and "choose model sora" in str(info.value)
        with pytest.raises(ValidationError) as priority:
            studio.generate("a kite", priority="high")  # type: ignore[arg-type]
        assert priority.value.field == "priority"


def test_sync_run_worker_until_the_event_is_set(start_emulator: Callable[..., EmulatorRun]) -> None:
    run = start_emulator()
    with Studio(emulator_url=run.url, clock=fast_clock(), worker_settings=FAST_SETTINGS) as studio:
        add_sora1_profile(studio.store, run.url)
        handles = [studio.generate(f"job {n}", size="480x480", seconds=1) for n in range(3)]
        stop = threading.Event()
        engine = threading.Thread(target=studio.run_worker, args=(stop,))
        engine.start()
        try:
            for _ in range(300):
                if all(h.status.terminal for h in handles):
                    break
                time.sleep(0.05)
        finally:
            stop.set()
            engine.join(10)
        assert not engine.is_alive()
        assert [h.status for h in handles] == [Status.COMPLETED] * 3
        assert all(len(h.paths) == 1 for h in handles)
