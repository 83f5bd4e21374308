"""Where a log line's message starts, found from the first lines' structure (no per-system regex).

A header is what a logging framework writes before the message: time stamps in any common layout
(ISO 8601, syslog, ctime, ``17/06/09 20:10:40``, ``081109 203615``, epoch seconds), a level
(``INFO``, ``[error]``, ``W``), process ids and sequence numbers, node ids, dashes, bracketed
fields (``[main]``, ``[Sun Dec 04 04:47:44 2005]``) and a component or program ending in a colon
(``sshd[24200]:``, ``dfs.DataNode$PacketResponder:``).

Each line's leading tokens are classified by shape. The *strong* prefix runs to the last time
stamp or level among the first tokens (every token before it must look like a header field).
What may follow it (``host program[pid]:``, ``[thread] component:``, ``[thread] -``, ``component:``,
``-``) is part of the header only when at least :data:`CONSISTENT` of the sample's lines have
that same shape there: a colon word that starts only some messages (``ciod: LOGIN failed``)
stays in the message. ``--regex`` and the named formats override all of this.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

__all__ = ["CONSISTENT", "CONTINUATION", "Header", "classify", "detect_header"]

CONSISTENT = 0.9
"""Share of sample lines that must agree before a trailing field counts as header."""
MAX_HEADER_TOKENS = 14

CONTINUATION = re.compile(
    r"^(?:[ \t]+\S|at [\w$.<>]+\(|Caused by: |\.\.\. \d+ (?:more|common frames omitted)"
    r"|Traceback \(most recent|During handling of the above exception)"
)
"""A line that continues the record before it (stack-trace frames): not a sample line for headers."""
_SPLIT = re.compile(r"\S+")
_LEVELS = frozenset(
    [
        "trace",
        "debug",
        "info",
        "information",
        "informational",
        "notice",
        "warn",
        "warning",
        "error",
        "err",
        "fatal",
        "critical",
        "crit",
        "severe",
        "alert",
        "emerg",
        "emergency",
        "fine",
        "finer",
        "finest",
        "verbose",
    ]
)
_LETTER_LEVELS = frozenset("TDIWEFVC")
_MONTHS = frozenset(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
_DAYS = frozenset(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
_CALENDAR_WORDS = (
    _MONTHS
    | _DAYS
    | frozenset(
        [
            "january",
            "february",
            "march",
            "april",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ]
    )
)
_DATE_TIME = re.compile(
    r"^\d{1,4}(?:[-/.:_T,]\d{1,9}){2,}(?:Z|[+-]\d\d:?\d\d)?[,:]?$"
    r"|^\d{4}-\d\d-\d\dT\S+$|^\d\d:\d\d(?::\d\d)?(?:[.,]\d+)?[,:]?$"
    r"|^\d{8}[-T_]\d\d:?\d\d:?\d\d(?:[.,:]\d{1,9})?$"
    r"|^\d\d[-/]\d\d$"
)
"""A date, a time or both: ISO-like runs, ``20171223-22:15:29:606``, a month-day date (``03-17``)."""
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?[,:]?$")
_NUMBER = re.compile(r"^\d{1,12}$")
_ID = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[\w:.-]+$")
_UPPER = re.compile(r"^[A-Z][A-Z_]{1,15}$")
_COMPONENT = re.compile(r"^[\w.$/@#()<>\[\]-]+:$|^[\w.-]+:\d+\]$")
"""``program[pid]:``, ``dfs.DataNode$PacketResponder:``, ``1234#1234:``, klog's ``file.go:123]``."""

# token classes
TIME, LEVEL, NUM, DASH, ID, UPPER, BRACKET, COMP, WORD = "TLNDIUBCW"
_STRONG = frozenset((TIME, LEVEL))
_BEFORE = frozenset((TIME, LEVEL, NUM, DASH, ID, UPPER, BRACKET))
_TRAILING: tuple[tuple[str, ...], ...] = (
    (BRACKET, WORD, DASH),
    (BRACKET, DASH),
    (BRACKET, COMP),
    (WORD, BRACKET),
    (BRACKET,),
    (WORD, COMP),
    (ID, COMP),
    (NUM, COMP),
    (WORD, DASH),
    (COMP,),
    (DASH,),
    (UPPER,),
)
"""Shapes that may follow the strong prefix, most specific first; each may be led by a process
id and/or a separator (``INFO 4242 --- [main] app.Main : message``)."""
_LEADS: tuple[tuple[str, ...], ...] = ((), (NUM,), (DASH,), (NUM, DASH))


def _tokens(line: str) -> list[tuple[int, int]]:
    """Whitespace tokens' spans, a bracket group that holds spaces (``[Sun Dec 04 ...]``) as one."""
    spans: list[tuple[int, int]] = []
    # only the first tokens can be header: a 64 KB line of 30,000 tokens costs what a short one does
    matches = list(islice(_SPLIT.finditer(line), 9 * (MAX_HEADER_TOKENS + 3)))
    i = 0
    while i < len(matches) and len(spans) < MAX_HEADER_TOKENS + 3:
        start, end = matches[i].span()
        text = matches[i].group()
        if text.startswith("[") and text.count("[") > text.count("]"):
            j = i
            while j + 1 < len(matches) and j - i < 8 and not matches[j].group().endswith("]"):
                j += 1
            if matches[j].group().endswith("]"):
                end, i = matches[j].end(), j
        spans.append((start, end))
        i += 1
    return spans


