"""Wire types of the Azure OpenAI Sora 1 jobs API (`/openai/v1/video/generations/…`, spec §4).

Statuses are a closed `Literal` (an unknown one is an error we want to see, not a silent guess);
everything else is parsed defensively: unknown fields are ignored and optional ones may be missing
or null, because the preview service and compatible servers differ from the published schema.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["preprocessing", "queued", "running", "processing", "cancelled", "succeeded", "failed"]
FailureReason = str | Literal["input_moderation", "output_moderation", "internal_error"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class VideoGeneration(_Wire):
    """One generated clip (a variant) of a job; its media live at `/video/generations/{id}/content/…`."""

    object: str = "video.generation"
    id: str
    job_id: str | None = None
    created_at: int | None = None
    width: int | None = None
    height: int | None = None
    n_seconds: int | None = None
    prompt: str | None = None


class VideoGenerationJob(_Wire):
    object: str = "video.generation.job"
    id: str
    status: JobStatus
    created_at: int | None = None
    finished_at: int | None = None
    expires_at: int | None = None
    generations: list[VideoGeneration] | None = None
    prompt: str | None = None
    model: str | None = None
    n_variants: int | None = None
    n_seconds: int | None = None
    height: int | None = None
    width: int | None = None
    failure_reason: FailureReason | None = None


class VideoGenerationJobList(_Wire):
    object: str = "list"
    data: list[VideoGenerationJob] = Field(default_factory=list)
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class CropBounds(_Wire):
    left_fraction: float = 0.0
    top_fraction: float = 0.0
    right_fraction: float = 1.0
    bottom_fraction: float = 1.0


class InpaintItem(_Wire):
    frame_index: int = 0
    type: Literal["image", "video"] = "image"
    file_name: str
    crop_bounds: CropBounds | None = None


class CreateVideoGenerationRequest(_Wire):
    """The JSON body of `POST /video/generations/jobs` (the multipart form carries the same fields)."""

    model: str
    prompt: str
    width: int
    height: int
    n_seconds: int
    n_variants: int = 1

    def form_fields(self, inpaint_items: list[InpaintItem]) -> list[tuple[str, tuple[None, str]]]:
        """Multipart form fields: numbers as strings, `inpaint_items` as a JSON-encoded string (spec §4.2)."""
        fields = [(name, (None, str(value))) for name, value in self.model_dump().items()]
        items = json.dumps([item.model_dump(exclude_none=True) for item in inpaint_items])
        fields.append(("inpaint_items", (None, items)))
        return fields


__all__ = [
    "CreateVideoGenerationRequest",
    "CropBounds",
    "FailureReason",
    "InpaintItem",
    "JobStatus",
    "VideoGeneration",
    "VideoGenerationJob",
    "VideoGenerationJobList",
]
