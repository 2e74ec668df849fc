"""Who may use the app and how requests are guarded: sessions, login, CSRF, body size, headers.

* Session: a cookie holding `{sid, auth, iat}` signed with HMAC-SHA256 (stdlib `hmac`; `itsdangerous`
  is not a dependency). HttpOnly, SameSite=Lax; Secure when the request came over https (also behind a
  TLS proxy that sends X-Forwarded-Proto) or when `cookie_secure` forces it — forcing it on plain http
  would make login impossible, the browser never sending the cookie back.
* Login: off loopback every path but `/login` and `/static/` needs an authenticated session, or an
  `Authorization: Bearer <password>` header (for scripts). Browsers asking for a page are redirected to
  `/login`; everything else gets 401.
* CSRF: every state-changing request carries `X-CSRF-Token` (or a `csrf_token` form field) equal to an
  HMAC of the session id — also on loopback, where any web page could otherwise POST to localhost.
  Bearer-authenticated requests are exempt: no ambient credential rides on them.
* Body size: `Content-Length` over the limit is refused before reading; a chunked body is counted.
* Headers: a strict Content-Security-Policy (no inline script or style), nosniff, no framing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sorastudio.web.settings import WebSettings

COOKIE = "sorastudio_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PREFIXES = ("/login", "/static/", "/favicon.ico")
# /docs loads Swagger UI from a CDN with an inline script: it gets no CSP (it renders no user data).
_NO_CSP = ("/docs", "/redoc")
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


@dataclass(frozen=True)
class WebSession:
    sid: str
    auth: bool
    iat: int

    @classmethod
    def new(cls, *, auth: bool = False) -> WebSession:
        return cls(sid=secrets.token_urlsafe(18), auth=auth, iat=int(time.time()))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(settings: WebSettings, purpose: str, data: bytes) -> bytes:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, purpose.encode() + b"\0" + data, hashlib.sha256).digest()


def encode_session(settings: WebSettings, session: WebSession) -> str:
    payload = json.dumps({"sid": session.sid, "auth": session.auth, "iat": session.iat}).encode()
    return f"{_b64(payload)}.{_b64(_mac(settings, 'session', payload))}"


def decode_session(settings: WebSettings, value: str) -> WebSession | None:
    """The session in a cookie value, or None if it is forged, malformed or older than the max age."""
    try:
        body, _, mac = value.partition(".")
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(mac), _mac(settings, "session", payload)):
            return None
        data = json.loads(payload)
        session = WebSession(sid=str(data["sid"]), auth=bool(data["auth"]), iat=int(data["iat"]))
    except (ValueError, KeyError, TypeError):
        return None
    if time.time() - session.iat > settings.session_max_age:
        return None
    return session


def csrf_token(settings: WebSettings, session: WebSession) -> str:
    return _b64(_mac(settings, "csrf", session.sid.encode()))


def cookie_header(settings: WebSettings, session: WebSession | None, *, https: bool) -> str:
    """A `Set-Cookie` value for `session` (None: delete the cookie); Secure when `https` (or forced)."""
    value = encode_session(settings, session) if session else ""
    max_age = settings.session_max_age if session else 0
    secure = "; Secure" if settings.cookie_secure or (settings.cookie_secure is None and https) else ""
    return f"{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"


def password_matches(settings: WebSettings, given: str | None) -> bool:
    expected = settings.password.get_secret_value() if settings.password else ""
    # Compare digests so neither the length nor a prefix of the password leaks through timing.
    return bool(expected) and hmac.compare_digest(
        hashlib.sha256((given or "").encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


def session_of(request: Request) -> WebSession:
    return request.state.web_session  # type: ignore[no-any-return]


async def require_csrf(request: Request) -> None:
    """Dependency on every state-changing route: refuse (403) without the session's CSRF token."""
    if request.method in SAFE_METHODS or getattr(request.state, "bearer", False):
        return
    settings: WebSettings = request.app.state.settings
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    expected = csrf_token(settings, session_of(request))
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            403, "CSRF token missing or wrong: reload the page (scripts send the X-CSRF-Token header)"
        )


class _TooLarge(Exception):
    pass


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _respond(send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class WebGuard:
    """ASGI middleware: session cookie, login gate, body size limit and security headers."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings

    def _session(self, headers: dict[str, str]) -> tuple[WebSession, bool]:
        """The request's valid session, or a new one (True: it must be sent as a cookie)."""
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is the client's problem, not a 500
            cookie = SimpleCookie()
        morsel = cookie.get(COOKIE)
        session = decode_session(self.settings, morsel.value) if morsel else None
        return (session, False) if session else (WebSession.new(), True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings
        headers = _headers(scope)
        session, issue = self._session(headers)
        bearer = headers.get("authorization", "")
        by_token = bearer.lower().startswith("bearer ") and password_matches(settings, bearer[7:].strip())
        state = scope.setdefault("state", {})
        state["web_session"] = session
        state["bearer"] = by_token

        path: str = scope["path"]
        extra = list(_HEADERS)
        if not path.startswith(_NO_CSP):
            extra.append((b"content-security-policy", CSP.encode()))
        if issue:
            https = scope.get("scheme") == "https"  # uvicorn's proxy headers make this true behind TLS
            extra.append((b"set-cookie", cookie_header(settings, session, https=https).encode()))

        if (
            settings.login_required
            and not (session.auth or by_token)
            and not path.startswith(PUBLIC_PREFIXES)
        ):
            if scope["method"] == "GET" and "text/html" in headers.get("accept", ""):  # a browser page
                query = scope["query_string"].decode()
                target = quote(path + (f"?{query}" if query else ""))
                extra.append((b"location", f"/login?next={target}".encode()))
                await _respond(send, 303, {"detail": "login required"}, extra)
            else:
                await _respond(send, 401, {"detail": "login required: sign in or send a Bearer token"}, extra)
            return

        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.max_upload_bytes:
            await _respond(send, 413, {"detail": _too_large(settings.max_upload_bytes)}, extra)
            return
        await self._limited(scope, receive, send, extra)

    async def _limited(
        self, scope: Scope, receive: Receive, send: Send, extra: list[tuple[bytes, bytes]]
    ) -> None:
        """Run the app, counting the body as it arrives (a chunked body declares no length)."""
        limit = self.settings.max_upload_bytes
        received = 0
        too_large = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return  # the app's reaction to the aborted body; ours (413) follows
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": _merge(message.get("headers", []), extra)}
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if too_large and not started:
            await _respond(send, 413, {"detail": _too_large(limit)}, extra)


def _merge(own: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The response's headers plus ours, without overriding its own (a route that set the session
    cookie — login, logout — wins over the middleware's new-session cookie)."""
    names = {k.lower() for k, _ in own}
    route_session = any(k.lower() == b"set-cookie" and v.startswith(COOKIE.encode()) for k, v in own)
    added = []
    for name, value in extra:
        if name == b"set-cookie":
            if not route_session:
                added.append((name, value))
        elif name not in names:
            added.append((name, value))
    return [*own, *added]


def _too_large(limit: int) -> str:
    return f"the request body is larger than the limit of {limit} bytes ({limit / 2**20:g} MiB)"


__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "WebGuard",
    "WebSession",
    "cookie_header",
    "csrf_token",
    "decode_session",
    "encode_session",
    "password_matches",
    "require_csrf",
    "session_of",
]
