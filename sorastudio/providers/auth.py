"""Credentials as `httpx.Auth` flows: Azure `api-key` header, Bearer key, Microsoft Entra ID.

Keys are held as `pydantic.SecretStr` and never appear in `repr()`/`str()` or in our exceptions.
Entra ID tokens are cached until `refresh_margin` seconds before they expire; a 401 triggers one refresh
and one retry (only when the refreshed token differs — resending the same token cannot succeed).
"""

from __future__ import annotations

import base64
import functools
import inspect
import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, get_args

import anyio
import anyio.to_thread
import httpx
from pydantic import SecretStr

from sorastudio.errors import AuthenticationError, ValidationError

AuthMethod = Literal["api-key", "bearer", "entra"]
AUTH_METHODS: tuple[str, ...] = get_args(AuthMethod)
ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
REFRESH_MARGIN_S = 300.0


class TokenCredentialLike(Protocol):
    """Anything with azure-core's `get_token(*scopes, **kw)` → object with `.token` and `.expires_on`.

    `get_token` may be a coroutine function (azure.identity.aio credentials).
    """

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


def _clean_key(key: SecretStr | str | None, method: str) -> SecretStr:
    raw = key.get_secret_value() if isinstance(key, SecretStr) else key
    if raw is None or not raw.strip():
        raise ValidationError(
            f"auth method {method!r} needs a key, but none was given",
            field="api_key",
            allowed=(),
        )
    raw = raw.strip()  # keys pasted from a portal often carry a trailing newline
    bad = next((i for i, ch in enumerate(raw) if not 0x21 <= ord(ch) <= 0x7E), None)
    if bad is not None:
        # Report the position only: the character (or key) itself must not reach a log.
        raise ValidationError(
            f"the {method} key has a space, control or non-ASCII character at position {bad + 1}, "
            "which an HTTP header cannot carry: check that the whole key was copied and nothing else",
            field="api_key",
        )
    return SecretStr(raw)


class _StaticKeyAuth(httpx.Auth):
    """A fixed secret sent in one header on every request."""

    method: ClassVar[str]
    header: ClassVar[str]
    prefix: ClassVar[str] = ""

    def __init__(self, key: SecretStr | str) -> None:
        self._key = _clean_key(key, self.method)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self.prefix + self._key.get_secret_value()
        yield request

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key=<hidden>)"

    __str__ = __repr__


class ApiKeyHeader(_StaticKeyAuth):
    """Azure key auth: `api-key: <key>`."""

    method = "api-key"
    header = "api-key"


class BearerKey(_StaticKeyAuth):
    """OpenAI (and compatible servers, and Azure v1 via the OpenAI SDK): `Authorization: Bearer <key>`."""

    method = "bearer"
    header = "Authorization"
    prefix = "Bearer "


@dataclass(frozen=True, slots=True)
class _Token:
    value: SecretStr
    refresh_at: float  # clock time after which we fetch a new one


_CLAIMS_RE = re.compile(r'claims="([^"]*)"')


def _claims_challenge(response: httpx.Response) -> str | None:
    """Decoded `claims` of a continuous-access-evaluation challenge (WWW-Authenticate), if any.

    Passing them to `get_token` makes azure.identity bypass its own cache and mint a new token.
    """
    match = _CLAIMS_RE.search(response.headers.get("www-authenticate", ""))
    if not match:
        return None
    encoded = match.group(1)
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


