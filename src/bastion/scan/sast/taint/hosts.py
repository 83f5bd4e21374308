"""Open-redirect guards on a parsed URL's host: ``urlparse(u).netloc in ALLOWED`` (or
``parts = urlparse(u)`` then ``parts.hostname not in [...]: return``) proves the redirect to
``u`` stays on hosts the server chose, for that CWE only (CWE-601)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bastion.scan.sast.taint.expressions import ExpressionAnalysis
    from bastion.scan.sast.taint.state import State

__all__ = ["REDIRECT", "checked_url", "note_parse"]

URL_PARSERS = frozenset(
    {"urllib.parse.urlparse", "urllib.parse.urlsplit", "urlparse.urlparse", "urlparse.urlsplit"}
)
"""Calls that split a URL into parts (the result's ``netloc`` / ``hostname`` is its host)."""
HOST_PARTS = frozenset({"netloc", "hostname"})
REDIRECT = frozenset({601})
_TAG = "url-of:"


def _parsed(analysis: ExpressionAnalysis, node: ast.expr, state: State) -> str | None:
    """The access path that ``node`` (a ``urlparse(x)`` call) parses, or None."""
    if isinstance(node, ast.Call) and node.args and analysis.qualname(node.func, state) in URL_PARSERS:
        return analysis.key(node.args[0])
    return None


def note_parse(analysis: ExpressionAnalysis, key: str, node: ast.expr, state: State) -> None:
    """Remember that ``key`` now holds the parts of the URL in another variable (``parts =
    urlparse(url)``), with that URL's taint at this point."""
    url = _parsed(analysis, node, state)
    if url is not None:
        state.tag(key, _TAG + url)
        analysis.parsed_urls[(key, url)] = state.read(url)


def checked_url(analysis: ExpressionAnalysis, node: ast.expr, state: State) -> str | None:
    """The access path whose host ``node`` is (``urlparse(u).netloc``, ``parts.hostname`` after
    ``parts = urlparse(u)``, while ``u`` still holds what was parsed), or None."""
    if not isinstance(node, ast.Attribute) or node.attr not in HOST_PARTS:
        return None
    direct = _parsed(analysis, node.value, state)
    if direct is not None:
        return direct
    key = analysis.key(node.value)
    for tag in state.tags.get(key or "", ()):
        url = tag[len(_TAG) :]
        if tag.startswith(_TAG) and analysis.parsed_urls.get((key or "", url)) == state.read(url):
            return url
    return None
