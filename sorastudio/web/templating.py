"""Jinja2 set-up for the HTML pages: one `render()` that adds what every page needs (CSRF token, nav).

Autoescaping is on for every template; data for scripts goes through `tojson` into
`<script type="application/json">` blocks (the CSP forbids inline scripts).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from sorastudio.ledger import format_money
from sorastudio.web.security import csrf_token, session_of

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _money(amount: Decimal | None) -> str:
    return "–" if amount is None else format_money(amount)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M")


templates.env.filters["money"] = _money
templates.env.filters["money_str"] = lambda value: _money(
    None if value in (None, "") else Decimal(str(value))
)
templates.env.filters["when"] = _when
templates.env.filters["iso"] = lambda value: "" if value is None else value.isoformat()

NAV = (("create", "/create", "Create"), ("queue", "/queue", "Queue"), ("gallery", "/gallery", "Gallery"))
NAV_END = (("costs", "/costs", "Costs"), ("settings", "/settings", "Settings"))


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    settings = request.app.state.settings
    session = session_of(request)
    base = {
        "csrf_token": csrf_token(settings, session),
        "nav": (*NAV, *NAV_END),
        "page": name.removesuffix(".html"),
        "signed_in": session.auth,
        "login_required": settings.login_required,
    }
    return templates.TemplateResponse(request, name, base | (context or {}), status_code=status)


__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "render", "templates"]
