"""Public result types of the library (and the JSON the CLI and web API print): never ORM rows, never keys.

`GenerationPublic.of(row)` is the one translation from the database; asset paths come out absolute
(resolved under the media folder by `media.resolve`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sorastudio import media
from sorastudio.domain import Status
from sorastudio.store.models import Asset, Generation, GenerationEvent


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class AssetPublic(_Public):
    id: int
    kind: str  # video, thumbnail, spritesheet
    variant: int
    path: Path
    bytes: int
    content_type: str
    sha256: str | None

    @classmethod
    def of(cls, row: Asset) -> AssetPublic:
        return cls(
            id=row.id,
            kind=row.kind,
            variant=row.variant,
            path=media.resolve(row.path),
            bytes=row.bytes,
            content_type=row.content_type,
            sha256=row.sha256,
        )


class EventPublic(_Public):
    id: int
    generation_id: str
    at: datetime
    status: Status
    progress: int | None
    message: str | None

    @classmethod
    def of(cls, row: GenerationEvent) -> EventPublic:
        return cls(
            id=row.id,
            generation_id=row.generation_id,
            at=row.at,
            status=Status(row.status),
            progress=row.progress,
            message=row.message,
        )


class GenerationPublic(_Public):
    id: str
    status: Status
    progress: int
    status_message: str | None
    error: str | None
    prompt: str
    model: str
    mode: str
    size: str
    seconds: int
    variants: int
    fit: str | None
    priority: int
    profile: str | None
    deployment: str | None
    remote_id: str | None
    parent_id: str | None
    estimated_cost: Decimal | None
    actual_cost: Decimal | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime | None
    assets: list[AssetPublic]

    @property
    def terminal(self) -> bool:
        return self.status.terminal

    @property
    def paths(self) -> list[Path]:
        """The video files, variant order."""
        return [a.path for a in sorted(self.assets, key=lambda a: a.variant) if a.kind == "video"]

    @classmethod
    def of(cls, row: Generation) -> GenerationPublic:
        return cls(
            id=row.id,
            status=Status(row.status),
            progress=row.progress,
            status_message=row.status_message,
            error=row.error,
            prompt=row.prompt,
            model=row.model,
            mode=row.mode,
            size=f"{row.width}x{row.height}",
            seconds=row.seconds,
            variants=row.variants,
            fit=row.fit,
            priority=row.priority,
            profile=row.profile.name if row.profile is not None else None,
            deployment=row.deployment,
            remote_id=row.remote_id,
            parent_id=row.parent_id,
            estimated_cost=row.estimated_cost,
            actual_cost=row.actual_cost,
            created_at=row.created_at,
            updated_at=row.updated_at,
            submitted_at=row.submitted_at,
            completed_at=row.completed_at,
            expires_at=row.expires_at,
            assets=[AssetPublic.of(a) for a in sorted(row.assets, key=lambda a: (a.variant, a.kind))],
        )


__all__ = ["AssetPublic", "EventPublic", "GenerationPublic"]
