"""providers/http.py: server hints, HTTP error mapping, the read retry loop, and creates sent only once."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

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
from sorastudio.providers.auth import ApiKeyHeader
from sorastudio.providers.endpoints import normalize_endpoint
from sorastudio.providers.http import (
    ApiClient,
    CreateContext,
    azure_status_error,
    openai_status_error,
    poll_hint_seconds,
    retry_after_seconds,
    service_message,
)
from sorastudio.providers.retry import RetryPolicy

NOW = 1_760_000_000.0
CONTEXT = CreateContext("create", "a kite", "sora-2", "720x1280", 4)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], *, family: str = "openai", attempts: int = 4
) -> tuple[ApiClient, Sleeps, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    sleeps = Sleeps()
    url = "https://res.openai.azure.com/openai/v1" if family == "azure" else "https://api.openai.com/v1"
    api = ApiClient(
        normalize_endpoint(url),
        "azure" if family == "azure" else "openai",
        auth=ApiKeyHeader("secret-key"),
        transport=httpx.MockTransport(record),
        retry=RetryPolicy(attempts=attempts),
        sleep=sleeps,
        wall_clock=lambda: NOW,
        rng=random.Random(0),
    )
    return api, sleeps, seen


# -- hints ---------------------------------------------------------------------------------------------


def test_retry_after_prefers_milliseconds_then_seconds_then_http_date() -> None:
    assert retry_after_seconds({"Retry-After-Ms": "1500", "Retry-After": "9"}) == 1.5
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    date = format_datetime(datetime.fromtimestamp(NOW + 30, tz=UTC), usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=lambda: NOW) == pytest.approx(30)
    past = format_datetime(datetime.fromtimestamp(NOW - 30, tz=UTC), usegmt=True)
    assert retry_after_seconds({"retry-after": past}, now=lambda: NOW) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({"retry-after-ms": "-5"}) is None
    assert retry_after_seconds({}) is None


def test_poll_hint_reads_openai_poll_after_ms_first() -> None:
    assert poll_hint_seconds({"openai-poll-after-ms": "2500", "retry-after": "9"}) == 2.5
    assert poll_hint_seconds({"retry-after": "9"}) == 9.0
    assert poll_hint_seconds({}) is None


# -- error bodies and mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        (
            b'{"error":{"message":"bad size","type":"invalid_request_error","param":"size","code":null}}',
            "bad size",
            None,
        ),
        (b'{"error":{"code":"401","message":"Access denied"}}', "Access denied", "401"),
        (  # Azure's flat spec shape with an inner error
            b'{"code":"content_filter","message":"blocked","inner_error":{"code":"ResponsibleAIPolicyViolation"}}',
            "blocked",
            "ResponsibleAIPolicyViolation",
        ),
        (b'{"detail":"Not Found"}', "Not Found", None),
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>", None),
        (b"[1, 2]", None, None),
    ],
)
def test_service_message_reads_every_envelope(body: bytes, message: str | None, code: str | None) -> None:
    assert service_message(body) == (message, code)


def _response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers, request=httpx.Request("GET", "https://x/"))


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequest),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFound),
        (409, ProviderError),
        (422, BadRequest),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_status_codes_map_to_the_error_tree(status: int, kind: type[ProviderError]) -> None:
    body = b'{"error":{"message":"the service says why","type":"x","param":null,"code":null}}'
    error = openai_status_error(_response(status, body, {"x-request-id": "req_1"}))
    assert type(error) is kind
    assert error.status_code == status
    assert error.request_id == "req_1"
    assert "the service says why" in str(error)


def test_rate_limited_carries_retry_after_and_azure_request_id() -> None:
    body = b'{"error":{"message":"Too many running tasks","type":"video_generation_user_error"}}'
    error = azure_status_error(_response(429, body, {"retry-after": "10", "apim-request-id": "abc"}))
    assert isinstance(error, RateLimited)
    assert error.retry_after == 10.0
    assert error.request_id == "abc"
    assert str(error).startswith("Azure OpenAI answered 429")


@pytest.mark.anyio
async def test_auth_errors_are_not_retried_and_never_echo_the_key() -> None:
    api, _, seen = client_for(lambda r: httpx.Response(401, json={"error": {"message": "Access denied"}}))
    with pytest.raises(AuthenticationError) as caught:
        await api.read("GET", "/videos/x")
    assert "secret-key" not in str(caught.value)
    assert seen[0].headers["api-key"] == "secret-key"
    assert len(seen) == 1  # 401 is not retried


# -- retries -------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_reads_retry_429_honouring_retry_after_then_succeed() -> None:
    answers = iter(
        [
            httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after-ms": "1250"}),
            httpx.Response(503, json={"error": {"message": "busy"}}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    api, sleeps, seen = client_for(lambda r: next(answers))
    response = await api.read("GET", "/videos/v1")
    assert response.json() == {"ok": True}
    assert len(seen) == 3
    assert sleeps.calls[0] == 1.25  # exactly what the server asked
    assert 0.5 * 0.75 <= sleeps.calls[1] <= 0.5 * 2  # back-off with jitter for the 503


@pytest.mark.anyio
async def test_reads_give_up_after_the_attempt_budget() -> None:
    api, sleeps, seen = client_for(lambda r: httpx.Response(500, text="boom"), attempts=3)
    with pytest.raises(ServerError):
        await api.read("GET", "/videos/v1")
    assert len(seen) == 3
    assert len(sleeps.calls) == 2
    assert sleeps.calls[1] > sleeps.calls[0] * 1.2  # exponential


@pytest.mark.anyio
async def test_reads_retry_connection_errors() -> None:
    calls = iter([httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), None])

    def handler(request: httpx.Request) -> httpx.Response:
        exc = next(calls)
        if exc is not None:
            raise exc
        return httpx.Response(200, json={})

    api, sleeps, seen = client_for(handler)
    await api.read("DELETE", "/videos/v1")
    assert len(seen) == 3 and len(sleeps.calls) == 2


@pytest.mark.anyio
async def test_a_retry_after_beyond_the_limit_is_left_to_the_caller() -> None:
    api, sleeps, _ = client_for(lambda r: httpx.Response(429, headers={"retry-after": "600"}))
    with pytest.raises(RateLimited) as caught:
        await api.read("GET", "/videos")
    assert caught.value.retry_after == 600
    assert sleeps.calls == []


def test_retry_policy_delays() -> None:
    policy = RetryPolicy(attempts=5, base_delay=1.0, max_delay=3.0, jitter=0.0)
    rng = random.Random(1)
    assert [policy.delay(n, None, rng) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 3.0, 3.0, None]
    assert policy.delay(1, 7.5, rng) == 7.5


# -- creates -------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_create_answered_5xx_is_not_retried_and_its_outcome_is_unknown(status: int) -> None:
    api, sleeps, seen = client_for(lambda r: httpx.Response(status, text="gateway"))
    with pytest.raises(SubmitOutcomeUnknown) as caught:
        await api.create("/videos", CONTEXT, json_body={"prompt": "a kite"})
    assert len(seen) == 1 and sleeps.calls == []
    err = caught.value
    assert err.status_code == status
    assert (err.prompt, err.model, err.size, err.seconds, err.operation) == (
        "a kite",
        "sora-2",
        "720x1280",
        4,
        "create",
    )
    assert err.sent_at == NOW and err.failed_at == NOW


@pytest.mark.anyio
@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout("t"), httpx.RemoteProtocolError("dropped"), httpx.WriteError("w")]
)
async def test_a_create_that_lost_its_answer_is_not_retried(exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    api, sleeps, seen = client_for(handler)
    with pytest.raises(SubmitOutcomeUnknown, match="outcome is unknown"):
        await api.create("/videos", CONTEXT, json_body={"prompt": "a kite"})
    assert len(seen) == 1 and sleeps.calls == []


@pytest.mark.anyio
async def test_a_create_that_never_connected_is_a_plain_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    api, _, seen = client_for(handler)
    with pytest.raises(TransportError, match="nothing was sent") as caught:
        await api.create("/videos", CONTEXT, json_body={"prompt": "a kite"})
    assert not isinstance(caught.value, SubmitOutcomeUnknown)
    assert len(seen) == 1


@pytest.mark.anyio
async def test_a_rate_limited_create_is_reported_not_retried() -> None:
    api, sleeps, seen = client_for(
        lambda r: httpx.Response(
            429, json={"error": {"message": "Too many running tasks"}}, headers={"retry-after": "3"}
        ),
        family="azure",
    )
    with pytest.raises(RateLimited) as caught:
        await api.create("/videos", CONTEXT, json_body={"prompt": "a kite"})
    assert caught.value.retry_after == 3
    assert len(seen) == 1 and sleeps.calls == []


# -- client ---------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_credentials_are_not_forwarded_to_another_origin_on_redirect() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "res.openai.azure.com":
            return httpx.Response(302, headers={"location": "https://blob.example.net/signed/video.mp4"})
        return httpx.Response(200, content=b"media")

    api, _, seen = client_for(handler, family="azure")
    await api.read("GET", "/videos/v1/content")
    assert seen[0].headers.get("api-key") == "secret-key"
    assert seen[1].url.host == "blob.example.net"
    assert "api-key" not in seen[1].headers and "authorization" not in seen[1].headers


@pytest.mark.anyio
async def test_a_shared_client_gets_each_providers_auth_and_stays_open() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as shared:
        azure = ApiClient(
            normalize_endpoint("https://res.openai.azure.com"),
            "azure",
            auth=ApiKeyHeader("k1"),
            client=shared,
        )
        await azure.read("GET", "/videos")
        await azure.aclose()
        assert not shared.is_closed
        await shared.get("https://elsewhere.example/")
    assert seen[0].headers["api-key"] == "k1"
    assert "api-key" not in seen[1].headers
