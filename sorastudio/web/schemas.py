"""JSON shapes of the web API. A generation is `schemas.GenerationPublic` with file paths replaced by
URLs: the server's filesystem layout never reaches a client, and media are fetched by id only."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from sorastudio.domain import Status
from sorastudio.ledger import format_money
from sorastudio.schemas import GenerationPublic
from sorastudio.web.reads import LineageNode, Page


def media_url(generation_id: str, kind: str, variant: int = 0) -> str:
    return f"/media/{generation_id}/{kind}/{variant}"


class AssetOut(BaseModel):
    kind: str
    variant: int
    bytes: int
    content_type: str
    url: str


class GenerationOut(BaseModel):
    id: str
    status: Status
    terminal: bool
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
    parent_id: str | None
    estimated_cost: Decimal | None
    actual_cost: Decimal | None
    cost_display: str = Field(description="actual cost once settled, else the estimate prefixed '~'")
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime | None
    assets: list[AssetOut]
    video_url: str | None
    thumbnail_url: str | None
    spritesheet_url: str | None

    @classmethod
    def of(cls, info: GenerationPublic) -> GenerationOut:
        assets = [
            AssetOut(
                kind=a.kind,
                variant=a.variant,
                bytes=a.bytes,
                content_type=a.content_type,
                url=media_url(info.id, a.kind, a.variant),
            )
            for a in info.assets
        ]
        first = {a.kind: a.url for a in sorted(assets, key=lambda a: -a.variant)}  # variant 0 wins
        data: dict[str, Any] = info.model_dump(exclude={"assets", "remote_id", "deployment"})
        return cls(
            **data,
            terminal=info.terminal,
            cost_display=cost_display(info),
            assets=assets,
            video_url=first.get("video"),
            thumbnail_url=first.get("thumbnail"),
            spritesheet_url=first.get("spritesheet"),
        )


def cost_display(info: GenerationPublic) -> str:
    if info.actual_cost is not None:
        return format_money(info.actual_cost)
    return f"~{format_money(info.estimated_cost)}" if info.estimated_cost is not None else "–"


class GenerationPage(BaseModel):
    items: list[GenerationOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page) -> GenerationPage:
        return cls(items=[GenerationOut.of(g) for g in page.items], next_cursor=page.next_cursor)


class LineageOut(BaseModel):
    generation: GenerationOut
    depth: int
    children: list[LineageOut]

    @classmethod
    def of(cls, node: LineageNode) -> LineageOut:
        return cls(
            generation=GenerationOut.of(node.generation),
            depth=node.depth,
            children=[cls.of(child) for child in node.children],
        )


class RemixIn(BaseModel):
    prompt: str
    profile: str | None = None


class EstimateIn(BaseModel):
    profile: str | None = None
    model: str | None = None
    size: str | None = None
    seconds: int | None = None
    variants: int = 1
    mode: str = "text"
    remix_of: str | None = None


class BudgetIn(BaseModel):
    scope: str
    limit: Decimal | None = Field(None, description="dollars; null removes the budget")
    profile: str | None = None


class ProfileIn(BaseModel):
    name: str
    api_kind: str
    endpoint: str
    auth_method: str | None = None
    api_key: str | None = Field(None, description="write-only: stored encrypted, never returned")
    deployment: str | None = None
    model: str | None = None
    api_version: str | None = None
    running_cap: int = 2
    creates_per_minute: int | None = None


class ProfileOut(BaseModel):
    name: str
    api_kind: str
    endpoint: str
    deployment: str | None
    model: str | None
    api_version: str | None
    auth_method: str
    has_key: bool
    running_cap: int
    creates_per_minute: int
    requests_per_minute: int
    created_at: datetime


__all__ = [
    "AssetOut",
    "BudgetIn",
    "EstimateIn",
    "GenerationOut",
    "GenerationPage",
    "LineageOut",
    "ProfileIn",
    "ProfileOut",
    "RemixIn",
    "cost_display",
    "media_url",
]
