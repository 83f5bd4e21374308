"""How a mined template reads: variables shown as ``<*>`` inside their punctuation, dates as one value.

The miner groups lines by masked tokens; this module turns a template back into text over one
example line, so ``(uid=0)`` reads ``(uid=<*>)``, ``core.1234`` reads ``core.<*>``, a host, path
or URL reads as one ``<*>``, a date-time (``Sun Jul 24 02:34:05 2005``, ISO 8601) reads as one
``<*>``, and a masked word that never varied (``ssh2``, ``bytes``) reads as itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bastion.detect.logs.masking import CALENDAR, MAX_LINE_CHARS, TOKEN, WILDCARD

__all__ = ["render", "variable_text", "word_like"]

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_DATETIME = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?"
    + _MONTH
    + r"\s+[0-9]{1,2},?\s+(?:[0-9]{4}\s+)?[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:\s+[0-9]{4})?"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
    r"|[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?"
)
"""Date-times in the common layouts: syslog/ctime (``Jul 24 02:34:05 2005``), ISO 8601, a time."""

_HAS_DIGIT = re.compile(r"[0-9]")
_VALUE_RUN = re.compile(r"[A-Za-z0-9_+-]*[0-9][A-Za-z0-9_+-]*")
_EDGE = "()[]{}<>:.,!?"


_LONG_DIGITS = re.compile(r"[0-9]{4}")
_LETTER = re.compile(r"[A-Za-z]")
_HEX_LITERAL = re.compile(r"^0[xX][0-9a-fA-F]+$")
"""``0x1``: a number written in hex, a value even when one value filled the sample."""


def word_like(token: str) -> bool:
    """A word, or letters with a few digits (``bytes``, ``ssh2``, ``e820``): text that may be a
    constant; month and day names are parts of a date and ``0x1`` is a number: never constants."""
    core = token.strip(_EDGE)
    return (
        bool(_LETTER.search(core))
        and not _HEX_LITERAL.match(core)
        and not _LONG_DIGITS.search(core)
        and not _ATOMIC.search(core)
        and core.lower() not in CALENDAR
    )


_ATOMIC = re.compile(
    r"^(?:[A-Za-z][\w+.-]*://)|^/|^[A-Za-z]:\\|^[\w-]+(?:\.[\w-]+){2,}(?::[0-9]+)?$|@[\w-]+\.|^(?:0x)?[0-9a-fA-F]{8,}$"
)
"""A value read whole: URL (its scheme kept), path, host name, e-mail address, long hex."""
_SCHEME = re.compile(r"^[A-Za-z][\w+.-]*://")
_QUANTITY_NUMBER = re.compile(r"^([(\[]?)[<~+-]?[0-9][^\s]*")


def variable_text(token: str) -> str:
    """How a variable token reads in a template: its values replaced by ``<*>``, its punctuation kept.

    ``core.1234`` reads ``core.<*>``, ``(uid=0)``'s ``0)`` reads ``<*>)``, ``[1234]`` reads ``[<*>]``,
    ``10.0.0.1:80`` reads ``<*>.<*>.<*>.<*>:<*>``; a host, path or URL is one value
    (``hdfs://<*>``); a quantity keeps its unit (``<1 sec`` reads ``<*> sec``, ``(1.16 KB)`` reads
    ``(<*> KB)``); a word value keeps only its surrounding brackets.
    """
    if " " in token or "\t" in token:  # a quantity (``<1 sec``, ``(1.16 KB)``): its number is the value
        return _QUANTITY_NUMBER.sub(r"\1<*>", token, count=1)
    core = token.strip(_EDGE)
    if not core:
        return WILDCARD
    start = token.index(core)
    if _ATOMIC.search(core):
        scheme = _SCHEME.match(core)
        value = scheme.group(0) + WILDCARD if scheme else WILDCARD
    elif _HAS_DIGIT.search(core):
        value = _VALUE_RUN.sub(WILDCARD, core)
    else:
        value = WILDCARD
    return token[:start] + value + token[start + len(core) :]


def render(tokens: list[str], example: str | None, constants: Mapping[int, str] | None = None) -> str:
    """``tokens`` laid over ``example``'s separators (``a=<*>, b=<*>``), or joined by spaces.

    ``constants``: wildcard positions to show as this text (their raw token never varied)."""
    if constants:
        tokens = [constants.get(i, t) if t == WILDCARD else t for i, t in enumerate(tokens)]
    if example is None:
        return " ".join(tokens)
    spans = [m.span() for m in TOKEN.finditer(example[:MAX_LINE_CHARS])]
    if len(spans) != len(tokens):
        return " ".join(tokens)
    dates = [m.span() for m in _DATETIME.finditer(example[:MAX_LINE_CHARS])]
    pieces: list[str] = []
    last = 0
    k = 0
    for i, ((start, end), token) in enumerate(zip(spans, tokens, strict=True)):
        if start < last:  # inside a date-time already written as one value
            continue
        while k < len(dates) and dates[k][1] <= start:
            k += 1
        if k < len(dates) and dates[k][0] <= start and token == WILDCARD:
            d_start, d_end = dates[k]
            inside = [j for j in range(i, len(spans)) if spans[j][0] < d_end]
            if all(tokens[j] == WILDCARD for j in inside):
                pieces.append(example[last:d_start] if d_start >= last else "")
                pieces.append(WILDCARD)
                last = max(d_end, spans[inside[-1]][1])
                continue
        pieces.append(example[last:start])
        pieces.append(variable_text(example[start:end]) if token == WILDCARD else token)
        last = end
    pieces.append(example[last : min(len(example), MAX_LINE_CHARS)])
    return "".join(pieces).strip()
