"""Alerts read from a Bastion server (``GET /api/v1/alerts`` with an API token).

The server lists alerts newest received first; this module asks for those after the last alert it
handed over before (``after_id``, a cursor the responder keeps in its ledger; also filtered here, for
a server without the parameter), pages back, then yields the new ones oldest first as JSON lines,
so :class:`bastion.respond.alerts.AlertReader` reads them like a file's.
The token is sent in the ``Authorization`` header only: never printed, logged or stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from bastion.errors import InputError, UsageError

__all__ = ["PAGE_LIMIT", "ServerAlerts"]

PAGE_LIMIT = 500
"""Alerts asked for per request (the server's maximum)."""
MAX_PAGES = 200
"""At most this many pages per poll (100,000 alerts): a bound, not a silent cut (it says so)."""


@dataclass
class ServerAlerts:
    """New alerts of one server (and project, when given), read with a token."""

    url: str
    token: str
    project: str = ""
    statuses: tuple[str, ...] = ("open",)
    after_id: int = 0
    """The highest alert id already handed over; only newer alerts are read."""
    client: httpx.Client | None = None
    notes: list[str] = field(default_factory=list)
    """Visible remarks (a poll that hit :data:`MAX_PAGES`)."""

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise UsageError(f"--server {self.url!r}: expected an http:// or https:// URL")
        if not self.token:
            raise UsageError("--server needs an API token: pass --token or set BASTION_TOKEN")
        self.url = self.url.rstrip("/")

    @property
    def cursor_key(self) -> str:
        """The ledger setting that remembers :attr:`after_id` for this server and project."""
        return f"server_cursor:{self.url}|{self.project}"

    def _page(self, http: httpx.Client, page: int) -> dict[str, Any]:
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("page", page), ("limit", PAGE_LIMIT), ("after_id", self.after_id),
        ]  # fmt: skip
        params += [("status", s) for s in self.statuses]
        if self.project:
            params.append(("project", self.project))
        where = f"{self.url}/api/v1/alerts"
        try:
            response = http.get(where, params=params, headers={"Authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as exc:
            raise InputError(f"{where}: cannot read alerts ({type(exc).__name__}: {exc})") from None
        if response.status_code != 200:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise InputError(f"{where}: alerts request refused ({response.status_code}): {str(detail)[:200]}")
        try:
            data = response.json()
        except ValueError:
            raise InputError(f"{where}: the answer is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("alerts"), list):
            raise InputError(f"{where}: the answer has no 'alerts' list")
        return data

    def poll(self) -> list[tuple[str, int, str]]:
        """The alerts newer than :attr:`after_id`, oldest first, as ``(source, id, JSON text)``;
        advances :attr:`after_id` past them."""
        http = self.client or httpx.Client(timeout=30.0)
        fresh: dict[int, dict[str, Any]] = {}  # by id: an alert arriving while paging shifts the pages
        try:
            for page in range(1, MAX_PAGES + 1):
                rows = self._page(http, page)["alerts"]
                newer = [r for r in rows if isinstance(r, dict) and int(r.get("id", 0)) > self.after_id]
                fresh.update((int(r["id"]), r) for r in newer)
                if len(rows) < PAGE_LIMIT or len(newer) < len(rows):
                    break
            else:
                self.notes.append(
                    f"{self.url}: more than {MAX_PAGES * PAGE_LIMIT} new alerts; the rest next poll"
                )
        finally:
            if self.client is None:
                http.close()
        ordered = [fresh[k] for k in sorted(fresh)]
        if ordered:
            self.after_id = int(ordered[-1]["id"])
        return [(f"{self.url}/api/v1/alerts/{r['id']}", int(r["id"]), json.dumps(r)) for r in ordered]

    def lines(
        self,
        *,
        follow: bool = False,
        every_s: float = 5.0,
        idle_timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Iterator[tuple[str, int, str] | None]:
        """One poll, or (``follow``) a poll every ``every_s`` seconds with a ``None`` tick between
        polls, until ``idle_timeout`` seconds pass without a new alert."""
        idle = 0.0
        while True:
            got = self.poll()
            yield from got
            if not follow:
                return
            idle = 0.0 if got else idle + every_s
            if idle_timeout is not None and idle >= idle_timeout:
                return
            yield None
            sleep(every_s)
