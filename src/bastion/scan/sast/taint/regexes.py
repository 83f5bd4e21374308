"""Regular expressions that backtrack catastrophically (ReDoS): a repeated group holding a repeat.

``(a+)+``, ``^(([a-z])+.)+``, ``(\\w+\\s?)*``: on a near-miss input the engine tries every way
to split the text between the inner and the outer repeat, exponentially many. ``(abc)*(bcd)+``
and ``a*bcde[e-z]+`` repeat only single items and stay linear. Alternations of overlapping
branches (``(a|a)*``) are not recognised.
"""

from __future__ import annotations

__all__ = ["catastrophic_regex"]

_EXTENSIONS = {":": 1, "=": 1, "!": 1, ">": 1}


def _quantifier(pattern: str, i: int) -> int:
    """Length of the repeating quantifier at ``pattern[i]`` (``*``, ``+``, ``{2,}``, ``{1,9}``,
    with a lazy or possessive suffix), or 0 (none, ``?``, or an exact ``{1}``)."""
    if i >= len(pattern):
        return 0
    if pattern[i] in "*+":
        end = i + 1
    elif pattern[i] == "{":
        close = pattern.find("}", i)
        body = pattern[i + 1 : close] if close > 0 else ""
        low, _, high = body.partition(",")
        if not body or not (low or high) or not (low + high).isdigit():
            return 0
        if "," not in body and int(low) <= 1:
            return 0
        if "," in body and high and int(high) <= 1:
            return 0
        end = close + 1
    else:
        return 0
    if end < len(pattern) and pattern[end] in "?+":
        end += 1
    return end - i


def _skip_class(pattern: str, i: int) -> int:
    """Index after the character class opening at ``pattern[i]`` (``[``)."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _group_prefix(pattern: str, i: int) -> int:
    """Length of a group's extension after ``(`` (``?:``, ``?P<name>``, ``?<=``...), or 0."""
    if i >= len(pattern) or pattern[i] != "?":
        return 0
    nxt = pattern[i + 1 : i + 2]
    if nxt == "P" and pattern[i + 2 : i + 3] == "<":
        close = pattern.find(">", i)
        return close - i + 1 if close > 0 else 1
    if nxt == "<" and pattern[i + 2 : i + 3] in ("=", "!"):
        return 3
    return 1 + _EXTENSIONS.get(nxt, 0)


def catastrophic_regex(pattern: str) -> bool:
    """True when a repeated group of ``pattern`` holds a repeat itself (nested quantifiers)."""
    holds_repeat: list[bool] = []  # one entry per open group
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "(":
            holds_repeat.append(False)
            i += 1 + _group_prefix(pattern, i + 1)
            continue
        if char == ")" and holds_repeat:
            inner = holds_repeat.pop()
            size = _quantifier(pattern, i + 1)
            if size and inner:
                return True
            if holds_repeat and (inner or size):
                holds_repeat[-1] = True
            i += 1 + size
            continue
        size = _quantifier(pattern, i)
        if size:  # a repeated single item (a character, an escape, a class)
            if holds_repeat:
                holds_repeat[-1] = True
            i += size
        elif char == "\\":
            i += 2
        elif char == "[":
            i = _skip_class(pattern, i)
        else:
            i += 1
    return False
