"""Variable masking for log lines: which tokens of a message are values, not words.

Tokens are split on whitespace and structural punctuation. A token that holds a digit is a
variable (numbers, ids, hex, IPs, times, versions, paths with numbers); so are long hex runs,
host names, weekday and month names, empty brackets, and a unit right after a number. A line is
masked through its "shape" (numbers cut down by one C-level substitution), so the per-token work
runs once per shape; both caches are bounded.
"""

from __future__ import annotations

import re

__all__ = [
    "CALENDAR",
    "MAX_LINE_CHARS",
    "MAX_TOKENS",
    "TOKEN",
    "WILDCARD",
    "clear_caches",
    "mask_key",
    "mask_line",
    "tokenize",
]

WILDCARD = "<*>"

MAX_TOKENS = 256
"""Lines with more tokens are cut; the tail of a very long line is never part of a template."""
MAX_LINE_CHARS = 8192

_UNIT_WORDS = (
    "B",
    "KB",
    "MB",
    "GB",
    "TB",
    "KiB",
    "MiB",
    "GiB",
    "TiB",
    "ms",
    "us",
    "ns",
    "s",
    "sec",
    "secs",
    "seconds",
    "bytes",
)
_UNIT_SPELLINGS = {v for u in _UNIT_WORDS for v in (u, u.lower(), u.upper())}
_UNIT_ALTERNATION = "|".join(sorted(_UNIT_SPELLINGS, key=len, reverse=True))
TOKEN = re.compile(
    r"[(\[<~+-]?[0-9][^\s,;=|\"']*+[ \t]+(?:" + _UNIT_ALTERNATION + r")[)\]}>.:]*(?![^\s,;=|\"'])"
    r"|[^\s,;=|\"']+"
)
"""A token: a quantity (a number and its unit: ``12 ms``, ``(1.16 KB)``, ``<1 sec``) is one token, so
a value keeps one position whether or not it carries a unit; otherwise text between whitespace and
structural punctuation. The number's tail is possessive: no backtracking on long tokens."""
# Masking works on whole tokens between the separators above: a token that holds a digit is a
# variable (numbers, ids, hex, IPs, times, versions, paths with numbers). A long hex run is too.
_DIGIT = re.compile(r"\d")
_HEXLIKE = re.compile(r"^(?:0x)?[0-9a-fA-F]{8,}$")


def tokenize(line: str) -> list[str]:
    """Split a log message into tokens on whitespace and structural punctuation."""
    if len(line) > MAX_LINE_CHARS:
        line = line[:MAX_LINE_CHARS]
    tokens = TOKEN.findall(line)
    return tokens if len(tokens) <= MAX_TOKENS else tokens[:MAX_TOKENS]


CALENDAR = frozenset(  # weekday and month names: parts of a date
    (
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "oct",
        "nov",
        "dec",
    )
)


_UNITS = frozenset(_UNIT_SPELLINGS)
_HOSTNAME = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+){2,}$")
_BRACKETS = "()[]{}<>:."


def _is_variable(token: str) -> bool:
    core = token.strip(_BRACKETS)
    if not core:
        return token[:1] in "([{<" and len(token) > 1
    if _DIGIT.search(core):
        return True
    if core.isalpha():
        return (len(core) == 3 and core.lower() in CALENDAR) or (
            len(core) >= 8 and bool(_HEXLIKE.match(core))
        )
    return bool(_HEXLIKE.match(core)) or bool(_HOSTNAME.match(core))


_VARIABLE_CACHE: dict[str, bool] = {}
_CACHE_LIMIT = 100_000

# A line's "shape": in every token holding an ASCII digit, the part from its first digit to the
# token's end is replaced by "0". Such a token stays a token with a digit, a variable whatever
# its text, so a line masks exactly as its shape does (same tokens at the same places), and the
# few shapes of a log stream are masked once. The pattern starts with a digit class, so the
# regex engine skips to the next digit in C; the possessive tail never backtracks.
_DIGIT_TAIL = re.compile(r"[0-9][^\s,;=|\"']*+")
_SHAPE_CACHE: dict[str, tuple[str, ...]] = {}
_SHAPE_LIMIT = 20_000
_SHAPE_MAX_CHARS = 1024
"""Shapes longer than this are masked every time (they would make the cache large)."""


def clear_caches() -> None:
    """Forget every cached masking verdict (benchmarks use this to start cold)."""
    _VARIABLE_CACHE.clear()
    _SHAPE_CACHE.clear()


def _mask_tokens(tokens: list[str]) -> tuple[str, ...]:
    get = _VARIABLE_CACHE.get
    digit = _DIGIT.search
    units = _UNITS
    out: list[str] = []
    append = out.append
    previous_wild = False
    for token in tokens:
        variable = get(token)
        if variable is None:
            if len(_VARIABLE_CACHE) >= _CACHE_LIMIT:
                _VARIABLE_CACHE.clear()
            variable = _VARIABLE_CACHE[token] = True if digit(token) else _is_variable(token)
        if variable or (previous_wild and token in units):
            append(WILDCARD)
            previous_wild = True
        else:
            append(token)
            previous_wild = False
    return tuple(out)


def mask_key(line: str) -> tuple[str, ...]:
    """:func:`mask_line` as a tuple (shared between calls: it is the miner's lookup key)."""
    if len(line) > MAX_LINE_CHARS:
        line = line[:MAX_LINE_CHARS]
    shape = _DIGIT_TAIL.sub("0", line)
    masked = _SHAPE_CACHE.get(shape)
    if masked is None:
        tokens = TOKEN.findall(shape)
        if len(tokens) > MAX_TOKENS:
            del tokens[MAX_TOKENS:]
        masked = _mask_tokens(tokens)
        if len(shape) <= _SHAPE_MAX_CHARS:
            if len(_SHAPE_CACHE) >= _SHAPE_LIMIT:
                _SHAPE_CACHE.clear()
            _SHAPE_CACHE[shape] = masked
    return masked


def mask_line(line: str) -> list[str]:
    """Tokens of ``line`` with variable-looking tokens replaced by the wildcard.

    Tokens with a digit are variables at once, the others go through :func:`_is_variable`;
    every verdict is cached, and so is the result for each line shape (numbers replaced); the
    caches are cleared when they grow past their limits. A unit right after a number
    (``4.0 KB``, ``12 ms``) is part of the quantity.
    """
    return list(mask_key(line))
