"""HTTP plumbing every provider client shares: the client factory, HTTP error → `errors.*`, retries.

Rules that live here and nowhere else:

* Reads (GET status/list/content, HEAD, DELETE) are retried on 429, 5xx, timeouts and connection
  errors, at most `RetryPolicy.attempts` times, waiting what the server asked (`retry-after-ms`, then
  `Retry-After` seconds or HTTP date) or else an exponential back-off with jitter (`retry.py`).
* A create (POST job, POST video, POST remix) is sent exactly once. If the request may have reached the
  service but no answer came back, `SubmitOutcomeUnknown` says so and carries what is needed to find
  the job with `list(since=…)`. Only a failure to *connect* (nothing sent) is a plain `TransportError`.
* Sleeping goes through the injected `sleep`, so tests and time-scaled runs never wait for real.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from sorastudio.errors import (
    AuthenticationError,
    BadRequest,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    SubmitOutcomeUnknown,
    TransportError,
)
from sorastudio.providers.endpoints import Endpoint
from sorastudio.providers.retry import RetryPolicy, Sleep, retrying  # the first two re-exported

log = logging.getLogger(__name__)

Family = Literal["azure", "openai"]
# One multipart part: (name, (None, value)) for a form field, (name, (filename, data, mime)) for a file.
FormPart = tuple[str, tuple[None, str] | tuple[str, bytes, str]]
W = TypeVar("W", bound=BaseModel)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0, pool=30.0)
ERROR_BODY_LIMIT = 64 * 1024  # an error body larger than this is not an error body
_REQUEST_ID_HEADERS = ("apim-request-id", "x-request-id", "x-ms-request-id")
_CREDENTIAL_HEADERS = ("api-key", "authorization")


def make_client(
    *,
    auth: httpx.Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    trusted_origin: str | None = None,
) -> httpx.AsyncClient:
    """The one `httpx.AsyncClient` recipe (tests inject `httpx.ASGITransport` as `transport`).

    Redirects are followed (content may redirect to a signed storage URL), but credentials are
    stripped from any request that leaves `trusted_origin`: httpx drops `Authorization` on a
    cross-origin redirect, not Azure's `api-key`.
    """

    async def strip_foreign_credentials(request: httpx.Request) -> None:
        if trusted_origin is not None and _origin(request.url) != trusted_origin:
            for name in _CREDENTIAL_HEADERS:
                request.headers.pop(name, None)

    return httpx.AsyncClient(
        auth=auth,
        transport=transport,
        timeout=timeout,
        follow_redirects=True,
        headers={"user-agent": "sorastudio"},
        event_hooks={"request": [strip_foreign_credentials]},
    )


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


# -- server hints ------------------------------------------------------------------------------------


def retry_after_seconds(headers: Mapping[str, str], *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, else `Retry-After` (seconds or HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = _number(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def poll_hint_seconds(headers: Mapping[str, str], *, now: Callable[[], float] = time.time) -> float | None:
    """When to poll again, if the server said: `openai-poll-after-ms`, else the Retry-After family."""
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = _number(lowered.get("openai-poll-after-ms"))
    if millis is not None:
        return millis / 1000
    return retry_after_seconds(lowered, now=now)


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if value >= 0 and value != float("inf") else None


# -- HTTP errors -------------------------------------------------------------------------------------


def service_message(body: bytes) -> tuple[str | None, str | None]:
    """(message, code) from an error body: the OpenAI envelope, Azure's wrapped or flat shape,
    FastAPI's `{"detail": …}`, or plain text."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return (text[:500] or None), None
    if not isinstance(data, dict):
        return None, None
    err = data.get("error") if isinstance(data.get("error"), dict) else data
    message = err.get("message")
    code = err.get("code")
    inner = err.get("inner_error") or err.get("innererror")
    if isinstance(inner, dict) and isinstance(inner.get("code"), str):
        code = inner["code"]  # e.g. ResponsibleAIPolicyViolation says more than "content_filter"
    if message is None and isinstance(data.get("detail"), str):
        message = data["detail"]
    return (str(message) if message is not None else None), (str(code) if code is not None else None)


_HINTS = {
    401: "check the key or token",
    403: "check the key, token or the role (Azure needs 'Cognitive Services User')",
    404: "check the endpoint, deployment/model name and job id",
}


