"""One log line: the :class:`Record` every format produces, and the robust decoding of raw bytes.

It sits below :mod:`records` (the formats and readers) and :mod:`multiline` (continuation joining),
which both build records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["MAX_LINE_BYTES", "Record", "decode_line"]

MAX_LINE_BYTES = 65536
"""A longer line is cut here (its tail is dropped): a 1 MB line cannot stall the pipeline."""


@dataclass
class Record:
    """One parsed log line."""

    message: str
    """The free-text part the template miner sees."""
    timestamp: datetime | None = None
    host: str = ""
    program: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    """Every named value the format extracted (``ip``, ``user``, ``status``...)."""
    raw: str = ""
    source: str = ""
    line_no: int = 0


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def decode_line(data: bytes) -> str:
    """Decode one line: UTF-8, else Latin-1 (never fails); NULs and other controls dropped."""
    if len(data) > MAX_LINE_BYTES:
        data = data[:MAX_LINE_BYTES]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    text = text.rstrip("\r\n")
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return text
