"""Every text the store keeps from an upload passes through here.

:func:`check_text` refuses what the database could not store (a lone UTF-16 surrogate, nesting
deeper than :data:`MAX_DEPTH`) with one line naming the upload. :func:`scrub_tree` replaces every
secret the built-in secrets rules find, in every string and every mapping key of a JSON value,
whoever wrote it: Bastion's own report, a SARIF log that claims to be Bastion's, or another
tool's. Uploads are not trusted to have redacted anything.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
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


_TO_NEWLINE = str.maketrans(dict.fromkeys(_SEPARATORS, "\n"))


def _glued_left_shadow(text: str, starts: list[int]) -> str:
    """``text`` with the separator just before each keyword in ``starts`` turned into a newline.

    Built from slices (C speed), not character by character: on an upload of 10,000 findings the
    per-character build was most of the scrubbing time."""
    pieces: list[str] = []
    cursor = 0
    for start in sorted(set(starts)):
        pieces.append(text[cursor : start - 1])
        pieces.append("\n")
        cursor = start
    pieces.append(text[cursor:])
    return "".join(pieces)


def _glued_right_shadow(text: str, found: list[tuple[int, int]]) -> str:
    """``text`` with every separator outside a keyword turned into a newline.

    One ``str.translate`` over the text, then the keywords that hold a separator themselves
    (``ghp_``, ``glpat-``) are copied back from ``text``."""
    shadow = text.translate(_TO_NEWLINE)
    keep: list[list[int]] = []
    for start, end in sorted(found):
        if not any(c in _SEPARATORS for c in text[start:end]):
            continue
        if keep and start <= keep[-1][1]:
            keep[-1][1] = max(keep[-1][1], end)
        else:
            keep.append([start, end])
    if not keep:
        return shadow
    pieces: list[str] = []
    cursor = 0
    for start, end in keep:
        pieces.append(shadow[cursor:start])
        pieces.append(text[start:end])
        cursor = end
    pieces.append(shadow[cursor:])
    return "".join(pieces)


def _spans(text: str) -> list[tuple[int, int]]:
    """Where the built-in rules find secrets in ``text``, also where a separator hides one."""
    detector = detector_for((), frozenset(), True)
    spans = [(hit.start, hit.end) for hit in detector.detect(text, "")]
    found = [(end - length + 1, end + 1) for end, (length, _) in _keywords().raw(ascii_lower(text))]
    glued_left = [start for start, _ in found if start > 0 and text[start - 1] in _SEPARATORS]
    glued_right = any(c in _SEPARATORS for _, end in found for c in text[end : end + _TOKEN_REACH])
    shadows = []
    if glued_left:
        shadows.append(_glued_left_shadow(text, glued_left))
    if glued_right:
        shadows.append(_glued_right_shadow(text, found))
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
    """Each of ``values`` scrubbed as by :func:`scrub_tree`, with one search for them all.

    The search covers each distinct text once (a chunk of an upload repeats its keys and its
    advisories' titles and descriptions in every finding), then only the values holding a text
    that search found a secret in are rebuilt, leaf by leaf, as :func:`scrub_tree` rebuilds them:
    one secret in a chunk of 10,000 findings costs one rebuild, not 10,000 searches."""
    per_value = [_leaves(value, "value") for value in values]
    order: dict[str, int] = {}
    for leaves in per_value:
        for leaf in leaves:
            order.setdefault(leaf, len(order))
    joined = "\n".join(order)
    spans = _spans(joined) if len(joined) >= 8 else []
    if not spans:
        return values
    distinct = list(order)
    offsets = list(accumulate((len(leaf) + 1 for leaf in distinct), initial=0))
    dirty: set[str] = set()
    for start, end in spans:
        first = bisect_right(offsets, start) - 1
        last = bisect_right(offsets, max(start, end - 1)) - 1
        dirty.update(distinct[first : last + 1])
    return [
        _rebuild(value) if any(leaf in dirty for leaf in leaves) else value
        for value, leaves in zip(values, per_value, strict=True)
    ]


def _rebuild(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): _rebuild(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rebuild(v) for v in value]
    return value
