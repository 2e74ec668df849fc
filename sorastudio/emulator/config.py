"""Emulator configuration: deployments, keys, limits, timings, moderation and faults.

Everything the wire reference marks [?] (unknown) is a setting here, with a default that follows the
best evidence. Load from TOML with `load_config(path)`; every field has a default so an empty file
(or none) gives the documented defaults: deployments `sora`, `sora-2`, `sora-2-pro`; key `emulator-key`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ApiFamily = Literal["sora1", "videos"]


class _Strict(BaseModel):
    # A typo in emulator.toml should fail loudly, not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class Deployment(_Strict):
    """One Azure deployment (or one OpenAI model name on the `/v1` surface)."""

    name: str
    model: str = Field(description="Underlying model: sora, sora-2 or sora-2-pro")
    running_cap: int = Field(2, ge=0, description="Max non-terminal jobs; 0 = unlimited")
    creates_per_minute: int = Field(0, ge=0, description="Create requests per (scaled) minute; 0 = unlimited")

    @property
    def api(self) -> ApiFamily:
        return "sora1" if self.model == "sora" else "videos"

    @property
    def audio(self) -> bool:
        return self.model != "sora"


def _azure_deployments() -> list[Deployment]:
    return [
        Deployment(name="sora", model="sora", running_cap=2, creates_per_minute=0),
        Deployment(name="sora-2", model="sora-2", running_cap=2, creates_per_minute=2),
        Deployment(name="sora-2-pro", model="sora-2-pro", running_cap=2, creates_per_minute=2),
    ]


def _openai_models() -> list[Deployment]:
    # OpenAI's native concurrency caps are unknown [?]: unlimited by default, configurable.
    names = {
        "sora-2": "sora-2",
        "sora-2-2025-10-06": "sora-2",
        "sora-2-2025-12-08": "sora-2",
        "sora-2-pro": "sora-2-pro",
        "sora-2-pro-2025-10-06": "sora-2-pro",
    }
    return [Deployment(name=n, model=m, running_cap=0, creates_per_minute=0) for n, m in names.items()]


class Timing(_Strict):
    """Realistic job durations (seconds of emulated time, before `time_scale`).

    duration = clamp((base + per_unit × units) × [pro_factor for sora-2-pro] × (1 ± jitter),
    minimum, maximum), where units = seconds × (width×height)/(1280×720) × variants. The clamp comes
    last, so every job takes `minimum`–`maximum`: by default 1–5 minutes, as the guide reports.
    """

    base: float = 45.0
    per_unit: float = 15.0
    minimum: float = 60.0
    maximum: float = 300.0
    jitter: float = Field(0.1, ge=0, lt=1)
    pro_factor: float = 1.5
    # Sora 1 phase split of the duration: queued, preprocessing, running, processing.
    sora1_phases: tuple[float, float, float, float] = (0.1, 0.1, 0.7, 0.1)
    # Share of the duration a /videos job spends `queued` before `in_progress`.
    videos_queued: float = 0.1
    # Progress curve exponent: 1 = linear; >1 slow start, fast finish; <1 fast start.
    progress_curve: float = 1.0
    # Noise on reported progress: up to this many percentage points below the true value, drawn anew
    # each emulated second (so a report may be lower than the previous one, never above the truth).
    progress_noise: float = 0.0


class Moderation(_Strict):
    # Words that make a prompt fail input moderation (case-insensitive, whole word).
    input_words: list[str] = Field(default_factory=lambda: ["gore", "blocked-by-moderation"])
    # Words that make the finished video fail output moderation.
    output_words: list[str] = Field(default_factory=lambda: ["output-blocked"])
    # Share of jobs that fail with an internal error (seeded).
    internal_error_rate: float = Field(0.0, ge=0, le=1)


class Faults(_Strict):
    """Injected faults, each a probability per eligible request, drawn from a seeded RNG."""

    seed: int = 1234
    rate_limit: float = Field(0.0, ge=0, le=1)
    rate_limit_retry_after: float = 2.0
    server_error: float = Field(0.0, ge=0, le=1)
    drop_connection: float = Field(0.0, ge=0, le=1)
    slow: float = Field(0.0, ge=0, le=1)
    # Real (wall-clock) seconds, not scaled: slow responses exercise client timeouts.
    slow_seconds: float = Field(2.0, ge=0)
    truncate_download: float = Field(0.0, ge=0, le=1)
    json_on_content: float = Field(0.0, ge=0, le=1)
    # Status of the JSON body served instead of media: 200 is what a misbehaving CDN does.
    json_on_content_status: int = Field(200, ge=200, le=599)
    # Status reads within this many (scaled) seconds of the create answer 404 (eventual consistency).
    not_found_after_create_seconds: float = Field(0.0, ge=0)
    # Restrict faults to paths containing one of these substrings (empty = all API paths).
    paths: list[str] = Field(default_factory=list)
    methods: list[str] = Field(default_factory=list)


class EmulatorConfig(_Strict):
    time_scale: float = Field(1.0, gt=0, description="0.01 makes a 2-minute job take 1.2 s")
    # Seed for ids, durations and outcomes. None: a fresh seed per start, so ids never repeat across
    # restarts (a client's history still holds the old ones); set it to replay a run exactly.
    seed: int | None = None
    keys: list[str] = Field(default_factory=lambda: ["emulator-key"])
    # None: a temporary folder removed on shutdown.
    data_dir: Path | None = None
    deployments: list[Deployment] = Field(default_factory=_azure_deployments)
    openai_models: list[Deployment] = Field(default_factory=_openai_models)
    # Emulated seconds until assets expire (Azure: created_at + 86400).
    expiry_seconds: float = 86400.0
    # `openai-poll-after-ms` header on status reads (emulated ms, scaled); 0 = not sent.
    poll_after_ms: int = 5000
    # Retry-After on the running-cap 429 (emulated seconds, scaled; the service's value is unknown).
    running_cap_retry_after: float = 10.0
    render_workers: int = Field(2, ge=1)
    fps: int = Field(24, ge=1, le=60)
    timing: Timing = Field(default_factory=Timing)
    moderation: Moderation = Field(default_factory=Moderation)
    faults: Faults = Field(default_factory=Faults)

    @model_validator(mode="after")
    def _unique_names(self) -> EmulatorConfig:
        for group in (self.deployments, self.openai_models):
            names = [d.name for d in group]
            if len(names) != len(set(names)):
                raise ValueError(f"duplicate deployment names: {names}")
        return self

    def scaled(self, emulated_seconds: float) -> float:
        """Real seconds for a span of emulated seconds."""
        return emulated_seconds * self.time_scale

    def deployment(self, name: str) -> Deployment | None:
        return next((d for d in self.deployments if d.name == name), None)

    def openai_model(self, name: str) -> Deployment | None:
        return next((d for d in self.openai_models if d.name == name), None)


def load_config(path: Path | str | None = None, **overrides: object) -> EmulatorConfig:
    """Read a TOML file (optional) and apply keyword overrides (CLI flags) on top."""
    data: dict[str, object] = {}
    if path is not None:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return EmulatorConfig.model_validate(data)
