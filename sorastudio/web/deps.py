"""FastAPI dependencies shared by the routes (`Annotated` aliases, as the FastAPI template does)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sorastudio.studio import AsyncStudio
from sorastudio.web.settings import WebSettings


def get_studio(request: Request) -> AsyncStudio:
    return request.app.state.studio  # type: ignore[no-any-return]


def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


StudioDep = Annotated[AsyncStudio, Depends(get_studio)]
SettingsDep = Annotated[WebSettings, Depends(get_settings)]

__all__ = ["SettingsDep", "StudioDep", "get_settings", "get_studio"]