def _status_error(response: httpx.Response, service: str, *, now: Callable[[], float]) -> ProviderError:
    status = response.status_code
    message, code = service_message(response.content[:ERROR_BODY_LIMIT])
    request_id = next((response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None)
    text = f"{service} answered {status} {response.reason_phrase}".rstrip()
    if message:
        text += f": {message}"
    if code and code != str(status) and code not in (message or ""):
        text += f" ({code})"
    if status in _HINTS:
        text += f" — {_HINTS[status]}"
    kwargs: dict[str, Any] = {"status_code": status, "request_id": request_id}
    if status in (401, 403):
        return AuthenticationError(text, **kwargs)
    if status == 404:
        return NotFound(text, **kwargs)
    if status == 429:
        return RateLimited(text, retry_after=retry_after_seconds(response.headers, now=now), **kwargs)
    if status >= 500:
        return ServerError(text, **kwargs)
    if status in (400, 422):
        return BadRequest(text, **kwargs)
    return ProviderError(text, **kwargs)


def azure_status_error(response: httpx.Response, *, now: Callable[[], float] = time.time) -> ProviderError:
    """Map an Azure OpenAI error response (wrapped or flat body) to our exception tree."""
    return _status_error(response, "Azure OpenAI", now=now)


def openai_status_error(response: httpx.Response, *, now: Callable[[], float] = time.time) -> ProviderError:
    """Map an OpenAI (or compatible server) error response to our exception tree."""
    return _status_error(response, "The video API", now=now)


STATUS_ERRORS: dict[Family, Callable[..., ProviderError]] = {
    "azure": azure_status_error,
    "openai": openai_status_error,
}


def parse_body(model: type[W], response: httpx.Response, what: str) -> W:
    """Validate a 2xx JSON body against a wire type; anything unreadable is a `ProviderError`."""
    try:
        return model.model_validate_json(response.content)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise ProviderError(
            f"{what}: the server's answer is not a {model.__name__} sorastudio can read ({problems})",
            status_code=response.status_code,
        ) from None


def transport_error(exc: httpx.HTTPError, what: str) -> TransportError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return TransportError(f"{what} {kind}: {type(exc).__name__}: {exc}".rstrip(": "))


# -- one endpoint ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateContext:
    """What a lost create needs for reconciliation (copied into `SubmitOutcomeUnknown`)."""

    operation: Literal["create", "remix"]
    prompt: str
    model: str | None
    size: str | None = None
    seconds: int | None = None
    source_id: str | None = None


class ApiClient:
    """Requests to one endpoint: URL building, auth, error mapping and the retry rules.

    Pass `client` to share one connection pool between providers (it is then not closed here, and
    `auth` is applied per request); otherwise a client is made with `make_client`.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        family: Family,
        *,
        auth: httpx.Auth | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.family = family
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.wall_clock = wall_clock
        self.rng = rng or random.Random()
        # With a shared client our auth goes on each request; an own client carries it already.
        self.request_options: dict[str, Any] = {"auth": auth} if client is not None and auth else {}
        self._owns_client = client is None
        self.client = client or make_client(
            auth=auth, transport=transport, trusted_origin=_origin(httpx.URL(endpoint.base_url))
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    def url(self, path: str, **query: str | int | None) -> str:
        return self.endpoint.url(path, **query)

    def status_error(self, response: httpx.Response) -> ProviderError:
        return STATUS_ERRORS[self.family](response, now=self.wall_clock)

    async def _send_once(self, method: str, url: str, what: str) -> httpx.Response:
        try:
            response = await self.client.request(method, url, **self.request_options)
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from exc
        if response.is_error:
            raise self.status_error(response)
        return response

    async def read(self, method: str, path: str, **query: str | int | None) -> httpx.Response:
        """A retried, idempotent request (GET/HEAD/DELETE); returns the 2xx response, body read."""
        url = self.url(path, **query)
        what = f"{method} {path}"
        return await retrying(
            lambda: self._send_once(method, url, what),
            policy=self.retry,
            sleep=self.sleep,
            rng=self.rng,
            what=what,
        )

    async def create(
        self,
        path: str,
        context: CreateContext,
        *,
        json_body: Mapping[str, Any] | None = None,
        files: list[FormPart] | None = None,
    ) -> httpx.Response:
        """POST once. Never retried: see the module docstring."""
        request = self.client.build_request("POST", self.url(path), json=json_body, files=files)
        sent_at = self.wall_clock()
        try:
            response = await self.client.send(request, **self.request_options)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # No connection was made, so nothing reached the service: safe to try again.
            raise transport_error(exc, f"POST {path} (nothing was sent)") from exc
        except httpx.HTTPError as exc:
            raise self._unknown(context, sent_at, f"no answer ({type(exc).__name__}: {exc})") from exc
        if response.status_code >= 500:
            # A gateway may answer 5xx after the service accepted the job; only a list can tell.
            error = self.status_error(response)
            raise self._unknown(
                context, sent_at, str(error), status_code=error.status_code, request_id=error.request_id
            ) from error
        if response.is_error:
            raise self.status_error(response)
        return response

    def _unknown(
        self,
        context: CreateContext,
        sent_at: float,
        reason: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> SubmitOutcomeUnknown:
        return SubmitOutcomeUnknown(
            f"the {context.operation} request was sent but its outcome is unknown: {reason}. "
            "The job may exist: look for it with list(since=…) before submitting again",
            operation=context.operation,
            prompt=context.prompt,
            model=context.model,
            sent_at=sent_at,
            failed_at=self.wall_clock(),
            size=context.size,
            seconds=context.seconds,
            source_id=context.source_id,
            status_code=status_code,
            request_id=request_id,
        )


__all__ = [
    "DEFAULT_TIMEOUT",
    "ERROR_BODY_LIMIT",
    "ApiClient",
    "CreateContext",
    "Family",
    "FormPart",
    "RetryPolicy",
    "Sleep",
    "azure_status_error",
    "make_client",
    "openai_status_error",
    "parse_body",
    "poll_hint_seconds",
    "retry_after_seconds",
    "service_message",
    "transport_error",
]
