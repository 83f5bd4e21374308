"""Multi-line records: a Java/Python stack trace joined to the message it belongs to.

With a structured format (syslog, a detected header, JSON, a user regex), a line that has no
header of its own and reads like a continuation (indented, ``at ...``, ``Caused by: ...``,
``... 12 more``, ``Traceback ...``) belongs to the record before it. The joined message is
bounded (:data:`MAX_JOINED_CHARS`, :data:`MAX_JOINED_LINES`); lines past the bound are dropped
and counted on the record (``fields["continuation_dropped"]``). A record is held back until the
next line shows it is complete, so memory stays one record deep.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bastion.detect.ingest.headers import CONTINUATION as _CONTINUATION
from bastion.detect.ingest.lines import MAX_LINE_BYTES, Record

__all__ = ["MAX_JOINED_CHARS", "MAX_JOINED_LINES", "is_continuation", "join_continuations"]

MAX_JOINED_CHARS = MAX_LINE_BYTES
MAX_JOINED_LINES = 200


def is_continuation(record: Record) -> bool:
    """True when ``record`` is a line with no header of its own that continues the one before."""
    return (
        record.timestamp is None
        and not record.host
        and not record.program
        and bool(_CONTINUATION.match(record.raw))
    )


def join_continuations(records: Iterable[Record]) -> Iterator[Record]:
    """``records`` with continuation lines joined to the record they follow (same source)."""
    held: Record | None = None
    lines = 0
    for record in records:
        if held is not None and record.source == held.source and is_continuation(record):
            text = record.raw.strip()
            if lines < MAX_JOINED_LINES and len(held.message) + len(text) < MAX_JOINED_CHARS:
                held.message += "\n" + text
                held.raw += "\n" + record.raw
                lines += 1
            else:
                held.fields["continuation_dropped"] = str(
                    int(held.fields.get("continuation_dropped", "0")) + 1
                )
            continue
        if held is not None:
            yield held
        held, lines = record, 0
    if held is not None:
        yield held
