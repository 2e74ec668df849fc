"""What every emulator route shares: config, clock, jobs and rendered media."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from .clock import Clock
from .config import EmulatorConfig
from .jobs import Generation, Job, JobStore

MediaKind = Literal["video", "video_low", "thumbnail_webp", "thumbnail_jpeg", "spritesheet"]


class MediaUnavailable(Exception):
    """The job has no media: it was discarded (delete, expiry) or never rendered (failed job)."""


class Media(Protocol):
    """Rendered files per generation; rendering starts at create and runs in a thread pool."""

    def start(self, job: Job) -> None:
        """Schedule rendering of every generation of `job` (called right after create)."""

    async def path(self, job: Job, generation: Generation, kind: MediaKind) -> Path:
        """The file for `kind`, waiting for the render to finish if needed; else `MediaUnavailable`."""

    def discard(self, job: Job) -> None:
        """Forget and delete the job's files (delete, expiry)."""

    def close(self) -> None:
        """Stop rendering and remove temporary files (app shutdown)."""


@dataclass
class EmulatorState:
    config: EmulatorConfig
    clock: Clock
    store: JobStore
    media: Media
    # Injected faults by kind ("rate_limit", "not_found_after_create", …) for /_emulator/stats.
    fault_counts: Counter[str] = field(default_factory=Counter)

    def hidden_after_create(self, job: Job) -> bool:
        """Fault: status reads right after create answer 404 (eventual consistency)."""
        window = self.config.scaled(self.config.faults.not_found_after_create_seconds)
        hidden = self.clock.now() - job.created_at < window
        if hidden:
            self.fault_counts["not_found_after_create"] += 1
        return hidden
