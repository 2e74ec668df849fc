"""Credential checks: `api-key` or `Authorization: Bearer` on Azure routes, Bearer on OpenAI routes."""

from __future__ import annotations

from fastapi import Request

from .errors import ApiError, azure_unauthorized, openai_unauthorized


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization")
    if value and value.lower().startswith("bearer "):
        return value[7:].strip()
    return None


def check_azure(request: Request, keys: list[str]) -> None:
    # An Entra ID token is also sent as Bearer; the emulator accepts configured keys only.
    supplied = request.headers.get("api-key") or _bearer(request)
    if supplied not in keys:
        raise azure_unauthorized()


def check_openai(request: Request, keys: list[str]) -> None:
    supplied = _bearer(request)
    if supplied not in keys:
        raise openai_unauthorized(supplied)


def check_api_version(request: Request) -> None:
    """Azure v1 routes take `api-version` absent, `v1` or `preview`; anything else is refused."""
    version = request.query_params.get("api-version")
    if version not in (None, "v1", "preview"):
        raise ApiError(
            400,
            {
                "error": {
                    "code": "BadRequest",
                    "message": f"API version '{version}' is not supported on the v1 routes: "
                    "use api-version=v1, api-version=preview or omit it.",
                }
            },
        )
