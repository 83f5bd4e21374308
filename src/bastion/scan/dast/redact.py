"""Secrets out of URLs before a DAST finding, notice or report carries them.

A crawled page can link ``/p?api_key=ghp_…``: the URL is the finding's location, its example
list and often its message, and every format writes it. Each part of a URL that can carry a
credential is redacted the way evidence is (``ghp_…(40 chars)``):

- the password of ``user:password@host``, always, and a user name a secrets rule recognises;
- query and fragment values whose parameter name is a credential name (``token``, ``api_key``,
  ``X-Amz-Signature``, ``password``, ``sid``...), and any value a secrets rule recognises;
- path segments a secrets rule recognises (``/hooks/xoxb-…``).

The secrets rules are those of :mod:`bastion.scan.secrets` (:func:`~bastion.scan.secrets.scrub.scrub`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from bastion.findings import Finding
from bastion.scan.secrets.redact import redact
from bastion.scan.secrets.scrub import scrub

__all__ = ["is_credential_name", "redact_finding", "redact_text_urls", "redact_url", "redact_urls"]

_NAME_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_CREDENTIAL_WORDS = frozenset(
    {
        "token", "tokens", "secret", "secrets", "password", "passwd", "pwd", "pass", "passphrase",
        "apikey", "key", "auth", "authorization", "credential", "credentials", "session", "sid",
        "sessionid", "signature", "sig", "jwt", "bearer", "otp", "code", "ticket", "nonce", "hash",
    }
)  # fmt: skip
_CREDENTIAL_SUFFIXES = ("token", "secret", "key", "password", "passwd", "sessid", "sessionid", "signature")
_REDACTED = r"\u2026\(\d+ chars\)"
_ALREADY = re.compile(r"^[^\u2026]{0,4}" + _REDACTED + "$")
"""A value in the form :func:`~bastion.scan.secrets.redact.redact` writes: redacting again would
only shorten what the reader sees, so it is left as it is (redaction is idempotent)."""
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://(?:" + _REDACTED + r"|[^\s\"'<>`])+")


def is_credential_name(name: str) -> bool:
    """Whether a query, fragment or form parameter named ``name`` carries a credential."""
    parts = [p.lower() for p in _NAME_PARTS.findall(name)]
    joined = "".join(parts)
    return any(p in _CREDENTIAL_WORDS for p in parts) or joined.endswith(_CREDENTIAL_SUFFIXES)


def _hidden(value: str) -> str:
    # Verbatim, as evidence shows it: the report is read by people; no tool follows these URLs.
    return value if _ALREADY.match(value) else redact(value)


def _scrubbed(raw: str) -> str:
    """``raw`` (percent-encoded) with any secret a rule recognises redacted; unchanged otherwise."""
    text = unquote(raw)
    clean = scrub(text)
    return raw if clean == text else clean


def _pairs(raw: str) -> str:
    """A query or fragment: credential-named values redacted, other values scrubbed."""
    out: list[str] = []
    for item in raw.split("&"):
        name, sep, value = item.partition("=")
        if sep and value and is_credential_name(unquote(name)):
            out.append(f"{name}={_hidden(unquote(value))}")
        elif sep:
            out.append(f"{name}={_scrubbed(value)}")
        else:
            out.append(_scrubbed(item))
    return "&".join(out)


def redact_url(url: str) -> str:
    """``url`` with every credential it carries redacted; anything that is not a URL is scrubbed."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            user, colon, password = userinfo.partition(":")
            hidden = (
                f"{_scrubbed(user)}:{_hidden(unquote(password))}" if colon and password else _scrubbed(user)
            )
            netloc = f"{hidden}@{host}"
        path = "/".join(_scrubbed(segment) for segment in parts.path.split("/"))
        rebuilt = urlunsplit((parts.scheme, netloc, path, _pairs(parts.query), _pairs(parts.fragment)))
    except ValueError:  # not parseable as a URL (a bad port, brackets): treat it as text
        return scrub(url)
    return scrub(rebuilt)


def redact_urls(urls: Iterable[str]) -> list[str]:
    """:func:`redact_url` of each URL, in order."""
    return [redact_url(url) for url in urls]


def redact_text_urls(text: str) -> str:
    """``text`` (a message, a notice) with each URL in it redacted and any other secret scrubbed."""
    return scrub(_URL.sub(_redact_match, text))


def _redact_match(match: re.Match[str]) -> str:
    """A URL found in prose, without the punctuation that ends the sentence around it."""
    url = match.group(0)
    core = url.rstrip(".,:;!?)]}")
    return redact_url(core) + url[len(core) :]


def _clean(value: Any) -> Any:
    """Metadata with every string redacted (lists and mappings followed), other values as they are."""
    if isinstance(value, str):
        return redact_text_urls(value)
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _clean(item) for key, item in value.items()}
    return value


def redact_finding(finding: Finding) -> Finding:
    """``finding`` with its URL, words and metadata redacted; the fingerprint is a hash and stays."""
    location = finding.location
    if location.url:
        location = replace(location, url=redact_url(location.url))
    return finding.with_changes(
        location=location,
        title=redact_text_urls(finding.title),
        message=redact_text_urls(finding.message),
        evidence=redact_text_urls(finding.evidence),
        fix=redact_text_urls(finding.fix),
        help_uri=redact_url(finding.help_uri),
        metadata=_clean(dict(finding.metadata)),
    )
