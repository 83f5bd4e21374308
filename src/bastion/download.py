"""Bounded downloads over http(s): the one place Bastion fetches a URL (``sigma update``,
``identity geo update``). Only ``http://`` and ``https://`` are fetched, bodies over a limit are
refused, and every failure is one :class:`InputError` line naming the URL."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Protocol

from bastion.errors import InputError

__all__ = ["TIMEOUT_S", "fetch", "require_http"]

TIMEOUT_S = 60.0


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def require_http(url: str, what: str | None = None) -> None:
    """:class:`InputError` unless ``url`` is an ``http(s)://`` URL (``what`` names it, default the URL)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"{what or url}: only http:// and https:// URLs are fetched")


def fetch(url: str, sink: _Sink, *, limit: int, user_agent: str, timeout: float = TIMEOUT_S) -> int:
    """Copy ``url``'s body into ``sink``; the bytes copied. More than ``limit`` bytes, a bad scheme,
    an HTTP error or a network failure is an :class:`InputError` naming the URL."""
    require_http(url)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept": "*/*"})
    total = 0
    try:
        # bastion: ignore[sast.bandit.B310] require_http above: http(s) only
        with urllib.request.urlopen(request, timeout=timeout) as response:
            while chunk := response.read(1 << 20):
                total += len(chunk)
                if total > limit:
                    raise InputError(f"{url}: download larger than {limit // 2**20} MB, refused")
                sink.write(chunk)
    except urllib.error.HTTPError as exc:
        raise InputError(f"{url}: download failed (HTTP {exc.code} {exc.reason})") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise InputError(f"{url}: download failed ({str(reason).splitlines()[0][:120]})") from None
    return total
