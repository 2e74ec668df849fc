"""providers/base.py helpers: the wire model name, image input, and reconciling a lost create."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from sorastudio.domain import Status, VideoRequest
from sorastudio.errors import SubmitOutcomeUnknown, ValidationError
from sorastudio.providers.base import RemoteJob, find_submitted, image_for, sniff_image, wire_model

SENT = 1_760_000_000.0


def encoded(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format=fmt)
    return out.getvalue()


def test_wire_model_prefers_override_then_deployment_then_the_bare_model() -> None:
    request = VideoRequest(prompt="x", model="openai/sora-2-pro")
    assert wire_model(request, None, None) == "sora-2-pro"
    assert wire_model(request, None, "my-deployment") == "my-deployment"
    assert wire_model(request, "override", "my-deployment") == "override"
    assert wire_model(VideoRequest(prompt="x", model="Wan-AI/Wan2.1"), None, None) == "Wan-AI/Wan2.1"


@pytest.mark.parametrize(
    ("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_images_are_recognised_by_content(fmt: str, mime: str) -> None:
    sniffed = sniff_image(encoded(fmt))
    assert sniffed is not None and sniffed[0] == mime


def test_image_input_from_a_path_and_refusal_of_non_images(tmp_path: Path) -> None:
    path = tmp_path / "photo.bin"
    path.write_bytes(encoded("PNG"))
    image = image_for(VideoRequest(prompt="x", model="sora-2", image=path), None)
    assert image is not None and (image.mime_type, image.filename) == ("image/png", "reference.png")
    assert image_for(VideoRequest(prompt="x", model="sora-2"), None) is None
    with pytest.raises(ValidationError, match="not a JPEG, PNG or WebP") as caught:
        image_for(VideoRequest(prompt="x", model="sora-2", image=b"GIF89a......"), None)
    assert caught.value.field == "image"


class Listing:
    def __init__(self, jobs: list[RemoteJob]) -> None:
        self.jobs = jobs
        self.since: datetime | None = None

    async def list(self, since: datetime | None = None, limit: int = 100) -> list[RemoteJob]:
        self.since = since
        return self.jobs


def remote(
    job_id: str,
    offset: float,
    prompt: str | None = "a kite",
    *,
    model: str | None = None,
    size: str | None = None,
    seconds: int | None = None,
    remixed_from: str | None = None,
) -> RemoteJob:
    return RemoteJob(
        id=job_id,
        status=Status.QUEUED,
        raw_status="queued",
        created_at=datetime.fromtimestamp(SENT + offset, tz=UTC),
        prompt=prompt,
        model=model,
        size=size,
        seconds=seconds,
        remixed_from=remixed_from,
    )


def lost(
    operation: str = "create",
    size: str | None = "720x1280",
    seconds: int | None = 4,
    source_id: str | None = None,
) -> SubmitOutcomeUnknown:
    return SubmitOutcomeUnknown(
        "lost",
        operation=operation,
        prompt="a kite",
        model="sora-2",
        sent_at=SENT,
        failed_at=SENT + 60,
        size=size,
        seconds=seconds,
        source_id=source_id,
    )


@pytest.mark.anyio
async def test_find_submitted_matches_what_both_sides_know() -> None:
    provider = Listing(
        [
            remote("exact", 2, model="sora-2-2025-10-06", size="720x1280", seconds=4),
            remote("no-prompt", 1, prompt=None, size="720x1280", seconds=4),  # Azure may echo no prompt
            remote("other-prompt", 1, prompt="a dog"),
            remote("other-size", 1, size="1280x720"),
            remote("other-seconds", 1, seconds=8),
            remote("other-model", 1, model="veo-3"),
            remote("too-late", 900),
        ]
    )
    found = await find_submitted(provider, lost(), skew=300)
    assert [job.id for job in found] == ["exact", "no-prompt"]
    assert provider.since == datetime.fromtimestamp(SENT - 300, tz=UTC)


@pytest.mark.anyio
async def test_find_submitted_for_a_remix_checks_the_source() -> None:
    provider = Listing(
        [remote("right", 1, remixed_from="video_src"), remote("wrong", 1, remixed_from="video_other")]
    )
    found = await find_submitted(
        provider, lost(operation="remix", source_id="video_src", size=None, seconds=None)
    )  # type: ignore[arg-type]
    assert [job.id for job in found] == ["right"]
