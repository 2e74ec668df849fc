"""Error bodies as the services send them, verbatim where the wire reference quotes them.

Every route raises `ApiError`; one exception handler in `app.py` renders it.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def envelope(
    message: str, type_: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The OpenAI error envelope, also used (wrapped) by every live Azure video error seen."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def invalid_request(message: str, param: str | None = None, status: int = 400) -> ApiError:
    return ApiError(status, envelope(message, "invalid_request_error", param=param))


def azure_user_error(message: str, status: int = 400, headers: dict[str, str] | None = None) -> ApiError:
    return ApiError(status, envelope(message, "video_generation_user_error"), headers)


def azure_unauthorized() -> ApiError:
    # Observed verbatim shape (litellm #16861): code "401", no type.
    return ApiError(
        401,
        {
            "error": {
                "code": "401",
                "message": "Access denied due to invalid subscription key or wrong API endpoint. "
                "Make sure to provide a valid key for an active subscription and use a correct "
                "regional API endpoint for your resource.",
            }
        },
    )


def openai_unauthorized(key: str | None) -> ApiError:
    if key is None:
        message = (
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    else:
        # Like the service, show only the key's ends.
        shown = f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else "*****"
        message = f"Incorrect API key provided: {shown}. You can find your API key in the emulator config."
    return ApiError(401, envelope(message, "invalid_request_error", code="invalid_api_key"))


def deployment_not_found(name: str) -> ApiError:
    # Verbatim from mslearn-ai-vision #81.
    return azure_user_error(
        f"The API deployment '{name}' for this resource does not exist. If you created the deployment "
        "within the last 5 minutes, please wait a moment and try again.",
        status=404,
    )


def too_many_running(retry_after: float) -> ApiError:
    return azure_user_error("Too many running tasks", status=429, headers=retry_headers(retry_after))


def retry_headers(seconds: float) -> dict[str, str]:
    # Retry-After is whole seconds; retry-after-ms lets time-scaled clients wait precisely.
    return {"retry-after": str(max(1, round(seconds))), "retry-after-ms": str(max(1, int(seconds * 1000)))}
