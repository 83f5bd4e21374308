"""Client side of uploads: ``bastion upload`` and ``bastion scan --upload`` post through here."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bastion.errors import InputError, UsageError

__all__ = ["CREDENTIAL_ENV", "upload_document"]

CREDENTIAL_ENV = "BASTION_TOKEN"


def upload_document(
    url: str,
    token: str,
    data: bytes,
    name: str,
    *,
    project: str | None = None,
    full: bool = True,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """POST a Bastion JSON report or SARIF log; return the server's summary.

    ``url`` is the server's base URL. Failures become :class:`InputError` with one line
    naming the file and the server's reason.
    """
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--upload/--url {url!r}: expected an http:// or https:// URL")
    if not token:
        raise UsageError(f"no API token: pass --token or set {CREDENTIAL_ENV}")
    base = url.rstrip("/")
    path = f"/api/v1/projects/{quote(project, safe='')}/scans" if project else "/api/v1/scans"
    try:
        response = httpx.post(
            base + path,
            content=data,
            params={"full": "true" if full else "false"},
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "X-Bastion-Filename": quote(name, safe="/._-"),
            },
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise InputError(f"{name}: upload to {base} failed: {exc}") from None
    if response.status_code != 201:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise InputError(f"{name}: upload rejected ({response.status_code}): {str(detail)[:300]}")
    result: dict[str, Any] = response.json()
    return result
