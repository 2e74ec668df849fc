"""Small builders for store tests."""

from __future__ import annotations

from typing import Any

from sorastudio.store.models import Generation


def generation(**overrides: Any) -> Generation:
    values: dict[str, Any] = {
        "model": "sora-2",
        "prompt": "A red kite over a grassy park at golden hour",
        "width": 1280,
        "height": 720,
        "seconds": 4,
    }
    values.update(overrides)
    return Generation(**values)
