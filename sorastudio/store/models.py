"""The database schema as SQLAlchemy 2 typed models.

Migrations in `store/migrations/versions/` must match these models (`alembic check` is a test). The
full-text search objects (SQLite FTS5 table + triggers, PostgreSQL GIN index) live only in migrations:
they are not expressible as portable models, and `migrations/env.py` hides them from autogenerate.

Conventions: ids of generations are ULIDs (sortable by creation time); every timestamp is timezone-aware
UTC in Python (SQLite stores naive UTC text); money is `Numeric(12, 4)` → `Decimal`; vocabularies are
strings guarded by CHECK constraints (readable in any SQL client, no native ENUM to migrate).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sorastudio.domain import Fit, Mode, Status

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, 26 Crockford base-32 characters."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python on every backend; refuses naive values (ambiguous local time)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime (UTC)")
        value = value.astimezone(UTC)
        # SQLite stores text; naive UTC keeps comparisons in SQL lexical and correct.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Numeric(12, 4)


class ApiKind(StrEnum):
    """Which provider API a profile talks to."""

    AZURE_SORA1 = "azure_sora1"  # Azure /openai/v1/video/generations/jobs
    AZURE_VIDEOS = "azure_videos"  # Azure Sora 2 /openai/v1/videos
    OPENAI = "openai"  # api.openai.com /v1/videos
    COMPATIBLE = "compatible"  # any /v1/videos server (vLLM-Omni, SGLang, the emulator)


class AuthMethod(StrEnum):
    API_KEY = "api-key"  # Azure `api-key` header
    BEARER = "bearer"  # `Authorization: Bearer <key>`
    ENTRA = "entra"  # Microsoft Entra ID token via azure-identity; no stored key


class AssetKind(StrEnum):
    VIDEO = "video"
    THUMBNAIL = "thumbnail"
    SPRITESHEET = "spritesheet"


class LedgerState(StrEnum):
    RESERVED = "reserved"  # counts `reserved` against budgets
    SETTLED = "settled"  # counts `actual`
    RELEASED = "released"  # counts nothing (failed / cancelled)


class BudgetScope(StrEnum):
    TOTAL = "total"  # everything, all time
    DAY = "day"  # everything reserved on one calendar day
    PROFILE = "profile"  # one profile, all time


def one_of(column: str, values: type[StrEnum], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        Decimal: Money,
    }


class Profile(Base):
    """A named provider connection. The API key is Fernet-encrypted (see `sorastudio.secrets`)."""

    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    api_kind: Mapped[str] = mapped_column(String(16))
    endpoint: Mapped[str] = mapped_column(String(2048))
    deployment: Mapped[str | None] = mapped_column(String(128))
    model: Mapped[str | None] = mapped_column(String(64))
    api_version: Mapped[str | None] = mapped_column(String(32))
    auth_method: Mapped[str] = mapped_column(String(16))
    api_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    running_cap: Mapped[int] = mapped_column(Integer, default=2)
    creates_per_minute: Mapped[int] = mapped_column(Integer, default=0)  # 0 = unlimited
    requests_per_minute: Mapped[int] = mapped_column(Integer, default=60)  # 0 = unlimited
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        one_of("api_kind", ApiKind, "api_kind"),
        one_of("auth_method", AuthMethod, "auth_method"),
        CheckConstraint("running_cap >= 1", name="running_cap"),
        CheckConstraint("creates_per_minute >= 0", name="creates_per_minute"),
        CheckConstraint("requests_per_minute >= 0", name="requests_per_minute"),
    )

    def __repr__(self) -> str:  # never shows the key blob
        return f"Profile(id={self.id!r}, name={self.name!r}, api_kind={self.api_kind!r})"


class Generation(Base):
    """One requested video job (all its variants), from submission to stored files."""

    __tablename__ = "generations"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"), index=True)
    # Copied from the profile when created: a remote id is only meaningful where it was issued.
    endpoint: Mapped[str | None] = mapped_column(String(2048))
    deployment: Mapped[str | None] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16), default=Mode.TEXT.value)
    prompt: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(Integer)
    variants: Mapped[int] = mapped_column(Integer, default=1)
    fit: Mapped[str | None] = mapped_column(String(16))
    input_image_path: Mapped[str | None] = mapped_column(String(1024))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("generations.id", ondelete="SET NULL"), index=True
    )
    remote_id: Mapped[str | None] = mapped_column(String(128), index=True)
    remote_generation_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED.value)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    status_message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    estimated_cost: Mapped[Decimal | None] = mapped_column(Money)
    actual_cost: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None] = mapped_column()

    profile: Mapped[Profile | None] = relationship()
    parent: Mapped[Generation | None] = relationship(remote_side=[id])
    assets: Mapped[list[Asset]] = relationship(
        back_populates="generation", cascade="all, delete-orphan", passive_deletes=True
    )
    events: Mapped[list[GenerationEvent]] = relationship(
        back_populates="generation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="GenerationEvent.id",
    )

    __table_args__ = (
        one_of("status", Status, "status"),
        one_of("mode", Mode, "mode"),
        CheckConstraint("fit IS NULL OR fit IN (" + ", ".join(f"'{f.value}'" for f in Fit) + ")", name="fit"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress"),
        CheckConstraint("width > 0 AND height > 0 AND seconds > 0 AND variants > 0", name="shape"),
        # Gallery: newest first, optionally filtered by status or model.
        Index("ix_generations_created_at", "created_at"),
        Index("ix_generations_status_created_at", "status", "created_at"),
        Index("ix_generations_model_created_at", "model", "created_at"),
        # Engine: next job to claim.
        Index("ix_generations_queue", "status", "priority", "next_attempt_at"),
    )

    def __repr__(self) -> str:
        return f"Generation(id={self.id!r}, status={self.status!r}, model={self.model!r})"


class Asset(Base):
    """A stored file of a generation: the video, thumbnail or spritesheet of one variant."""

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[str] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    variant: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str] = mapped_column(String(1024))
    bytes: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    generation: Mapped[Generation] = relationship(back_populates="assets")

    __table_args__ = (
        one_of("kind", AssetKind, "kind"),
        UniqueConstraint("generation_id", "kind", "variant"),
    )


class GenerationEvent(Base):
    """One step in a generation's life (status change or progress); feeds SSE and CLI progress."""

    __tablename__ = "generation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[str] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)

    generation: Mapped[Generation] = relationship(back_populates="events")

    __table_args__ = (
        one_of("status", Status, "status"),
        Index("ix_generation_events_generation_id_id", "generation_id", "id"),
    )


