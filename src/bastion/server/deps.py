"""FastAPI dependencies shared by the API and the dashboard, and the upload size guard."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.server.auth import SAFE_METHODS, Principal, authenticate_request
from bastion.server.settings import ServerSettings
from bastion.store.db import Store

__all__ = ["BodyLimit", "db", "get_settings", "get_store", "principal"]


def get_store(request: Request) -> Store:
    """The app's store."""
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> ServerSettings:
    """The app's settings."""
    settings: ServerSettings = request.app.state.settings
    return settings


async def principal(request: Request) -> Principal:
    """The authenticated caller (401 when none); CSRF-checked for cookie sessions."""
    csrf: str | None = None
    content_type = request.headers.get("content-type", "")
    if request.method not in SAFE_METHODS and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf_token")
        csrf = value if isinstance(value, str) else None
    return await run_in_threadpool(authenticate_request, get_store(request), request, csrf)


def db(request: Request) -> Iterator[Session]:
    """A session for the request: reads share, writes take the write lock up front."""
    store = get_store(request)
    context = store.read() if request.method in SAFE_METHODS else store.write()
    with context as session:
        yield session


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