def classify(token: str) -> str:
    """The header class of one token (see the module text)."""
    if token in ("-", "|", "--", "---", ":", "::", "->", ">"):
        return DASH
    if (token.startswith("[") and token.endswith("]")) or (token.startswith("<") and token.endswith(">")):
        inner = token[1:-1].strip()
        if inner.lower() in _LEVELS:
            return LEVEL
        if any(classify(part) == TIME for part in inner.split()):
            return TIME
        return BRACKET
    bare = token.rstrip(":,")
    lower = bare.lower()
    # a bare level or month is capitalised (INFO, Info, Jun): "error"/"may" in lower case are words
    cased = bare.isupper() or bare.istitle()
    if lower in _LEVELS and cased:
        return LEVEL
    if len(bare) == 1 and bare in _LETTER_LEVELS:
        return LEVEL
    if _IPV4.match(token):
        return ID
    if _DATE_TIME.match(token) or (lower in _CALENDAR_WORDS and cased):
        return TIME
    if _NUMBER.match(bare):
        return NUM
    if _COMPONENT.match(token):
        return COMP
    if _UPPER.match(token):
        return UPPER
    if _ID.match(token):
        return ID
    return WORD


def _strong_end(classes: Sequence[str]) -> int:
    """Tokens in the strong prefix: up to the last time stamp or level led only by header fields."""
    end = 0
    level = False
    head = classes[:MAX_HEADER_TOKENS]
    for i, c in enumerate(head):
        if c == LEVEL and level:  # one level per header: a second one is the message's word
            break
        if c in _STRONG:
            end = i + 1
            level = level or c == LEVEL
        elif c not in _BEFORE and not (c in (WORD, COMP) and i + 1 < len(head) and head[i + 1] == DASH):
            break  # a logger name between dashes (``- app.db - INFO -``) is a field; other words end it
    return end


def _follows(classes: Sequence[str], at: int, shape: tuple[str, ...]) -> bool:
    n = len(shape)
    # a host name only follows a time stamp or level, never starts a line
    return len(classes) > at + n and tuple(classes[at : at + n]) == shape and (shape[0] != WORD or at > 0)


@dataclass
class Header:
    """A detected header layout: the trailing shape accepted after each line's strong prefix."""

    trailing: tuple[str, ...] = ()
    share: float = 0.0
    """Share of the sample lines that had a header at all."""
    found: bool = True
    """False when too few sample lines had a header: every line is then all message."""
    pipes: int = 0
    """Fields joined by ``|`` before the message (``time|component|pid|message``); 0: none."""

    def split(self, line: str) -> tuple[str, str]:
        """``(header, message)`` of one line; the whole line is the message when it has no header."""
        if not self.found:
            return "", line
        if self.pipes:
            parts = line.split("|", self.pipes)
            if len(parts) <= self.pipes or classify(parts[0].strip()) != TIME:
                return "", line
            return "|".join(parts[: self.pipes]), parts[self.pipes]
        spans = _tokens(line)
        classes = [classify(line[a:b]) for a, b in spans]
        end = _strong_end(classes)
        if self.trailing and _follows(classes, end, self.trailing):
            end += len(self.trailing)
        elif not end:
            return "", line
        if end >= len(spans):
            end = len(spans) - 1  # never the whole line: a header alone is kept as the message
            if end <= 0:
                return "", line
        cut = spans[end][0]
        return line[:cut].rstrip(), line[cut:]

    def message(self, line: str) -> str:
        """The message part of one line."""
        return self.split(line)[1]

    def describe(self) -> str:
        """The layout in words (for notices)."""
        names = {
            TIME: "time",
            LEVEL: "level",
            BRACKET: "[field]",
            COMP: "component:",
            WORD: "host",
            DASH: "-",
        }
        tail = " ".join(names.get(c, c) for c in self.trailing)
        if self.pipes:
            return f"{self.pipes} header field(s) joined by '|' ({self.share:.0%} of lines)"
        return f"time/level prefix{' + ' + tail if tail else ''} ({self.share:.0%} of lines)"


def _pipe_fields(lines: Sequence[str]) -> int:
    """Header fields joined by ``|`` (``20171223-22:15:29:606|Step_LSC|30002312|message``): the
    fewest ``|`` before the first space on lines that start with a time stamp field, when at
    least :data:`CONSISTENT` of the lines do and that count is at least 2; else 0."""
    counts = []
    for line in lines:
        first = line.split(None, 1)[0] if line.split(None, 1) else ""
        fields = first.split("|")
        if len(fields) >= 3 and classify(fields[0]) == TIME:
            counts.append(len(fields) - 1)
    if not counts or len(counts) < CONSISTENT * len(lines):
        return 0
    return min(counts)


def detect_header(sample: Sequence[str]) -> Header:
    """The header layout of a log, from its first lines (an empty header when none is found)."""
    lines = [line for line in sample if line.strip() and not CONTINUATION.match(line)]
    if not lines:
        return Header(found=False)
    pipes = _pipe_fields(lines)
    if pipes:
        return Header(share=1.0, pipes=pipes)
    rows = []
    for line in lines:
        spans = _tokens(line)
        classes = [classify(line[a:b]) for a, b in spans]
        rows.append((classes, _strong_end(classes)))
    with_header = [r for r in rows if r[1] > 0]
    share = len(with_header) / len(rows)
    if share < 0.5:
        return Header((), share, found=False)
    best: tuple[str, ...] = ()
    for shape in (lead + tail for lead in _LEADS for tail in (*_TRAILING, ())):
        if len(shape) <= len(best):
            continue
        hits = sum(1 for classes, end in with_header if _follows(classes, end, shape))
        if hits >= CONSISTENT * len(with_header):
            best = shape
    return Header(best, share)