class LedgerEntry(Base):
    """Money for one generation: estimated → reserved → settled (actual) or released (0).

    Survives deletion of its generation (`generation_id` becomes NULL): money spent stays spent.
    `model` is copied so totals by model survive too.
    """

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[str | None] = mapped_column(
        ForeignKey("generations.id", ondelete="SET NULL"), unique=True
    )
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"), index=True)
    model: Mapped[str | None] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(index=True)
    estimated: Mapped[Decimal] = mapped_column(Money)
    reserved: Mapped[Decimal] = mapped_column(Money)
    actual: Mapped[Decimal | None] = mapped_column(Money)
    state: Mapped[str] = mapped_column(String(16), default=LedgerState.RESERVED.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        one_of("state", LedgerState, "state"),
        CheckConstraint(
            "estimated >= 0 AND reserved >= 0 AND (actual IS NULL OR actual >= 0)", name="amounts"
        ),
    )


class Budget(Base):
    """A spending limit: over everything (`total`), per calendar day (`day`), or per profile."""

    __tablename__ = "budgets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    limit_amount: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    profile: Mapped[Profile | None] = relationship()

    __table_args__ = (
        one_of("scope", BudgetScope, "scope"),
        CheckConstraint(
            "(scope = 'profile' AND profile_id IS NOT NULL) OR (scope <> 'profile' AND profile_id IS NULL)",
            name="scope_profile",
        ),
        CheckConstraint("limit_amount >= 0", name="limit_amount"),
        # NULLs are distinct in unique constraints: ledger.budget_set() keeps total/day unique.
        UniqueConstraint("scope", "profile_id"),
    )
