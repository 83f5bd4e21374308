"""FastAPI dependencies shared by the API and the dashboard, and the upload size guard."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.server.auth import SAFE_METHODS, Principal, check_csrf, identify
from bastion.server.settings import ServerSettings
from bastion.store.db import Store

__all__ = [
    "BUSY_DETAIL",
    "BUSY_RETRY_AFTER_S",
    "DB",
    "PUBLIC_BODY_LIMIT",
    "BodyLimit",
    "CredentialGate",
    "db",
    "get_settings",
    "get_store",
    "is_busy",
    "principal",
]

PUBLIC_BODY_LIMIT = 64 * 1024
"""Bytes a request to a public path (the sign-in form) may send: a user name and a password."""
_STATE_KEY = "bastion_principal"
BUSY_RETRY_AFTER_S = 5
"""What a 503 asks the client to wait when the database was too busy to answer in time."""
BUSY_DETAIL = "the database is busy with another write; retry shortly"
_BUSY = (
    "database is locked",
    "database table is locked",
    "lock timeout",
    "lock_not_available",
    "could not obtain lock",
    "deadlock detected",
)


def is_busy(exc: OperationalError) -> bool:
    """True when the database refused for contention (SQLite's lock, a PostgreSQL lock timeout)."""
    text = str(exc.orig if exc.orig is not None else exc).lower()
    return any(marker in text for marker in _BUSY)


def get_store(request: Request) -> Store:
    """The app's store."""
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> ServerSettings:
    """The app's settings."""
    settings: ServerSettings = request.app.state.settings
    return settings


async def principal(request: Request) -> Principal:
    """The authenticated caller (401 when none); CSRF-checked for cookie sessions.

    A state-changing request was already identified by :class:`CredentialGate` before its body
    was read; the form is parsed for the CSRF field only after that."""
    known = request.scope.get("state", {}).get(_STATE_KEY)
    who = (
        known
        if isinstance(known, Principal)
        else await run_in_threadpool(identify, get_store(request), request)
    )
    csrf: str | None = None
    content_type = request.headers.get("content-type", "")
    if (
        who.user is not None
        and request.method not in SAFE_METHODS
        and not request.headers.get("x-csrf-token")
        and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    ):
        value = (await request.form()).get("csrf_token")
        csrf = value if isinstance(value, str) else None
    check_csrf(who, request, csrf)
    return who


def _is_public(path: str, public: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in public)


class CredentialGate:
    """ASGI middleware: a state-changing request to a non-public path is authenticated before a
    byte of its body is read (an anonymous 60 MB multipart upload is a 401, not parsed first); a
    public path (the sign-in form) takes at most :data:`PUBLIC_BODY_LIMIT` bytes."""

    def __init__(self, app: ASGIApp, public_paths: tuple[str, ...]) -> None:
        self.app = app
        self.public = public_paths
        self.small = BodyLimit(app, PUBLIC_BODY_LIMIT)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Identify the caller of an unsafe request first; 401 without reading the body."""
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        if _is_public(str(scope["path"]), self.public):
            await self.small(scope, receive, send)
            return
        request = Request(scope)
        try:
            who = await run_in_threadpool(identify, scope["app"].state.store, request)
        except HTTPException as exc:
            response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
            await response(scope, receive, send)
            return
        except OperationalError as exc:
            if not is_busy(exc):
                raise
            headers = {"Retry-After": str(BUSY_RETRY_AFTER_S)}
            await JSONResponse({"detail": BUSY_DETAIL}, status_code=503, headers=headers)(
                scope, receive, send
            )
            return
        scope.setdefault("state", {})[_STATE_KEY] = who
        await self.app(scope, receive, send)


def db(request: Request) -> Iterator[Session]:
    """A session for the request: reads share, writes take the write lock up front."""
    store = get_store(request)
    context = store.read() if request.method in SAFE_METHODS else store.write()
    with context as session:
        yield session


DB = Depends(db, scope="function")
"""The request's session, committed before the response is sent.

FastAPI's default runs a dependency's exit code after the response has gone out, so a
redirect after a write could reach the browser, and the page it loads be read, before
the write committed: the page would show the state before the change.
"""


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: 413 for a request body over the limit, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse early on Content-Length, else count the bytes as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _reject(send, self.limit)
                return
        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except _TooLarge:
            if not started:
                await _reject(send, self.limit)


async def _reject(send: Send, limit: int) -> None:
    body = f'{{"detail":"upload larger than {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
