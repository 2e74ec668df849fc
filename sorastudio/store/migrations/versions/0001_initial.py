"""Initial schema: profiles, generations, assets, events, ledger, budgets; prompt full-text search.

Full-text search is dialect-specific and invisible to autogenerate (see env.py):
* SQLite: FTS5 table `generation_fts(prompt, generation_id UNINDEXED)` kept in sync by triggers. It stores
  its own copy of the prompt because `generations` has no stable integer rowid to point at
  (a text primary key leaves the rowid free to change on VACUUM).
* PostgreSQL: a GIN index on `to_tsvector('english', prompt)`; store/search.py queries that expression.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "'queued', 'preprocessing', 'running', 'downloading', 'completed', 'failed', 'cancelled', 'expired'"
)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _money(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.Numeric(precision=12, scale=4), nullable=nullable)


SQLITE_FTS = [
    "CREATE VIRTUAL TABLE generation_fts USING fts5("
    "prompt, generation_id UNINDEXED, tokenize = 'porter unicode61')",
    """CREATE TRIGGER generation_fts_insert AFTER INSERT ON generations BEGIN
        INSERT INTO generation_fts (prompt, generation_id) VALUES (new.prompt, new.id);
    END""",
    """CREATE TRIGGER generation_fts_update AFTER UPDATE OF prompt ON generations BEGIN
        UPDATE generation_fts SET prompt = new.prompt WHERE generation_id = old.id;
    END""",
    """CREATE TRIGGER generation_fts_delete AFTER DELETE ON generations BEGIN
        DELETE FROM generation_fts WHERE generation_id = old.id;
    END""",
]


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("api_kind", sa.String(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=2048), nullable=False),
        sa.Column("deployment", sa.String(length=128), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("api_version", sa.String(length=32), nullable=True),
        sa.Column("auth_method", sa.String(length=16), nullable=False),
        sa.Column("api_key_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("running_cap", sa.Integer(), nullable=False),
        sa.Column("creates_per_minute", sa.Integer(), nullable=False),
        sa.Column("requests_per_minute", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "api_kind IN ('azure_sora1', 'azure_videos', 'openai', 'compatible')",
            name=op.f("ck_profiles_api_kind"),
        ),
        sa.CheckConstraint(
            "auth_method IN ('api-key', 'bearer', 'entra')", name=op.f("ck_profiles_auth_method")
        ),
        sa.CheckConstraint("creates_per_minute >= 0", name=op.f("ck_profiles_creates_per_minute")),
        sa.CheckConstraint("requests_per_minute >= 0", name=op.f("ck_profiles_requests_per_minute")),
        sa.CheckConstraint("running_cap >= 1", name=op.f("ck_profiles_running_cap")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
        sa.UniqueConstraint("name", name=op.f("uq_profiles_name")),
    )
    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        _money("limit_amount", nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "(scope = 'profile' AND profile_id IS NOT NULL) OR (scope <> 'profile' AND profile_id IS NULL)",
            name=op.f("ck_budgets_scope_profile"),
        ),
        sa.CheckConstraint("scope IN ('total', 'day', 'profile')", name=op.f("ck_budgets_scope")),
        sa.CheckConstraint("limit_amount >= 0", name=op.f("ck_budgets_limit_amount")),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name=op.f("fk_budgets_profile_id_profiles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint("scope", "profile_id", name=op.f("uq_budgets_scope_profile_id")),
    )
    op.create_table(
        "generations",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("endpoint", sa.String(length=2048), nullable=True),
        sa.Column("deployment", sa.String(length=128), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("variants", sa.Integer(), nullable=False),
        sa.Column("fit", sa.String(length=16), nullable=True),
        sa.Column("input_image_path", sa.String(length=1024), nullable=True),
        sa.Column("parent_id", sa.String(length=26), nullable=True),
        sa.Column("remote_id", sa.String(length=128), nullable=True),
        sa.Column("remote_generation_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _money("estimated_cost", nullable=True),
        _money("actual_cost", nullable=True),
        *_timestamps(),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "fit IS NULL OR fit IN ('cover', 'contain', 'stretch')", name=op.f("ck_generations_fit")
        ),
        sa.CheckConstraint("mode IN ('text', 'image', 'remix')", name=op.f("ck_generations_mode")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_generations_status")),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name=op.f("ck_generations_progress")),
        sa.CheckConstraint(
            "width > 0 AND height > 0 AND seconds > 0 AND variants > 0", name=op.f("ck_generations_shape")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["generations.id"],
            name=op.f("fk_generations_parent_id_generations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_generations_profile_id_profiles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
    )
    op.create_index("ix_generations_created_at", "generations", ["created_at"])
    op.create_index("ix_generations_status_created_at", "generations", ["status", "created_at"])
    op.create_index("ix_generations_model_created_at", "generations", ["model", "created_at"])
    op.create_index("ix_generations_queue", "generations", ["status", "priority", "next_attempt_at"])
    op.create_index(op.f("ix_generations_parent_id"), "generations", ["parent_id"])
    op.create_index(op.f("ix_generations_profile_id"), "generations", ["profile_id"])
    op.create_index(op.f("ix_generations_remote_id"), "generations", ["remote_id"])

    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("variant", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('video', 'thumbnail', 'spritesheet')", name=op.f("ck_assets_kind")),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_assets_generation_id_generations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint(
            "generation_id", "kind", "variant", name=op.f("uq_assets_generation_id_kind_variant")
        ),
    )
    op.create_table(
        "generation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.String(length=26), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_generation_events_status")),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_generation_events_generation_id_generations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_events")),
    )
    op.create_index("ix_generation_events_generation_id_id", "generation_events", ["generation_id", "id"])

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.String(length=26), nullable=True),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        _money("estimated", nullable=False),
        _money("reserved", nullable=False),
        _money("actual", nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "state IN ('reserved', 'settled', 'released')", name=op.f("ck_ledger_entries_state")
        ),
        sa.CheckConstraint(
            "estimated >= 0 AND reserved >= 0 AND (actual IS NULL OR actual >= 0)",
            name=op.f("ck_ledger_entries_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_ledger_entries_generation_id_generations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_ledger_entries_profile_id_profiles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("generation_id", name=op.f("uq_ledger_entries_generation_id")),
    )
    op.create_index(op.f("ix_ledger_entries_day"), "ledger_entries", ["day"])
    op.create_index(op.f("ix_ledger_entries_profile_id"), "ledger_entries", ["profile_id"])

    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.create_index(
            "ix_generations_prompt_tsv",
            "generations",
            [sa.text("to_tsvector('english', prompt)")],
            postgresql_using="gin",
        )


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for trigger in ("generation_fts_insert", "generation_fts_update", "generation_fts_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS generation_fts")
    elif dialect == "postgresql":
        op.drop_index("ix_generations_prompt_tsv", table_name="generations")
    op.drop_table("ledger_entries")
    op.drop_table("generation_events")
    op.drop_table("assets")
    op.drop_table("generations")
    op.drop_table("budgets")
    op.drop_table("profiles")
