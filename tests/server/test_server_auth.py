"""Authentication everywhere: every route refuses anonymous callers except the public ones."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from server_world import PASSWORD, World, bearer, login
from starlette.routing import BaseRoute, Mount

PUBLIC = {("GET", "/health"), ("GET", "/login"), ("POST", "/login")}
# Accepting an invite: the invitee has no account yet; the code in the form is the credential
# (its own tests in test_server_invite.py).
INVITE = {("GET", "/invite"), ("POST", "/invite")}
# single sign-on's start and callback answer signed out by design (404 where SSO is not configured,
# as in this world; its own tests in test_server_oidc.py)
SSO = {("GET", "/login/oidc"), ("GET", "/login/oidc/callback")}
# Phishing-exercise tracking: answers signed out by design, the same for unknown tokens (its own
# tests); listed one by one so a new signed-out route is a deliberate change to this file.
TRACKING = {
    ("GET", "/p/j.js"),
    ("GET", "/p/style.css"),
    ("GET", "/p/o/1"),
    ("GET", "/p/c/1"),
    ("GET", "/p/a/1"),
    ("POST", "/p/b/1"),
    ("POST", "/p/s/1"),
    ("GET", "/p/done"),
    ("GET", "/p/r/1"),
    ("POST", "/p/r/1"),
}


def _flatten(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Every route, also those of included routers (FastAPI >= 0.16x keeps them nested)."""
    flat: list[BaseRoute] = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        flat.extend(_flatten(nested.routes) if nested is not None else [route])
    return flat


def _routes(world: World) -> list[tuple[str, str]]:
    found = []
    for route in _flatten(world.app.routes):
        if isinstance(route, Mount):
            continue
        path = re.sub(r"\{[^}]+\}", "1", getattr(route, "path", ""))
        found.extend((m, path) for m in sorted(getattr(route, "methods", None) or []) if m != "HEAD")
    return found


def test_every_route_but_health_login_and_static_needs_authentication(
    world: World, client: TestClient
) -> None:
    routes = _routes(world)
    assert len(routes) > 25 and ("GET", "/openapi.json") in routes
    assert {route for route in routes if route[1].startswith("/p/")} == TRACKING
    for method, path in routes:
        if (method, path) in PUBLIC | TRACKING | INVITE:
            continue
        if (method, path) in SSO:
            assert client.request(method, path).status_code == 404
            continue
        for headers in ({}, bearer("bst_000000000000_wrong"), {"Cookie": "bastion_session=forged"}):
            response = client.request(method, path, headers=headers)
            if response.status_code == 303:
                assert method == "GET" and response.headers["location"].startswith("/login"), (method, path)
            else:
                assert response.status_code == 401, (method, path, headers, response.status_code)
            assert "finding" not in response.text.lower() or response.status_code == 303
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/login").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/htmx.min.js").status_code == 200
    api_routes = [
        r for r in _flatten(world.app.routes) if isinstance(r, APIRoute) and r.path.startswith("/api/")
    ]
    assert len(api_routes) >= 13


def test_openapi_for_signed_in_callers(client: TestClient, world: World) -> None:
    assert client.get("/openapi.json").status_code == 401
    document = client.get("/openapi.json", headers=bearer(world.read_token)).json()
    assert "/api/v1/projects/{slug}/findings" in document["paths"]


def test_secure_headers_and_hsts_only_over_tls(world: World, client: TestClient) -> None:
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers
    with TestClient(world.app, base_url="https://testserver") as tls:
        assert tls.get("/health").headers["strict-transport-security"].startswith("max-age=")
    page = client.get("/login").text
    assert "style=" not in page and "<script>" not in page and "onclick" not in page


def test_login_logout_csrf_and_session_cookie(client: TestClient) -> None:
    csrf = login(client, "maya")
    cookie = client.cookies.get("bastion_session")
    assert cookie
    assert client.get("/projects").status_code == 200
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/projects").status_code == 303
    client.cookies.set("bastion_session", cookie)
    assert client.get("/projects").status_code == 303


def test_login_form_needs_its_csrf_cookie_and_rejects_open_redirects(client: TestClient) -> None:
    response = client.post("/login", data={"username": "maya", "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"username": "maya", "password": PASSWORD, "csrf_token": csrf, "next": "//evil.example/"}
    response = client.post("/login", data=data)
    assert response.headers["location"] == "/"


def test_login_rate_limiting(client: TestClient) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    for _ in range(5):
        wrong = client.post("/login", data={"username": "vic", "password": "guess guess", "csrf_token": csrf})
        assert wrong.status_code == 303 and "error=" in wrong.headers["location"]
    blocked = client.post("/login", data={"username": "vic", "password": PASSWORD, "csrf_token": csrf})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_a_lock_out_holds_only_the_offending_account_and_address(world: World, client: TestClient) -> None:
    """After the limit the right password is refused for that (account, address) only; the count
    lives in the database, so a second app over the same store (another process) sees it."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    for _ in range(5):
        client.post("/login", data={"username": "vic", "password": "guess guess", "csrf_token": csrf})
    right = {"username": "vic", "password": PASSWORD, "csrf_token": csrf}
    assert client.post("/login", data=right).status_code == 429
    from bastion.server.app import create_app

    other_process = create_app(world.app.state.settings, world.app.state.store)
    with TestClient(other_process, follow_redirects=False) as second:
        page = second.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert second.post("/login", data={**right, "csrf_token": token}).status_code == 429
        maya = {"username": "maya", "password": PASSWORD, "csrf_token": token}
        assert second.post("/login", data=maya).status_code == 303
    counter = world.app.state.limiter
    assert counter.begin("vic", "203.0.113.9") == 0, "the same account from another address"
