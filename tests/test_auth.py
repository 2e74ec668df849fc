"""Auth flows: headers on the wire, Entra ID token caching/refresh/401 retry, and no key leaks."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from sorastudio.errors import AuthenticationError, ValidationError
from sorastudio.providers.auth import ENTRA_SCOPE, ApiKeyHeader, BearerKey, EntraID, auth_for

KEY = "k3y-0123456789abcdef-SECRET"
URL = "https://res.openai.azure.com/openai/v1/videos"


@dataclass
class Seen:
    """Records what reached the server and answers with a scripted list of statuses."""

    statuses: list[int] = field(default_factory=list)
    # Copies: a retried request is the same object with new headers.
    headers: list[httpx.Headers] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(httpx.Headers(request.headers))
        self.bodies.append(request.read())
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status, json={"ok": status == 200})


@dataclass
class Tok:
    token: str
    expires_on: int


class FakeCredential:
    """Counts get_token calls; each call mints a new token valid for `lifetime` seconds of `clock`."""

    def __init__(self, clock: Callable[[], float], lifetime: int = 3600) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Tok:
        self.calls.append((scopes, kwargs))
        return Tok(f"token-{len(self.calls)}", int(self.clock()) + self.lifetime)


class AsyncFakeCredential(FakeCredential):
    async def get_token(self, *scopes: str, **kwargs: Any) -> Tok:  # type: ignore[override]
        return FakeCredential.get_token(self, *scopes, **kwargs)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _client(auth: httpx.Auth, seen: Seen) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(seen), auth=auth)


# -- static keys --------------------------------------------------------------------------------------


def test_api_key_header_is_sent_and_no_bearer() -> None:
    seen = Seen()
    with _client(ApiKeyHeader(KEY), seen) as client:
        client.get(URL)
    assert seen.headers[0]["api-key"] == KEY
    assert "authorization" not in seen.headers[0]


def test_bearer_key_is_sent_as_authorization() -> None:
    seen = Seen()
    with _client(BearerKey(SecretStr(KEY)), seen) as client:
        client.get(URL)
    assert seen.headers[0]["authorization"] == f"Bearer {KEY}"
    assert "api-key" not in seen.headers[0]


@pytest.mark.anyio
async def test_static_keys_work_with_async_client() -> None:
    seen = Seen()
    async with httpx.AsyncClient(transport=httpx.MockTransport(seen), auth=ApiKeyHeader(KEY)) as client:
        await client.get(URL)
    assert seen.headers[0]["api-key"] == KEY


def test_pasted_key_whitespace_is_trimmed() -> None:
    seen = Seen()
    with _client(auth_for("api-key", f"  {KEY}\n"), seen) as client:
        client.get(URL)
    assert seen.headers[0]["api-key"] == KEY


@pytest.mark.parametrize(
    ("method", "expected"), [("api-key", ApiKeyHeader), ("bearer", BearerKey), ("entra", EntraID)]
)
def test_auth_for_builds_the_right_flow(method: Any, expected: type[httpx.Auth]) -> None:
    assert type(auth_for(method, KEY)) is expected


def test_auth_for_entra_uses_cognitive_services_scope() -> None:
    auth = auth_for("entra", credential=FakeCredential(Clock()))
    assert isinstance(auth, EntraID)
    assert auth.scope == ENTRA_SCOPE == "https://cognitiveservices.azure.com/.default"


@pytest.mark.parametrize("key", [None, "", "   ", SecretStr("")])
def test_missing_key_is_refused(key: Any) -> None:
    with pytest.raises(ValidationError, match="needs a key") as info:
        auth_for("api-key", key)
    assert info.value.field == "api_key"


def test_unknown_method_is_refused_with_choices() -> None:
    with pytest.raises(ValidationError, match="api-key, bearer, entra") as info:
        auth_for("basic", KEY)  # type: ignore[arg-type]
    assert info.value.allowed == ("api-key", "bearer", "entra")


def test_key_with_inner_space_or_non_ascii_is_refused_without_echoing_it() -> None:
    for bad in (f"{KEY} extra", f"{KEY}é", f"{KEY}\x00"):
        with pytest.raises(ValidationError, match="position") as info:
            BearerKey(bad)
        assert KEY not in str(info.value)
        assert KEY not in repr(info.value)
        assert info.value.value is None


@pytest.mark.parametrize("auth", [ApiKeyHeader(KEY), BearerKey(KEY), auth_for("bearer", SecretStr(KEY))])
def test_repr_and_str_do_not_leak_the_key(auth: httpx.Auth) -> None:
    for text in (repr(auth), str(auth), repr(vars(auth)), f"{auth!r}"):
        assert KEY not in text
        assert "hidden" in text or "**" in text


# -- Entra ID -----------------------------------------------------------------------------------------


def test_entra_token_is_cached_across_requests_with_the_right_scope() -> None:
    clock = Clock()
    cred = FakeCredential(clock)
    seen = Seen()
    with _client(EntraID(cred, clock=clock), seen) as client:
        for _ in range(3):
            client.get(URL)
    assert len(cred.calls) == 1
    assert cred.calls[0] == ((ENTRA_SCOPE,), {})
    assert [h["authorization"] for h in seen.headers] == ["Bearer token-1"] * 3


def test_entra_token_is_refreshed_five_minutes_before_expiry() -> None:
    clock = Clock()
    cred = FakeCredential(clock, lifetime=3600)
    seen = Seen()
    with _client(EntraID(cred, clock=clock), seen) as client:
        client.get(URL)
        clock.now += 3600 - 301  # still more than 5 min left: cached
        client.get(URL)
        clock.now += 2  # now inside the 5-minute margin: refreshed
        client.get(URL)
        client.get(URL)
    assert len(cred.calls) == 2
    assert [h["authorization"] for h in seen.headers] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
        "Bearer token-2",
    ]


def test_entra_refreshes_once_on_401_and_retries_with_the_same_body() -> None:
    clock = Clock()
    cred = FakeCredential(clock)
    seen = Seen(statuses=[401, 200])
    with _client(EntraID(cred, clock=clock), seen) as client:
        response = client.post(URL, json={"prompt": "a cat"})
    assert response.status_code == 200
    assert len(cred.calls) == 2
    assert [h["authorization"] for h in seen.headers] == ["Bearer token-1", "Bearer token-2"]
    assert seen.bodies[0] == seen.bodies[1] == b'{"prompt":"a cat"}'


def test_entra_gives_up_after_one_retry() -> None:
    clock = Clock()
    cred = FakeCredential(clock)
    seen = Seen(statuses=[401, 401, 401])
    with _client(EntraID(cred, clock=clock), seen) as client:
        response = client.get(URL)
    assert response.status_code == 401
    assert len(seen.headers) == 2
    assert len(cred.calls) == 2


class SameTokenCredential(FakeCredential):
    def get_token(self, *scopes: str, **kwargs: Any) -> Tok:
        self.calls.append((scopes, kwargs))
        return Tok("always-the-same", int(self.clock()) + 3600)


def test_entra_does_not_resend_an_unchanged_token() -> None:
    clock = Clock()
    cred = SameTokenCredential(clock)
    seen = Seen(statuses=[401])
    with _client(EntraID(cred, clock=clock), seen) as client:
        assert client.get(URL).status_code == 401
    assert len(seen.headers) == 1


def test_entra_passes_cae_claims_challenge_to_the_credential() -> None:
    clock = Clock()
    cred = FakeCredential(clock)
    claims = '{"access_token":{"nbf":{"essential":true,"value":"1"}}}'
    encoded = base64.urlsafe_b64encode(claims.encode()).decode().rstrip("=")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer token-1":
            challenge = f'Bearer realm="", error="insufficient_claims", claims="{encoded}"'
            return httpx.Response(401, headers={"www-authenticate": challenge})
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=EntraID(cred, clock=clock)) as client:
        assert client.get(URL).status_code == 200
    assert cred.calls[1] == ((ENTRA_SCOPE,), {"claims": claims})


def test_entra_credential_failure_becomes_authentication_error() -> None:
    class Broken:
        def get_token(self, *scopes: str, **kwargs: Any) -> Tok:
            raise RuntimeError("no managed identity endpoint")

    with (
        _client(EntraID(Broken()), Seen()) as client,
        pytest.raises(AuthenticationError, match=r"Entra ID token.*no managed identity"),
    ):
        client.get(URL)


def test_entra_rejects_a_tokenless_result() -> None:
    class Empty:
        def get_token(self, *scopes: str, **kwargs: Any) -> Tok:
            return Tok("", 0)

    with (
        _client(EntraID(Empty()), Seen()) as client,
        pytest.raises(AuthenticationError, match="no usable token"),
    ):
        client.get(URL)


def test_entra_repr_does_not_leak_the_token() -> None:
    clock = Clock()
    auth = EntraID(FakeCredential(clock), clock=clock)
    with _client(auth, Seen()) as client:
        client.get(URL)
    for text in (repr(auth), str(auth), repr(vars(auth))):
        assert "token-1" not in text
    assert ENTRA_SCOPE in repr(auth)


def test_async_credential_refused_in_sync_client() -> None:
    clock = Clock()
    with (
        _client(EntraID(AsyncFakeCredential(clock), clock=clock), Seen()) as client,
        pytest.raises(AuthenticationError, match="async"),
    ):
        client.get(URL)


@pytest.mark.anyio
async def test_entra_async_with_sync_credential_runs_off_the_event_loop() -> None:
    clock = Clock()
    loop_thread = threading.get_ident()
    threads: list[int] = []

    class ThreadRecording(FakeCredential):
        def get_token(self, *scopes: str, **kwargs: Any) -> Tok:
            threads.append(threading.get_ident())
            return super().get_token(*scopes, **kwargs)

    cred = ThreadRecording(clock)
    seen = Seen(statuses=[200, 401, 200])
    auth = EntraID(cred, clock=clock)
    async with httpx.AsyncClient(transport=httpx.MockTransport(seen), auth=auth) as client:
        await client.get(URL)
        response = await client.post(URL, content=b"payload")
    assert response.status_code == 200
    assert len(cred.calls) == 2  # cached once, refreshed once on the 401
    assert loop_thread not in threads
    assert [h["authorization"] for h in seen.headers] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert seen.bodies[1:] == [b"payload", b"payload"]


@pytest.mark.anyio
async def test_entra_async_credential_is_awaited_and_cached() -> None:
    clock = Clock()
    cred = AsyncFakeCredential(clock, lifetime=600)
    seen = Seen()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(seen), auth=EntraID(cred, clock=clock)
    ) as client:
        await client.get(URL)
        await client.get(URL)
        clock.now += 301  # 600 s token: refresh once fewer than 300 s remain
        await client.get(URL)
    assert len(cred.calls) == 2
    assert seen.headers[-1]["authorization"] == "Bearer token-2"
