"""The provider protocol and the typed results every provider returns.

A provider speaks one wire format (Azure Sora 1 jobs, or `/videos`) to one endpoint. Everything it
returns is a `RemoteJob` or an `Asset`: no wire dict, no HTTP object leaves `providers/`.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from sorastudio.domain import Mode, Status, VideoRequest, parse_size
from sorastudio.errors import SubmitOutcomeUnknown, ValidationError

AssetKind = Literal["video", "thumbnail", "spritesheet"]


@dataclass(frozen=True)
class RemoteJob:
    """A provider's job, translated. `raw_status` is the provider's own word ("succeeded", "in_progress").

    `generation_ids` are the Sora 1 variants (their media are downloaded one by one); a `/videos` job
    has exactly one, its own id. `poll_hint` is the server's "poll again after" in seconds, if it sent
    one with this answer (`openai-poll-after-ms`, `retry-after-ms`, `Retry-After`).
    """

    id: str
    status: Status
    raw_status: str
    progress: int | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    expires_at: datetime | None = None
    model: str | None = None
    prompt: str | None = None
    size: str | None = None
    seconds: int | None = None
    variants: int = 1
    generation_ids: tuple[str, ...] = ()
    failure_reason: str | None = None
    failure_message: str | None = None
    remixed_from: str | None = None
    poll_hint: float | None = None


@dataclass(frozen=True)
class Asset:
    """One downloaded file. `variant` is the Sora 1 variant index (0 for `/videos`)."""

    kind: AssetKind
    variant: int
    path: Path
    size_bytes: int
    content_type: str
    sha256: str
    source_id: str  # the generation (Sora 1) or video id the file came from


@dataclass(frozen=True)
class Capabilities:
    modes: frozenset[Mode]
    max_variants: int
    assets: tuple[AssetKind, ...]
    # Whether the server's list is usable for reconciling a lost create (a compatible server may lack it).
    can_list: bool = True


class ImageInput(Protocol):
    """A reference image ready to send (`images.FittedImage` is one)."""

    @property
    def data(self) -> bytes: ...
    @property
    def mime_type(self) -> str: ...
    @property
    def filename(self) -> str: ...


@dataclass(frozen=True)
class RawImage:
    data: bytes
    mime_type: str
    filename: str


@runtime_checkable
class Provider(Protocol):
    """What the engine needs from any video API."""

    capabilities: Capabilities

    async def submit(
        self, request: VideoRequest, *, image: ImageInput | None = None, model: str | None = None
    ) -> RemoteJob:
        """Create the job once (never retried; see `SubmitOutcomeUnknown`). `model` overrides the wire
        model (the Azure deployment name); `image` overrides `request.image` (send a fitted image)."""
        ...

    async def status(self, remote_id: str) -> RemoteJob: ...

    async def download(self, job: RemoteJob, directory: Path) -> builtins.list[Asset]:
        """Every asset of a completed job into `directory`; the video first, always."""
        ...

    async def remix(self, remote_id: str, prompt: str, *, model: str | None = None) -> RemoteJob: ...

    async def delete(self, remote_id: str) -> None: ...

    async def list(self, since: datetime | None = None, limit: int = 100) -> builtins.list[RemoteJob]:
        """Jobs newest first, stopping at `since` (inclusive) or after `limit` jobs."""
        ...

    async def aclose(self) -> None: ...


class Lister(Protocol):
    """The part of a provider that reconciliation needs."""

    async def list(self, since: datetime | None = None, limit: int = 100) -> builtins.list[RemoteJob]: ...


class StatusReader(Protocol):
    """The part of a provider that polling needs."""

    async def status(self, remote_id: str) -> RemoteJob: ...


# -- helpers the providers share -----------------------------------------------------------------------

_PROVIDER_PREFIXES = ("azure/", "openai/", "compatible/")


def wire_model(request: VideoRequest, override: str | None, deployment: str | None) -> str:
    """The `model` the wire wants: explicit override, else the endpoint's deployment, else the request's
    model without a catalog provider prefix ("openai/sora-2" → "sora-2")."""
    if override:
        return override
    if deployment:
        return deployment
    name = request.model
    for prefix in _PROVIDER_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def dimensions(request: VideoRequest) -> tuple[int, int, int]:
    """(width, height, seconds); the request must have been through `domain.validate_request`."""
    if request.size is None or request.seconds is None:
        missing = "size" if request.size is None else "seconds"
        raise ValidationError(
            f"{missing} is missing: run domain.validate_request first, which fills in the model's default",
            field=missing,
        )
    width, height = parse_size(request.size)
    return width, height, request.seconds


_MAGIC: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"WEBP", 8, "image/webp", "webp"),
)


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """(mime type, extension) of a JPEG, PNG or WebP from its first bytes, else None."""
    for magic, offset, mime, ext in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if ext == "webp" and not data.startswith(b"RIFF"):
                continue
            return mime, ext
    return None


def image_for(request: VideoRequest, image: ImageInput | None) -> ImageInput | None:
    """The image to send in image mode: the given one, else `request.image` as is (bytes or a file)."""
    if request.mode is not Mode.IMAGE:
        return None
    if image is not None:
        return image
    raw = request.image
    data = raw.read_bytes() if isinstance(raw, Path) else raw
    kind = sniff_image(data or b"")
    if not data or kind is None:
        raise ValidationError(
            "image is not a JPEG, PNG or WebP file: convert it, or fit it with images.fit_image",
            field="image",
            value=str(raw) if isinstance(raw, Path) else f"<{len(data or b'')} bytes>",
            allowed=("image/jpeg", "image/png", "image/webp"),
        )
    mime, ext = kind
    return RawImage(data=data, mime_type=mime, filename=f"reference.{ext}")


def unix_time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


async def find_submitted(
    provider: Lister, lost: SubmitOutcomeUnknown, *, skew: float = 300.0, limit: int = 100
) -> builtins.list[RemoteJob]:
    """Jobs that may be the one a lost create made, best match first (empty: safe to submit again).

    Looks `skew` seconds either side of the send window, because the server's clock is not ours.
    A job matches when every field both sides know agrees: prompt (Azure may return none), model
    (a snapshot name may be echoed as its base), size, seconds and the remix source.
    """
    start = datetime.fromtimestamp(lost.sent_at - skew, tz=UTC)
    end = datetime.fromtimestamp(lost.failed_at + skew, tz=UTC)
    candidates = []
    for job in await provider.list(since=start, limit=limit):
        if job.created_at is not None and not start <= job.created_at <= end:
            continue
        if job.prompt is not None and job.prompt != lost.prompt:
            continue
        if (
            lost.model
            and job.model
            and not (job.model.startswith(lost.model) or lost.model.startswith(job.model))
        ):
            continue
        if lost.size and job.size and job.size != lost.size:
            continue
        if lost.seconds and job.seconds and job.seconds != lost.seconds:
            continue
        if lost.source_id and job.remixed_from and job.remixed_from != lost.source_id:
            continue
        candidates.append(job)
    sent = datetime.fromtimestamp(lost.sent_at, tz=UTC)

    def rank(job: RemoteJob) -> tuple[int, float]:
        distance = abs((job.created_at - sent).total_seconds()) if job.created_at else skew
        return (0 if job.prompt == lost.prompt else 1, distance)

    return sorted(candidates, key=rank)


__all__ = [
    "Asset",
    "AssetKind",
    "Capabilities",
    "ImageInput",
    "Lister",
    "Provider",
    "RawImage",
    "RemoteJob",
    "StatusReader",
    "dimensions",
    "find_submitted",
    "image_for",
    "sniff_image",
    "unix_time",
    "wire_model",
]
