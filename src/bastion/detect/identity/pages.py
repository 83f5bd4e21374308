"""Many whole-document files (Google Reports pages, Graph pages, CloudTrail files) merged in time order
while holding only the few whose times overlap the merge's present.

A document is read whole to put it in time order, so merging 250 Google pages the plain way (every
stream primed at once) held every page's events: memory grew with the log (185 MB at 250,000 events).
Here each file is first scanned for the earliest timestamp it contains (a regular expression over the
bytes, no JSON decoding): every event's time is one of those timestamps, so no event of a file comes
before that bound (:func:`earliest`), and a file is opened only when the merge reaches it. Pages of
one export cover consecutive stretches of time, so one or two are open at once.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from bastion.detect.identity.events import SignIn

__all__ = ["earliest", "merge_documents"]

_STAMP = re.compile(rb'"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?"')
_NEVER = datetime.min.replace(tzinfo=UTC)
_FURTHEST_AHEAD = timedelta(hours=14)
"""The largest UTC offset in use (Kiribati): a local stamp is at most this far ahead of UTC."""


def earliest(stream: IO[bytes]) -> datetime:
    """A time no ISO 8601 timestamp (a JSON string) in ``stream`` precedes, read as :func:`parse_time`
    reads event times: the earliest date and time of day, to the second, less 14 hours when a stamp
    carries an offset; the earliest possible time when there is none (the file is then opened first)."""
    found = _STAMP.findall(stream.read())
    if not found:
        return _NEVER
    day, clock, _ = min(found)
    try:
        bound = datetime.fromisoformat(f"{day.decode()}T{clock.decode()}").replace(tzinfo=UTC)
    except ValueError:
        return _NEVER
    offsets = any(zone and zone != b"Z" for _, _, zone in found)
    return bound - _FURTHEST_AHEAD if offsets and bound > _NEVER + _FURTHEST_AHEAD else bound


def merge_documents(
    paths: list[Path], bound: Callable[[Path], datetime], read: Callable[[Path], Iterator[SignIn]]
) -> Iterator[SignIn]:
    """The events of ``paths`` (each file's ``read`` in time order) merged in time order; a file is
    read only once the merge reaches ``bound(path)``, which no event of it may precede."""
    waiting = sorted(((bound(p), n, p) for n, p in enumerate(paths)), key=lambda w: (w[0], w[1]))
    waiting.reverse()  # the next file to open is popped from the end
    open_: list[tuple[datetime, int, SignIn, Iterator[SignIn]]] = []
    seq = 0
    while waiting or open_:
        while waiting and (not open_ or waiting[-1][0] <= open_[0][0]):
            events = read(waiting.pop()[2])
            first = next(events, None)
            if first is not None:
                heapq.heappush(open_, (first.time, seq, first, events))
                seq += 1
        if not open_:
            return
        _, order, event, events = open_[0]
        yield event
        # The same file goes on while its events come before every other open file's next one and
        # before the next file's bound (nothing else moves meanwhile): no heap operation per event.
        rival = min(open_[1:3], default=None)
        opens = waiting[-1][0] if waiting else None
        for following in events:
            if (opens is not None and opens <= following.time) or (
                rival is not None and (following.time, order) > rival[:2]
            ):
                heapq.heapreplace(open_, (following.time, order, following, events))
                break
            yield following
        else:
            heapq.heappop(open_)
