"""`/login` and `/logout`. Login exists when the server is reachable from other machines (see
settings); a successful login starts a fresh session (new id, so a planted cookie is worthless)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from sorastudio.web.deps import SettingsDep
from sorastudio.web.security import WebSession, cookie_header, password_matches, require_csrf
from sorastudio.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no `//evil`) may be the redirect target."""
    parts = urlsplit(target or "/")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[Depends(require_csrf)])
async def login(
    request: Request,
    settings: SettingsDep,
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not password_matches(settings, password):
        context = {"next": _safe_next(next), "error": "That password is not right."}
        return render(request, "login.html", context, status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    fresh = WebSession.new(auth=True)
    response.headers.append("set-cookie", cookie_header(settings, fresh, https=request.url.scheme == "https"))
    return response


@router.post("/logout", dependencies=[Depends(require_csrf)])
async def logout(request: Request, settings: SettingsDep) -> Response:
    response = RedirectResponse("/login" if settings.login_required else "/", status_code=303)
    https = request.url.scheme == "https"
    response.headers.append("set-cookie", cookie_header(settings, WebSession.new(), https=https))
    return response
