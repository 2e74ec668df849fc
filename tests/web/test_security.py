"""Login off loopback, CSRF on every state-changing route, session cookies, upload limits, headers,
and no API key in any response."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.routing import APIRoute
from pydantic import SecretStr

from sorastudio.errors import ValidationError
from sorastudio.web import WebSettings, create_app
from sorastudio.web.app import ROUTERS
from sorastudio.web.security import COOKIE
from tests.web.conftest import TEST_SECRET, RecordingClient, create, wait_done

PASSWORD = "correct horse battery staple"


def exposed(
    make_client: Callable[..., RecordingClient], base_url: str = "http://127.0.0.1"
) -> RecordingClient:
    return make_client(csrf=False, host="0.0.0.0", password=SecretStr(PASSWORD), base_url=base_url)


def test_an_exposed_server_refuses_to_start_without_a_password() -> None:
    with pytest.raises(ValidationError, match="SORASTUDIO_WEB_PASSWORD") as info:
        create_app(settings=WebSettings(host="0.0.0.0"))
    assert info.value.field == "password"
    assert WebSettings(host="127.0.0.1").login_required is False
    assert WebSettings(host="::1").login_required is False
    assert WebSettings(host="192.168.1.20").login_required is True
    assert WebSettings(host="my-box.local").login_required is True


def test_off_loopback_everything_needs_a_login(make_client: Callable[..., RecordingClient]) -> None:
    client = exposed(make_client)

    page = client.get("/gallery?q=cat", headers={"accept": "text/html"}, follow_redirects=False)
    api = client.get("/api/generations")
    media = client.get("/media/01ARZ3NDEKTSV4RRFFQ69G5FAV/video/0")
    events = client.get("/api/events")
    docs = client.get("/openapi.json")

    assert page.status_code == 303 and page.headers["location"] == "/login?next=/gallery%3Fq%3Dcat"
    assert api.status_code == 401 and media.status_code == 401 and events.status_code == 401
    assert docs.status_code == 401
    assert client.get("/login").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_login_with_the_password_opens_the_app(make_client: Callable[..., RecordingClient]) -> None:
    client = exposed(make_client, base_url="https://studio.example")
    login_page = client.get("/login?next=/gallery").text
    token = login_page.split('name="csrf_token" value="')[1].split('"')[0]

    wrong = client.post("/login", data={"password": "guess", "next": "/gallery", "csrf_token": token})
    no_csrf = client.post("/login", data={"password": PASSWORD, "next": "/gallery"})
    right = client.post(
        "/login", data={"password": PASSWORD, "next": "/gallery", "csrf_token": token}, follow_redirects=False
    )

    assert wrong.status_code == 401 and "not right" in wrong.text
    assert no_csrf.status_code == 403
    assert right.status_code == 303 and right.headers["location"] == "/gallery"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert client.get("/gallery").status_code == 200
    assert client.get("/api/generations").status_code == 200


def test_a_bearer_token_works_for_scripts_without_csrf(make_client: Callable[..., RecordingClient]) -> None:
    client = exposed(make_client)
    auth = {"Authorization": f"Bearer {PASSWORD}"}

    listed = client.get("/api/generations", headers=auth)
    created = client.post("/api/generations", data={"prompt": "a fox in snow"}, headers=auth)
    wrong = client.get("/api/generations", headers={"Authorization": "Bearer nope"})

    assert listed.status_code == 200
    assert created.status_code == 201, created.text
    assert wrong.status_code == 401


def test_login_redirect_stays_on_this_site(make_client: Callable[..., RecordingClient]) -> None:
    client = exposed(make_client)
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]  # per session
        response = client.post(
            "/login", data={"password": PASSWORD, "next": target, "csrf_token": token}, follow_redirects=False
        )
        assert response.headers["location"] == "/", target


def test_every_state_changing_route_refuses_requests_without_the_csrf_token(
    make_client: Callable[..., RecordingClient],
) -> None:
    client = make_client(csrf=False, run_engine=False)
    client.get("/create")  # a session cookie, but no token sent
    unsafe = [
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
        if method not in ("GET", "HEAD", "OPTIONS")
    ]
    assert len(unsafe) >= 12  # create, cancel, retry, remix, delete, estimate, preview, budgets, profiles…
    for method, path in unsafe:
        url = path.replace("{generation_id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV").replace("{name}", "emulator")
        response = client.request(method, url, headers={"X-CSRF-Token": "forged"})
        assert response.status_code == 403, (method, path, response.status_code)
        assert "CSRF" in response.json()["detail"]

    token = client.fetch_csrf()
    ok = client.post("/api/estimate", json={"seconds": 4}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200


def test_a_forged_session_cookie_is_replaced(make_client: Callable[..., RecordingClient]) -> None:
    client = exposed(make_client)
    client.cookies.set(COOKIE, "eyJzaWQiOiAiYSIsICJhdXRoIjogdHJ1ZSwgImlhdCI6IDk5OTk5OTk5OTl9.AAAA")
    response = client.get("/api/generations")
    assert response.status_code == 401
    assert COOKIE in response.headers["set-cookie"]
    assert "Secure" not in response.headers["set-cookie"]  # plain http: a Secure cookie would never return


def test_uploads_over_the_limit_are_refused(make_client: Callable[..., RecordingClient]) -> None:
    client = make_client(run_engine=False, max_upload_bytes=64 * 1024)
    big = b"\0" * (128 * 1024)

    declared = client.post(
        "/api/images/preview", data={"size": "1280x720"}, files={"image": ("big.png", big, "image/png")}
    )

    def chunks() -> Iterator[bytes]:
        for _ in range(16):
            yield b"x" * 8192

    chunked = client.post(
        "/api/estimate",
        content=chunks(),
        headers={"Content-Type": "application/json", "X-CSRF-Token": client.csrf},
    )

    assert declared.status_code == 413 and "65536 bytes" in declared.json()["detail"]
    assert chunked.status_code == 413


def test_pages_carry_a_strict_content_security_policy(client: RecordingClient) -> None:
    response = client.get("/create")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text  # only external scripts and JSON data blocks


def test_no_api_key_appears_in_any_response(client: RecordingClient) -> None:
    """Walk every page and API read with a profile holding a key, then search all bodies (the `seen`
    fixture also checks every other test's responses at teardown)."""
    endpoint = client.get("/api/profiles").json()[0]["endpoint"]
    client.post(
        "/api/profiles",
        json={"name": "secretive", "api_kind": "azure_videos", "endpoint": endpoint, "api_key": TEST_SECRET},
    )
    done = wait_done(client, create(client, "a quiet library", seconds=4)["id"])
    for path in (
        "/create",
        "/queue",
        "/gallery",
        f"/gallery/{done['id']}",
        "/costs",
        "/settings",
        "/api/profiles",
        "/api/catalog",
        "/api/costs",
        "/api/generations",
        f"/api/generations/{done['id']}",
        f"/api/generations/{done['id']}/events",
        "/openapi.json",
    ):
        assert client.get(path).status_code == 200, path
    client.post("/api/profiles/secretive/test")
    client.post(
        "/api/profiles",
        json={"name": "bad name!", "api_kind": "openai", "endpoint": endpoint, "api_key": TEST_SECRET},
    )
    client.post(
        "/api/profiles", json={"name": "x", "api_kind": "nope", "endpoint": endpoint, "api_key": TEST_SECRET}
    )

    assert len(client.seen.bodies) > 15
    assert client.seen.leaks() == []


def test_loopback_studio_refuses_foreign_host_names(make_client) -> None:  # type: ignore[no-untyped-def]
    """DNS rebinding: a page whose name now resolves to 127.0.0.1 must not reach the studio."""
    client = make_client()
    assert client.get("/create").status_code == 200
    rebound = client.get("/create", headers={"host": "evil.example:8000"})
    assert rebound.status_code == 400
    refused = client.put(
        "/api/budgets", json={"scope": "total", "limit": "99999"}, headers={"host": "evil.example"}
    )
    assert refused.status_code == 400
