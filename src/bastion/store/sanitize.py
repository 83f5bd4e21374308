"""Every text the store keeps from an upload passes through here.

:func:`check_text` refuses what the database could not store (a lone UTF-16 surrogate, nesting
deeper than :data:`MAX_DEPTH`) with one line naming the upload. :func:`scrub_tree` replaces every
secret the built-in secrets rules find, in every string and every mapping key of a JSON value,
whoever wrote it: Bastion's own report, a SARIF log that claims to be Bastion's, or another
tool's. Uploads are not trusted to have redacted anything.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bastion.errors import InputError
from bastion.scan.secrets.prefilter import Prefilter, ascii_lower
from bastion.scan.secrets.redact import redact
from bastion.scan.secrets.scanner import detector_for

__all__ = ["MAX_DEPTH", "check_text", "scrub", "scrub_all", "scrub_tree"]

MAX_DEPTH = 64
"""Nesting levels allowed inside one stored value (metadata, locations)."""


_SEPARATORS = frozenset("-_")
"""Characters the secrets rules refuse next to a token (``x-ghp_…`` is not a token in source
code); in stored text a token glued to one is still a token."""


_TOKEN_REACH = 256
"""How far after its keyword a token may end (the longest built-in token is shorter)."""


@lru_cache(maxsize=1)
def _keywords() -> Prefilter:
    """The rules' own keywords (``ghp_``, ``akia``...) in one Aho-Corasick automaton."""
    detector = detector_for((), frozenset(), True)
    return Prefilter({keyword: (0,) for rule in detector.rules for keyword in rule.keywords if keyword})


def _spans(text: str) -> list[tuple[int, int]]:
    """Where the built-in rules find secrets in ``text``, also where a separator hides one."""
    detector = detector_for((), frozenset(), True)
    spans = [(hit.start, hit.end) for hit in detector.detect(text, "")]
    found = [(end - length + 1, end + 1) for end, (length, _) in _keywords().raw(ascii_lower(text))]
    glued_left = [start for start, _ in found if start > 0 and text[start - 1] in _SEPARATORS]
    glued_right = any(c in _SEPARATORS for _, end in found for c in text[end : end + _TOKEN_REACH])
    if not glued_left and not glued_right:
        return spans
    in_keyword = [False] * len(text)
    for start, end in found:
        in_keyword[start:end] = [True] * (end - start)
    shadows = []
    if glued_left:
        left = list(text)
        for start in glued_left:
            left[start - 1] = "\n"
        shadows.append("".join(left))
    if glued_right:
        shadows.append(
            "".join("\n" if c in _SEPARATORS and not in_keyword[i] else c for i, c in enumerate(text))
        )
    for shadow in shadows:
        spans.extend((hit.start, hit.end) for hit in detector.detect(shadow, ""))
    return spans


def scrub(text: str) -> str:
    """``text`` with every secret the built-in rules find replaced by its redacted form."""
    if len(text) < 8:
        return text
    spans = sorted(_spans(text))
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + redact(text[start:end]) + text[end:]
    return text


def _leaves(value: Any, where: str) -> list[str]:
    """Every string and mapping key inside ``value``; :class:`InputError` past :data:`MAX_DEPTH`."""
    leaves: list[str] = []
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            leaves.append(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                leaves.append(str(key))
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)
    return leaves


def check_text(value: Any, where: str) -> None:
    """Raise :class:`InputError` when ``value`` holds a string UTF-8 cannot encode or nests too deep."""
    try:
        "\n".join(_leaves(value, where)).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{where}: text holds a lone UTF-16 surrogate (not valid Unicode)") from None


def scrub_tree(value: Any) -> Any:
    """``value`` (a JSON value) with every string and key scrubbed of secrets.

    All its texts are searched at once, one per line; only a value with a hit is rebuilt."""
    joined = "\n".join(_leaves(value, "value"))
    if scrub(joined) == joined:
        return value
    return _rebuild(value)


def scrub_all(values: list[Any]) -> list[Any]:
    """Each of ``values`` scrubbed as by :func:`scrub_tree`; one search covers them all when none
    holds a secret (the common case: a chunk of an upload costs one pass, not one per finding)."""
    joined = "\n".join(leaf for value in values for leaf in _leaves(value, "value"))
    if scrub(joined) == joined:
        return values
    return [scrub_tree(value) for value in values]


def _rebuild(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): _rebuild(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rebuild(v) for v in value]
    return value
