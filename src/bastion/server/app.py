"""The FastAPI application: API, dashboard, static assets, security middleware."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bastion import __version__
from bastion.server import (
    alerts,
    api,
    branches,
    catalog,
    drills,
    integrations,
    invites,
    jobs,
    login,
    phish,
    ready,
    respond,
    triage,
    triage_pages,
    users,
    users_api,
    web,
)
from bastion.server import compliance_page as compliance_pages
from bastion.server import metrics as metrics_pages
from bastion.server.auth import NotSignedIn, Principal
from bastion.server.deps import BUSY_DETAIL, BUSY_RETRY_AFTER_S, BodyLimit, CredentialGate, is_busy, principal
from bastion.server.security import SecureHeaders
from bastion.server.settings import ServerSettings
from bastion.store.db import Store
from bastion.store.throttle import AttemptCounter

__all__ = ["PUBLIC_PATHS", "create_app"]

STATIC_DIR = Path(__file__).parent / "static"
PUBLIC_PATHS = ("/health", "/login", "/static", "/invite", phish.TRACK_PREFIX)
"""The only paths that answer without authentication (a test enumerates every route)."""


def create_app(settings: ServerSettings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app over ``store`` (default: from the settings), migrating it first."""
    settings = settings or ServerSettings.from_env()
    store = store or Store.open(settings.database_url)
    if settings.migrate:
        store.migrate()
    app = FastAPI(
        title="Bastion",
        version=__version__,
        description="Findings from every pipeline, tracked from first seen to fixed.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.limiter = AttemptCounter(
        store, settings.login_attempts, settings.login_window_s, settings.login_address_attempts
    )
    app.add_middleware(CredentialGate, public_paths=PUBLIC_PATHS)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    app.add_middleware(SecureHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api.router)
    app.include_router(login.router)
    app.include_router(triage.api)
    # Before web.router: /findings/groups, /findings/export... are not /findings/{finding_id}.
    app.include_router(triage_pages.pages)
    app.include_router(web.router)
    # Each feature is one module with its API and its pages (phishing tracking answers signed out).
    feature_routers = (
        (phish.tracking, phish.pages, phish.api),
        (catalog.api, catalog.pages),
        (jobs.api, jobs.pages),
        (drills.api, drills.pages),
        (alerts.api, alerts.pages),
        (respond.api, respond.pages),
        (integrations.api, integrations.pages),
        (ready.api_router, ready.pages),
        (metrics_pages.api, metrics_pages.pages),
        (compliance_pages.pages,),
        (users.pages, invites.pages, invites.public, users_api.api),
        (branches.api,),
    )
    for routers in feature_routers:
        for feature_router in routers:
            app.include_router(feature_router)

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: answers without authentication, says nothing about the data."""
        return {"status": "ok"}

    @app.get("/openapi.json", tags=["meta"], include_in_schema=False)
    def openapi(_: Principal = Depends(principal)) -> dict[str, Any]:
        """The OpenAPI document (signed-in callers only)."""
        return app.openapi()

    @app.exception_handler(OperationalError)
    async def busy(request: Request, exc: OperationalError) -> Response:
        if not is_busy(exc):
            raise exc
        detail = BUSY_DETAIL
        headers = {"Retry-After": str(BUSY_RETRY_AFTER_S)}
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": detail}, status_code=503, headers=headers)
        page = web.error_page(request, 503, detail)
        page.headers.update(headers)
        return page

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        api_path = request.url.path.startswith("/api/") or request.url.path == "/openapi.json"
        if isinstance(exc, NotSignedIn) and not api_path and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        headers = getattr(exc, "headers", None)
        if not api_path and exc.status_code != 401:
            page = web.error_page(request, exc.status_code, str(exc.detail))
            page.headers.update(headers or {})
            return page
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    return app
