"""What every emulator route shares: config, clock, jobs and rendered media."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from .clock import Clock
from .config import EmulatorConfig
from .jobs import Generation, Job, JobStore

MediaKind = Literal["video", "video_low", "thumbnail_webp", "thumbnail_jpeg", "spritesheet"]


class Media(Protocol):
    """Rendered files per generation; rendering starts at create and runs in a thread pool."""

    def start(self, job: Job) -> None:
        """Schedule rendering of every generation of `job` (called right after create)."""

    async def path(self, job: Job, generation: Generation, kind: MediaKind) -> Path:
        """The file for `kind`, waiting for the render to finish if needed."""

    def discard(self, job: Job) -> None:
        """Forget and delete the job's files (delete, expiry)."""


@dataclass
class EmulatorState:
    config: EmulatorConfig
    clock: Clock
    store: JobStore
    media: Media

    def hidden_after_create(self, job: Job) -> bool:
        """Fault: status reads right after create answer 404 (eventual consistency)."""
        window = self.config.scaled(self.config.faults.not_found_after_create_seconds)
        return self.clock.now() - job.created_at < window
