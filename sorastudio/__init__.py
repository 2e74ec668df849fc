"""sorastudio — AI video generation on the Sora family of APIs.

    from sorastudio import Studio

    studio = Studio()
    video = studio.generate("Wide shot of a red kite over a park, golden hour", seconds=4).wait()
    print(video.paths)

Names are loaded on first use, so `import sorastudio` stays cheap for the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "AsyncStudio": "sorastudio.studio",
    "AsyncGenerationHandle": "sorastudio.studio",
    "Studio": "sorastudio.sync",
    "GenerationHandle": "sorastudio.sync",
    "VideoRequest": "sorastudio.domain",
    "Status": "sorastudio.domain",
    "Mode": "sorastudio.domain",
    "Fit": "sorastudio.domain",
    "Estimate": "sorastudio.pricing",
    "GenerationPublic": "sorastudio.schemas",
    "AssetPublic": "sorastudio.schemas",
    "EventPublic": "sorastudio.schemas",
    "SorastudioError": "sorastudio.errors",
    "ValidationError": "sorastudio.errors",
    "ModelRetired": "sorastudio.errors",
    "BudgetExceeded": "sorastudio.errors",
    "ProviderError": "sorastudio.errors",
    "JobFailed": "sorastudio.errors",
}

__all__ = [
    "AssetPublic",
    "AsyncGenerationHandle",
    "AsyncStudio",
    "BudgetExceeded",
    "Estimate",
    "EventPublic",
    "Fit",
    "GenerationHandle",
    "GenerationPublic",
    "JobFailed",
    "Mode",
    "ModelRetired",
    "ProviderError",
    "SorastudioError",
    "Status",
    "Studio",
    "ValidationError",
    "VideoRequest",
    "__version__",
]

if TYPE_CHECKING:
    from sorastudio.domain import Fit, Mode, Status, VideoRequest
    from sorastudio.errors import (
        BudgetExceeded,
        JobFailed,
        ModelRetired,
        ProviderError,
        SorastudioError,
        ValidationError,
    )
    from sorastudio.pricing import Estimate
    from sorastudio.schemas import AssetPublic, EventPublic, GenerationPublic
    from sorastudio.studio import AsyncGenerationHandle, AsyncStudio
    from sorastudio.sync import GenerationHandle, Studio


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sorastudio' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
