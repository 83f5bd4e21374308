"""Read sign-in logs of any supported format, detected from content, as :class:`SignIn` events.

JSON lines, syslog lines and JSON arrays (an Entra export) stream in bounded reads; a JSON object
document (a CloudTrail ``{"Records": [...]}`` file, a Google Reports ``{"items": [...]}`` page, EVTX
records pretty-printed one after another) is read whole, as such files are a few MB at most, and
put in time order (Google's pages list activities newest first); a
Windows ``.evtx`` file is decoded record by record by the ``evtx`` crate.
Events from several files are merged in time order, holding a few hundred events per file.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import heapq
import io
import itertools
import json
import operator
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import orjson
from evtx import PyEvtxParser

from bastion.detect.identity.authlog import AuthLogParser
from bastion.detect.identity.cloud import classify, from_cloudtrail, from_entra, from_google, from_okta
from bastion.detect.identity.events import SignIn, Skips
from bastion.detect.identity.pages import earliest, merge_documents
from bastion.detect.identity.winlog import from_windows, is_windows
from bastion.detect.ingest.records import decode_line, iter_files
from bastion.detect.ingest.sources import follow
from bastion.errors import InputError

__all__ = ["detect_format", "follow_events", "merge", "read_events", "read_file"]

_loads = orjson.loads
EVTX_MAGIC = b"ElfFile\x00"
"""First bytes of a Windows event log file."""
_EVTX_GIVE_UP = 100
_BY_TIME = operator.attrgetter("time")

_PARSERS: dict[str, Callable[[Mapping[str, Any]], SignIn | str]] = {
    "entra": from_entra,
    "cloudtrail": from_cloudtrail,
    "okta": from_okta,
    "google": from_google,
    "windows": from_windows,
}


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(path, "rb"))  # a binary stream; typeshed types it apart
    return path.open("rb")


def detect_format(head: str) -> str:
    """``json-document``, ``jsonl`` or ``authlog`` from the first bytes of a file."""
    text = head.lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "json-document"
    if text.startswith("{"):
        first = text.split("\n", 1)[0]
        try:
            json.loads(first)
        except ValueError:
            return "json-document"
        return "jsonl"
    return "authlog"


def _from_record(record: object, skips: Skips) -> SignIn | None:
    if type(record) is not dict:
        skips.add("JSON value that is not an object")
        return None
    kind = classify(record) or ("windows" if is_windows(record) else "")
    if not kind:
        skips.add("JSON record of no known sign-in log (Entra, CloudTrail, Okta, Google, Windows)")
        return None
    result = _PARSERS[kind](record)
    if isinstance(result, str):
        skips.add(result)
        return None
    return result


_CHUNK = 1 << 20
MAX_RECORD = 16 << 20
"""A JSON array element larger than this is an error: a 2 GB file streams, a 2 GB record does not."""


def _array(path: Path, reader: io.TextIOWrapper, skips: Skips) -> Iterator[object]:
    """The elements of a top-level JSON array, decoded one at a time from bounded reads."""
    decoder = json.JSONDecoder()
    buf, pos, n = reader.read(_CHUNK).lstrip(), 1, 0  # past the "["
    while True:
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buf):
                break
            more = reader.read(_CHUNK)
            if not more:
                skips.add("truncated JSON array (no closing ])")
                return
            buf, pos = more, 0
        if buf[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(buf, pos)
        except ValueError as exc:
            more = reader.read(_CHUNK)
            if not more and n:
                skips.add("truncated JSON array (last record incomplete)")
                return
            if not more or len(buf) - pos > MAX_RECORD:
                raise InputError(f"{path}: not valid JSON after record {n} ({exc})") from None
            buf, pos = buf[pos:] + more, 0
            continue
        n += 1
        yield value
        pos = end
        if pos > _CHUNK:
            buf, pos = buf[pos:], 0


def _array_file(path: Path, stream: IO[bytes], skips: Skips) -> Iterator[SignIn]:
    with io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace") as reader:
        for n, record in enumerate(_array(path, reader, skips), 1):
            event = _from_record(record, skips)
            if event is not None:
                event.source, event.line = str(path), n
                yield event


def _json_values(path: Path, stream: IO[bytes]) -> list[object]:
    """One JSON document, or several written one after another (pretty-printed EVTX records)."""
    data = stream.read()
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    # One document (a Google or Graph page, a CloudTrail file): orjson, from the bytes, 4-5x faster.
    # On failure: several documents one after another, or not JSON; the json module tells which.
    with contextlib.suppress(ValueError):
        return [_loads(body)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    try:
        return [json.loads(text)]
    except ValueError as exc:
        if not str(exc).startswith("Extra data"):
            raise InputError(f"{path}: not valid JSON ({exc})") from None
    decoder, pos = json.JSONDecoder(), 0
    values: list[object] = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos == len(text):
            return values
        try:
            value, pos = decoder.raw_decode(text, pos)
        except ValueError as exc:
            raise InputError(f"{path}: not valid JSON after record {len(values)} ({exc})") from None
        values.append(value)


def _document(path: Path, stream: IO[bytes], skips: Skips) -> Iterator[SignIn]:
    events = _document_events(path, stream, skips)
    # A document is read whole, so it is put in time order here: Google's Reports API pages list
    # activities newest first, and CloudTrail does not order the records of one file.
    events.sort(key=_BY_TIME)
    yield from events


def _document_events(path: Path, stream: IO[bytes], skips: Skips) -> list[SignIn]:
    """The sign-ins of a whole document; its decoded JSON is dropped on return, so a merge that opens
    many pages at once (Google's) holds their events, not their JSON (several times larger)."""
    # Decoding a page makes some 20 containers a record and frees them all on return, cycle-free: the
    # collector would only walk them (a fifth of the read time measured), so it waits for this page.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _document_records(path, stream, skips)
    finally:
        if collecting:
            gc.enable()


def _document_records(path: Path, stream: IO[bytes], skips: Skips) -> list[SignIn]:
    values = _json_values(path, stream)
    data = values[0] if len(values) == 1 else values
    records = data
    if isinstance(data, Mapping) and not is_windows(data):
        records = next((data[k] for k in ("Records", "value", "items") if k in data), None)
    if isinstance(records, Mapping):
        records = [records]  # one record alone in its file
    if not isinstance(records, list):
        raise InputError(
            f'{path}: JSON document is neither an array nor {{"Records"|"value"|"items": [...]}}'
        )
    events: list[SignIn] = []
    source = str(path)
    for n, record in enumerate(records, 1):
        event = _from_record(record, skips)
        if event is not None:
            event.source, event.line = source, n
            events.append(event)
    return events


def _evtx(path: Path, skips: Skips) -> Iterator[SignIn]:
    """Records of a Windows ``.evtx`` file, decoded by the ``evtx`` crate (no Windows needed)."""
    try:
        records = PyEvtxParser(str(path), number_of_threads=1).records_json()
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable .evtx file ({exc})") from None
    source, n, failed = str(path), 0, 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except (OSError, RuntimeError, ValueError) as exc:
            if not n and not failed:
                raise InputError(f"{path}: not a readable .evtx file ({exc})") from None
            failed += 1
            skips.add("EVTX record the evtx decoder could not read")
            if failed >= _EVTX_GIVE_UP:
                skips.add(f"rest of an EVTX file after {_EVTX_GIVE_UP} unreadable records in a row")
                return
            continue
        failed = 0
        n += 1
        data: object = None
        if isinstance(record, dict):
            n = int(record.get("event_record_id") or n)
            try:
                data = _loads(record.get("data") or "")
            except (TypeError, ValueError):
                data = None
        if data is None:
            skips.add("EVTX record whose JSON form is not valid")
            continue
        event = _from_record(data, skips)
        if event is not None:
            event.source, event.line = source, n
            yield event


def _lines(path: Path, stream: IO[bytes], skips: Skips, year: int | None) -> Iterator[SignIn]:
    stdin = str(path) == "-"
    yield from _numbered_lines(path, enumerate(stream, 1), skips, year, live=stdin)


def _numbered_lines(
    path: Path, numbered: Iterator[tuple[int, bytes]], skips: Skips, year: int | None, *, live: bool
) -> Iterator[SignIn]:
    """JSON lines or auth.log lines, told apart by the first line that is not blank. Year-less
    auth.log stamps take ``year``, else the file's modification time, or now when ``live``."""
    for n, raw in numbered:
        text = decode_line(raw)
        if not text.strip():
            continue
        rest = itertools.chain([(n, raw)], numbered)
        if text.lstrip().startswith("{"):
            yield from _json_lines(str(path), rest, skips)
            return
        mtime = datetime.now(UTC) if live else datetime.fromtimestamp(path.stat().st_mtime, UTC)
        parser = AuthLogParser(year or mtime.year, 12 if year else mtime.month)
        yield from _auth_lines(str(path), rest, parser, skips)
        return


def follow_events(
    paths: Sequence[Path],
    stop: threading.Event,
    skips: Skips,
    year: int | None = None,
    idle_timeout: float | None = None,
) -> Iterator[SignIn]:
    """Sign-ins appended to ``paths`` as they arrive (JSON lines of any supported source, Windows
    JSON lines, auth.log), in arrival order, until ``stop`` is set or every file was quiet for
    ``idle_timeout`` seconds; a rotated or truncated file is reopened. Each file is read and parsed
    by a thread of its own; skips are counted in the caller's thread."""
    inbox: queue.Queue[tuple[SignIn | None, Skips | None]] = queue.Queue(maxsize=10_000)

    def read(path: Path) -> None:
        own = Skips()
        try:
            lines = (
                (n, text.encode("utf-8")) for _, n, text in follow(path, stop, idle_timeout=idle_timeout)
            )
            for event in _numbered_lines(path, lines, own, year, live=True):
                inbox.put((event, None))
        except InputError as exc:
            own.add(str(exc))
        finally:
            inbox.put((None, own))

    threads = [threading.Thread(target=read, args=(p,), daemon=True) for p in paths]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            event, finished = inbox.get()
            if finished is not None:
                running -= 1
                for reason, n in finished.counts.items():
                    skips.add(reason, n)
            elif event is not None:
                yield event
    finally:
        stop.set()


def _auth_lines(
    source: str, numbered: Iterator[tuple[int, bytes]], parser: AuthLogParser, skips: Skips
) -> Iterator[SignIn]:
    parse = parser.parse
    for n, raw in numbered:
        text = decode_line(raw)
        if not text or text.isspace():
            continue
        result = parse(text)
        if isinstance(result, str):
            skips.add(result)
            continue
        for event in result:
            event.source, event.line = source, n
            yield event


def _json_lines(source: str, numbered: Iterator[tuple[int, bytes]], skips: Skips) -> Iterator[SignIn]:
    for n, raw in numbered:
        try:
            record = _loads(raw)  # bytes straight in: no decode, no copy
        except ValueError:
            text = decode_line(raw)  # not UTF-8 (Latin-1 then), controls inside, or not JSON at all
            if not text or text.isspace():
                continue
            try:
                record = json.loads(text)
            except ValueError:
                skips.add("line that is not valid JSON (truncated?)")
                continue
        batch = _page(record) if type(record) is dict else None
        if batch is None:
            parsed = _from_record(record, skips)
            if parsed is not None:
                parsed.source, parsed.line = source, n
                parsed.raw = raw[:300].decode("utf-8", "replace").rstrip()
                yield parsed
            continue
        page: list[SignIn] = []
        for item in batch if type(batch) is list else [record]:
            parsed = _from_record(item, skips)
            if parsed is not None:
                parsed.source, parsed.line = source, n
                parsed.raw = json.dumps(item)[:300]
                page.append(parsed)
        page.sort(key=_BY_TIME)  # a Google page lists activities newest first
        yield from page


def _page(record: dict[str, Any]) -> object:
    """The records of a whole page written on one line (CloudTrail ``Records``, a Google Reports
    ``items`` page, a Graph ``value`` page), or None for a record that is one sign-in."""
    batch = record.get("Records")
    if batch is None and ("items" in record or "value" in record):
        batch = record.get("items", record.get("value"))
        if type(batch) is not list:
            return None
    return batch


def read_file(path: Path, skips: Skips, year: int | None = None) -> Iterator[SignIn]:
    """Every sign-in event of one file (gzip or plain), in file order; skips counted."""
    try:
        stream = sys.stdin.buffer if str(path) == "-" else _open(path)
        head = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
        if head.startswith(EVTX_MAGIC):
            stream.close()
            yield from _evtx(path, skips)
            return
        text = head.decode("utf-8", "replace")
        fmt = detect_format(text)
        with contextlib.nullcontext(stream) if str(path) == "-" else stream:
            if fmt == "json-document" and text.lstrip("\ufeff \t\r\n").startswith("["):
                yield from _array_file(path, stream, skips)
            elif fmt == "json-document":
                yield from _document(path, stream, skips)
            else:
                yield from _lines(path, stream, skips, year)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


BATCH = 256
"""Events read ahead per file when several are merged."""


def _ahead(stream: Iterator[SignIn]) -> Iterator[SignIn]:
    """``stream`` read :data:`BATCH` events at a time: parsing one file in bursts rather than one
    event per file in turn measured 1.3-1.6x faster end to end (CPU caches), for 256 events of memory."""
    while True:
        batch = list(itertools.islice(stream, BATCH))
        if not batch:
            return
        yield from batch


def merge(streams: Iterable[Iterator[SignIn]]) -> Iterator[SignIn]:
    """Merge per-file streams (each in time order) into one, holding at most :data:`BATCH` events per
    stream."""
    todo = list(streams)
    if len(todo) == 1:
        return todo[0]
    return heapq.merge(*(_ahead(s) for s in todo), key=_BY_TIME)


def read_events(paths: Iterable[Path], skips: Skips, year: int | None = None) -> Iterator[SignIn]:
    """Events of every file (directories expanded) in time order across files; whole JSON documents
    (pages) are opened only as the merge reaches them (:mod:`bastion.detect.identity.pages`)."""
    files = list(iter_files(paths))
    documents = [p for p in files if _is_document(p)] if len(files) > 2 else []
    if len(documents) < 2:
        return merge(read_file(p, skips, year) for p in files)
    pages = set(documents)
    streams = [read_file(p, skips, year) for p in files if p not in pages]
    return merge([*streams, merge_documents(documents, _earliest_in, lambda p: read_file(p, skips, year))])


def _is_document(path: Path) -> bool:
    """Whether ``path`` is one whole JSON document that is not an array (read whole, then sorted)."""
    if str(path) == "-":
        return False
    try:
        with _open(path) as stream:
            head = stream.read(4096)
    except (OSError, EOFError, gzip.BadGzipFile):
        return False  # read_file says what is wrong, in its turn
    text = head.decode("utf-8", "replace")
    return (
        not head.startswith(EVTX_MAGIC)
        and detect_format(text) == "json-document"
        and not text.lstrip("\ufeff \t\r\n").startswith("[")
    )


def _earliest_in(path: Path) -> datetime:
    try:
        with _open(path) as stream:
            return earliest(stream)
    except (OSError, EOFError, gzip.BadGzipFile):
        return datetime.min.replace(tzinfo=UTC)  # opened first: read_file says what is wrong
