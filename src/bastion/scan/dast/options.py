"""Reading the DAST command-line values (rate, sizes, headers, cookies) into fetcher settings.

Each parser raises :class:`~bastion.errors.UsageError` naming the flag; a header or cookie value
is never echoed back, since it usually is a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bastion.errors import UsageError

__all__ = ["parse_cookies", "parse_headers", "parse_rate", "parse_size"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def parse_rate(text: str) -> float:
    """``--rate``: requests per second (``20`` or ``20/s``), 0 for no limit."""
    value = text.strip().lower().removesuffix("/s")
    try:
        rate = float(value)
    except ValueError:
        raise UsageError(
            f"--rate: {text!r} is not a number of requests per second (e.g. 20 or 20/s)"
        ) from None
    if rate < 0:
        raise UsageError("--rate: must be 0 (no limit) or more")
    return rate


def parse_size(text: str) -> int:
    """``--max-response-size``: bytes (``2MB``, ``500KB``), at least 1 KB."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"--max-response-size: {text!r} is not a size (e.g. 2MB, 500KB)")
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    size = int(float(match.group(1)) * factor)
    if size < 1024:
        raise UsageError("--max-response-size: at least 1KB")
    return size


def parse_headers(values: Iterable[str]) -> dict[str, str]:
    """``--auth-header 'Name: value'`` (repeatable) as a header dictionary."""
    headers: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip() or not _HEADER_NAME.fullmatch(name.strip()):
            raise UsageError("--auth-header: expected 'Name: value' (the value given is not shown)")
        headers[name.strip()] = content.strip()
    return headers


def parse_cookies(values: Iterable[str]) -> dict[str, str]:
    """``--cookie 'name=value'`` (repeatable, ``;``-separated pairs allowed) as a cookie dictionary."""
    cookies: dict[str, str] = {}
    for value in values:
        for part in value.split(";"):
            name, sep, content = part.strip().partition("=")
            if not sep or not name:
                raise UsageError("--cookie: expected 'name=value' (the value given is not shown)")
            cookies[name] = content
    return cookies
