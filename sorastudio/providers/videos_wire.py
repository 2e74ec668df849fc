"""Wire types of the `/videos` API: OpenAI native, Azure Sora 2 and compatible servers (spec §2, §3).

The status is a closed `Literal`; the rest is tolerant: extra fields (Azure's `usage`, a `quality`)
are ignored, and fields the spec calls required may be missing or null — compatible servers have
returned `seconds: null` after success, Azure has returned `prompt: null`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

VideoStatus = Literal["queued", "in_progress", "completed", "failed"]
VideoSize = str | Literal["720x1280", "1280x720", "1024x1792", "1792x1024"]
VideoModel = str | Literal["sora-2", "sora-2-pro"]
ContentVariant = Literal["video", "thumbnail", "spritesheet"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class VideoError(_Wire):
    code: str | None = None
    message: str | None = None


class Video(_Wire):
    id: str
    object: str = "video"
    model: VideoModel | None = None
    status: VideoStatus
    progress: int | None = None
    created_at: int | None = None
    completed_at: int | None = None
    expires_at: int | None = None
    prompt: str | None = None
    size: VideoSize | None = None
    seconds: str | None = None
    remixed_from_video_id: str | None = None
    error: VideoError | None = None

    @field_validator("seconds", mode="before")
    @classmethod
    def _seconds_as_text(cls, value: Any) -> Any:
        # The spec says string; some servers send a number. Keep "4", accept 4 and 4.0.
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return str(int(value)) if float(value).is_integer() else str(value)
        return value

    @field_validator("progress", mode="before")
    @classmethod
    def _progress_as_int(cls, value: Any) -> Any:
        if isinstance(value, float):
            return int(value)
        return value

    @field_validator("error", mode="before")
    @classmethod
    def _error_object(cls, value: Any) -> Any:
        if isinstance(value, str):  # a bare message from a compatible server
            return {"message": value}
        return value


class VideoList(_Wire):
    object: str = "list"
    data: list[Video] = Field(default_factory=list)
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class Deleted(_Wire):
    id: str
    object: str = "video.deleted"
    deleted: bool = True


class CreateVideoBody(_Wire):
    """`POST /videos` fields; sent as multipart form (what current OpenAI SDKs send, so every compatible
    server accepts it), with `input_reference` as a file part when there is an image."""

    prompt: str
    model: str | None = None
    size: str
    seconds: str

    def form_fields(self) -> list[tuple[str, tuple[None, str]]]:
        return [(name, (None, value)) for name, value in self.model_dump(exclude_none=True).items()]


class RemixBody(_Wire):
    prompt: str


__all__ = [
    "ContentVariant",
    "CreateVideoBody",
    "Deleted",
    "RemixBody",
    "Video",
    "VideoError",
    "VideoList",
    "VideoModel",
    "VideoSize",
    "VideoStatus",
]
