"""Alerts to the Bastion server (``--upload URL``): an alert sink for every detector.

:class:`AlertUpload` batches Alert JSON (:meth:`bastion.findings.Alert.to_dict`) and posts it to
the server's ``/api/v1/alerts`` (the token's project) or ``/api/v1/projects/{slug}/alerts``; the
server stores each alert once, so a retried or repeated run sends duplicates it ignores. The token
comes from ``--token`` or ``BASTION_TOKEN`` and is never printed. Nothing in it is
identity-specific: ``sigma run`` and ``watch`` can use it as they use the webhook sink.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from bastion.errors import InputError, UsageError
from bastion.findings import Alert

__all__ = ["TOKEN_ENV", "AlertUpload"]

TOKEN_ENV = "BASTION_TOKEN"  # bastion: ignore[sast.bandit.B105] an environment variable name
"""Where the API token is read from when no ``--token`` is given."""


class AlertUpload:
    """Posts alerts to a Bastion server in batches (at most ``batch`` alerts or ``every_s`` seconds
    old); a refused or failed post is an :class:`InputError` naming the server and its reason."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        project: str | None = None,
        name: str = "alerts",
        batch: int = 200,
        every_s: float = 5.0,
        timeout: float = 30.0,
    ) -> None:
        """Deliver to the server at base ``url`` with the API ``token``."""
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--upload {url!r}: expected an http:// or https:// URL")
        if not token:
            raise UsageError(f"--upload needs an API token: pass --token or set {TOKEN_ENV}")
        self.base = url.rstrip("/")
        path = f"/api/v1/projects/{quote(project, safe='')}/alerts" if project else "/api/v1/alerts"
        self.endpoint = self.base + path
        self.name = name
        self.batch = max(1, batch)
        self.every_s = every_s
        self.client = httpx.Client(
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "X-Bastion-Filename": quote(name, safe="/._-"),
            },
        )
        self.pending: list[dict[str, Any]] = []
        self.first_pending = 0.0
        self.sent = 0
        self.new = 0
        self.duplicates = 0

    def emit(self, alert: Alert) -> None:
        """Queue one alert; post the batch when it is full or old."""
        if not self.pending:
            self.first_pending = time.monotonic()
        self.pending.append(alert.to_dict())
        if len(self.pending) >= self.batch or time.monotonic() - self.first_pending >= self.every_s:
            self.flush()

    def flush(self) -> None:
        """Post what is queued."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        try:
            response = self.client.post(self.endpoint, json={"alerts": batch})
        except httpx.HTTPError as exc:
            raise InputError(f"{self.name}: alert upload to {self.base} failed: {exc}") from None
        if response.status_code != 201:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            status = response.status_code
            raise InputError(
                f"{self.name}: alert upload rejected by {self.base} ({status}): {str(detail)[:300]}"
            )
        summary = response.json()
        self.sent += len(batch)
        self.new += int(summary.get("new", 0))
        self.duplicates += int(summary.get("duplicates", 0))

    def close(self) -> None:
        """Post the rest and close the connection pool."""
        try:
            self.flush()
        finally:
            self.client.close()

    def summary(self) -> str:
        """One line: how many alerts went up and how many the server already had."""
        return (
            f"uploaded {self.sent} alert(s) to {self.base}: {self.new} new, {self.duplicates} already known"
        )