class EntraID(httpx.Auth):
    """Microsoft Entra ID bearer tokens from an azure-identity credential.

    `credential` defaults to `azure.identity.DefaultAzureCredential` (created on first use). In async
    clients a sync credential runs in a worker thread so the event loop is never blocked; a credential
    whose `get_token` is a coroutine function is awaited directly. `clock` returns unix seconds (as
    `expires_on` does) and is injectable for tests.
    """

    # The body is buffered so the 401 retry can send it again.
    requires_request_body = True

    def __init__(
        self,
        credential: TokenCredentialLike | None = None,
        scope: str = ENTRA_SCOPE,
        *,
        refresh_margin: float = REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.scope = scope
        self._credential = credential
        self._margin = refresh_margin
        self._clock = clock
        self._token: _Token | None = None
        self._sync_lock = threading.Lock()
        self._async_lock: anyio.Lock | None = None

    def __repr__(self) -> str:
        name = type(self._credential).__name__ if self._credential is not None else "DefaultAzureCredential"
        return f"EntraID(scope={self.scope!r}, credential={name})"

    __str__ = __repr__

    # -- token cache -------------------------------------------------------------------------------

    def _cached(self, stale: _Token | None) -> _Token | None:
        """The cached token if it is usable and is not the one the server just refused."""
        token = self._token
        if token is None or token is stale or self._clock() >= token.refresh_at:
            return None
        return token

    def _store(self, result: Any) -> _Token:
        value = getattr(result, "token", None)
        expires_on = getattr(result, "expires_on", None)
        if not isinstance(value, str) or not value or not isinstance(expires_on, int | float):
            raise AuthenticationError(
                f"the Entra ID credential returned no usable token for scope {self.scope} "
                "(expected an object with .token and .expires_on)"
            )
        refresh_at = float(expires_on) - self._margin
        refresh_on = getattr(result, "refresh_on", None)  # azure-core AccessTokenInfo hint
        if isinstance(refresh_on, int | float):
            refresh_at = min(refresh_at, float(refresh_on))
        self._token = _Token(SecretStr(value), refresh_at)
        return self._token

    def _credential_or_default(self) -> TokenCredentialLike:
        if self._credential is None:
            from azure.identity import DefaultAzureCredential  # slow import; only Entra users pay it

            self._credential = DefaultAzureCredential()
        return self._credential

    def _failed(self, exc: Exception) -> AuthenticationError:
        return AuthenticationError(
            f"could not get a Microsoft Entra ID token for scope {self.scope}: {type(exc).__name__}: {exc}"
        )

    def _sync_token(self, stale: _Token | None = None, claims: str | None = None) -> _Token:
        with self._sync_lock:
            token = self._cached(stale)
            if token is not None:
                return token
            kwargs = {"claims": claims} if claims else {}
            try:
                result = self._credential_or_default().get_token(self.scope, **kwargs)
            except Exception as exc:
                raise self._failed(exc) from exc
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()  # never awaited; avoid a "coroutine was never awaited" warning
                raise AuthenticationError(
                    "this credential's get_token is async: use it with an async client (httpx.AsyncClient)"
                )
            return self._store(result)

    async def _async_token(self, stale: _Token | None = None, claims: str | None = None) -> _Token:
        if self._async_lock is None:
            self._async_lock = anyio.Lock()
        async with self._async_lock:
            token = self._cached(stale)
            if token is not None:
                return token
            kwargs = {"claims": claims} if claims else {}
            try:
                credential = self._credential
                if credential is None:
                    credential = await anyio.to_thread.run_sync(self._credential_or_default)
                if inspect.iscoroutinefunction(credential.get_token):
                    result = await credential.get_token(self.scope, **kwargs)
                else:
                    call = functools.partial(credential.get_token, self.scope, **kwargs)
                    result = await anyio.to_thread.run_sync(call)
                    if inspect.isawaitable(result):  # a sync-looking method that returns an awaitable
                        result = await result
            except Exception as exc:
                raise self._failed(exc) from exc
            return self._store(result)

    # -- httpx flows -------------------------------------------------------------------------------

    @staticmethod
    def _apply(request: httpx.Request, token: _Token) -> None:
        request.headers["Authorization"] = "Bearer " + token.value.get_secret_value()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()
        token = self._sync_token()
        self._apply(request, token)
        response = yield request
        if response.status_code == 401:
            fresh = self._sync_token(stale=token, claims=_claims_challenge(response))
            if fresh.value != token.value:
                self._apply(request, fresh)
                yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        token = await self._async_token()
        self._apply(request, token)
        response = yield request
        if response.status_code == 401:
            fresh = await self._async_token(stale=token, claims=_claims_challenge(response))
            if fresh.value != token.value:
                self._apply(request, fresh)
                yield request


def auth_for(
    method: AuthMethod,
    key: SecretStr | str | None = None,
    *,
    credential: TokenCredentialLike | None = None,
    scope: str = ENTRA_SCOPE,
) -> httpx.Auth:
    """The `httpx.Auth` for a configured method; `key` is required for api-key/bearer, unused by entra."""
    if method == "api-key":
        return ApiKeyHeader(_clean_key(key, method))
    if method == "bearer":
        return BearerKey(_clean_key(key, method))
    if method == "entra":
        return EntraID(credential, scope)
    raise ValidationError(
        f"auth method {method!r} is not supported: choose one of {', '.join(AUTH_METHODS)}",
        field="auth",
        value=method,
        allowed=AUTH_METHODS,
    )


__all__ = [
    "AUTH_METHODS",
    "ENTRA_SCOPE",
    "ApiKeyHeader",
    "AuthMethod",
    "BearerKey",
    "EntraID",
    "TokenCredentialLike",
    "auth_for",
]
