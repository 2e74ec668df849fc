"""Identifiers in the services' shapes: `task_…`/`gen_…` (26-char ULID-like) and `video_<32 hex>`."""

from __future__ import annotations

import random

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


class IdFactory:
    """Seeded, so a run with the same config produces the same ids."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def _ulid(self) -> str:
        return "".join(self._rng.choice(_CROCKFORD) for _ in range(26))

    def task(self) -> str:
        return "task_" + self._ulid()

    def generation(self) -> str:
        return "gen_" + self._ulid()

    def video(self) -> str:
        return "video_" + "".join(self._rng.choice("0123456789abcdef") for _ in range(32))
