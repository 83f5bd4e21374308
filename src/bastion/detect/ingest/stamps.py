"""Time stamps in a detected header, in the common layouts, without a per-system format.

A header (found by :mod:`headers`) may carry its time in many layouts; windows by time need it
as a ``datetime``. The layouts are tried in order, the first that matches wins:

=====================================  =========================================================
``2015-07-29 17:41:44,747``            ISO 8601 and its relatives: ``T``, space, ``-`` or ``_``
``2005-06-03-15.42.50.675872``         between date and time, ``:`` or ``.`` inside the time
``2005/06/03 15:42:50``                slashes or dots in the date (year first)
``17/06/09 20:10:40``                  two-digit year first (Spark, Hadoop's log4j defaults)
``081109 203615``                      ``yymmdd hhmmss`` (HDFS)
``[Sun Dec 04 04:47:44 2005]``         ctime (Apache error log, many C programs)
``Dec 04 04:47:44`` / ``Dec 4 2005``   month name first; the year from the stamp or the reader
``20171223-22:15:29:606``              compact date, then the time (HealthApp-style)
``03-17 16:13:38.811``                 month-day without a year (Android logcat)
``1117838570``                         epoch seconds (10 digits, 2001..2286), the last resort
=====================================  =========================================================

Stamps without a zone are read as UTC; a stamp that names none of these layouts gives ``None``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["parse_stamp"]

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}

_ISO_LIKE = re.compile(
    r"(?<!\d)(\d{4})[-/.](\d\d)[-/.](\d\d)[-T _.](\d\d)[:.](\d\d)[:.](\d\d)(?:[.,](\d{1,9}))?"
    r"(Z|[+-]\d\d:?\d\d)?(?!\d)"
)
_SHORT_YEAR = re.compile(r"(?<![\d/])(\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(?!\d)")
_COMPACT = re.compile(r"(?<!\d)(\d\d)(\d\d)(\d\d) (\d\d)(\d\d)(\d\d)(?!\d)")
_MONTH_FIRST = re.compile(
    r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* +(\d\d?),? +"
    r"(?:(\d{4}) +)?(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(?: +(\d{4}))?(?!\d)"
)
_COMPACT_DATE = re.compile(r"(?<!\d)(\d{4})(\d\d)(\d\d)[-T_ ](\d\d):?(\d\d):?(\d\d)(?:[.,:](\d{1,9}))?(?!\d)")
_MONTH_DAY = re.compile(r"(?<![\d/-])(\d\d)[-/](\d\d) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(?!\d)")
_EPOCH = re.compile(r"(?<![\d.])(1\d{9}|[2-9]\d{9})(?:\.(\d{1,9}))?(?![\d.])")


def _micro(fraction: str | None) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def _build(
    year: int, month: int, day: int, hh: int, mm: int, ss: int, fraction: str | None
) -> datetime | None:
    try:
        return datetime(year, month, day, hh, mm, min(ss, 59), _micro(fraction), tzinfo=UTC)
    except ValueError:
        return None


def _zone(ts: datetime, zone: str | None) -> datetime:
    if not zone or zone == "Z":
        return ts
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return datetime.fromtimestamp(ts.timestamp() - offset, UTC)


def _iso_like(head: str) -> re.Match[str] | None:
    """The first ISO-like stamp, preferring one with a space or ``T`` between date and time
    (``nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008``: the file name's is not it)."""
    first = None
    for m in _ISO_LIKE.finditer(head):
        if m.group(0)[10] in " T":
            return m
        first = first or m
    return first


def _year_less(
    year: int | None, given: str | None, month: int, day: int, hh: str, mm: str, ss: str, fraction: str | None
) -> datetime | None:
    """A stamp whose year may be missing: ``year``, else this year, or last year when this year
    would put it more than a day ahead."""
    now = datetime.now(UTC)
    guess = int(given) if given else (year or now.year)
    ts = _build(guess, month, day, int(hh), int(mm), int(ss), fraction)
    if ts is not None and not given and year is None and (ts - now).total_seconds() > 86_400:
        ts = _build(guess - 1, month, day, int(hh), int(mm), int(ss), fraction)
    return ts


def parse_stamp(head: str, year: int | None = None) -> datetime | None:
    """The first time stamp in ``head`` in a common layout (UTC when it names no zone).

    ``year`` serves stamps that carry none (``Dec 04 04:47:44``); without it they are read in
    the current year, or the previous one when that would put them more than a day ahead.
    """
    m = _iso_like(head)
    if m:
        ts = _build(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), m[7])
        if ts is not None:
            return _zone(ts, m.group(8))
    m = _SHORT_YEAR.search(head)
    if m:
        ts = _build(2000 + int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), m[7])
        if ts is not None:
            return ts
    m = _COMPACT.search(head)
    if m:
        ts = _build(2000 + int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), None)
        if ts is not None:
            return ts
    m = _COMPACT_DATE.search(head)
    if m:
        ts = _build(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), m[7])
        if ts is not None:
            return ts
    m = _MONTH_FIRST.search(head)
    if m:
        ts = _year_less(year, m[3] or m[8], _MONTHS[m[1].lower()], int(m[2]), m[4], m[5], m[6], m[7])
        if ts is not None:
            return ts
    m = _MONTH_DAY.search(head)
    if m:
        ts = _year_less(year, None, int(m[1]), int(m[2]), m[3], m[4], m[5], m[6])
        if ts is not None:
            return ts
    m = _EPOCH.search(head)
    if m and int(m[1]) < 10_000_000_000:
        return datetime.fromtimestamp(int(m[1]) + _micro(m[2]) / 1e6, UTC)
    return None
