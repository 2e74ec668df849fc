"""The provider-neutral vocabulary every front door shares.

Only `providers/` translate wire statuses ("succeeded", "in_progress", …) into `Status`.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """One status vocabulary for every API (see design/architecture.md)."""

    QUEUED = "queued"
    PREPROCESSING = "preprocessing"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in {Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.EXPIRED}
