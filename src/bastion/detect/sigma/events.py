"""Reading logs into Sigma events: EVTX, JSON (lines, pretty-printed, arrays, CloudTrail ``Records``)
and text lines (syslog/auth.log, auditd, access logs) through :mod:`bastion.detect.ingest`.

Every JSON object goes to the first pipeline that claims it; text lines to the pipeline of the
format ingest detected. Whatever cannot be read becomes a counted skip with a one-line reason
(the file and what is wrong); reading goes on with the next record or file.
"""

from __future__ import annotations

import gzip
import json
import queue
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count, repeat
from pathlib import Path
from typing import IO, Any

from bastion.detect.ingest.lines import decode_line
from bastion.detect.ingest.records import (
    Record,
    _open_binary,
    _stream_lines,
    iter_files,
    lines_from_text,
    read_lines,
    read_records,
)
from bastion.detect.ingest.sources import follow as follow_file
from bastion.detect.sigma.event import Event, make_event
from bastion.detect.sigma.pipeline import Pipeline, default_pipelines
from bastion.errors import InputError

__all__ = ["LineReader", "ReadSkips", "events_from_objects", "follow_events", "read_events"]

from orjson import loads as _loads  # about three times as fast as the standard library on a JSON line

MAX_JSON_BUFFER = 16 * 1024 * 1024
"""A pretty-printed JSON object longer than this is skipped, so memory stays bounded."""

_AUDIT = re.compile(r"^(?:node=\S+ )?type=\S+ msg=audit\(")
_KV = re.compile(r'(\w[\w-]*)=("(?:[^"\\]|\\.)*"|\'[^\']*\'|\S+)')
_AUDIT_TS = re.compile(r"audit\((\d+(?:\.\d+)?):(\d+)\)")


@dataclass
class ReadSkips:
    """Records that could not be used, counted by reason; ``examples`` keeps the first place of each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    unmapped: int = 0
    """Events no pipeline claimed (read with every field, matched only by rules without a log source)."""

    def add(self, reason: str, where: str) -> None:
        """Count one skip."""
        self.counts[reason] += 1
        self.examples.setdefault(reason, where)

    @property
    def total(self) -> int:
        """How many records were skipped."""
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        """One line per reason: ``N skipped: reason (first at FILE:N)``."""
        return [
            f"{n} skipped: {reason} (first at {self.examples[reason]})"
            for reason, n in self.counts.most_common()
        ]


class _Router:
    def __init__(self, pipelines: Sequence[Pipeline], skips: ReadSkips) -> None:
        self.json = [p for p in pipelines if p.spec.kind == "json"]
        self.lines = {fmt: p for p in pipelines if p.spec.kind == "line" for fmt in p.spec.detect}
        self.skips = skips
        self.last: Pipeline | None = None

    def obj(self, obj: Any, source: str) -> Iterator[Event]:
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                yield from self.obj(item, f"{source}[{i}]")
            return
        if not isinstance(obj, Mapping):
            self.skips.add("JSON value is not an object", source)
            return
        records = obj.get("Records")
        if isinstance(records, list) and len(obj) <= 2:  # a CloudTrail delivery file
            yield from self.obj(records, source)
            return
        last = self.last
        if last is not None and last.claims(obj):  # logs come in runs of one kind
            yield last.event(obj, source)
            return
        for pipeline in self.json:
            if pipeline.claims(obj):
                self.last = pipeline
                yield pipeline.event(obj, source)
                return
        self.skips.unmapped += 1
        from bastion.detect.sigma.pipeline import flatten

        yield make_event(flatten(obj), (), None, "", source, obj)

    def record(self, record: Record, fmt: str) -> Event:
        source = f"{record.source}:{record.line_no}"
        text = record.raw or record.message
        if _AUDIT.match(text) and "auditd" in self.lines:
            flat: dict[str, Any] = {k: v.strip("\"'") for k, v in _KV.findall(text)}
            m = _AUDIT_TS.search(text)
            if m:
                flat["timestamp"] = float(m.group(1))
                flat["serial"] = m.group(2)
            return self.lines["auditd"].line_event(flat, source, text)
        pipeline = self.lines.get(fmt) or self.lines.get("raw")
        flat = dict(record.fields)
        flat.update(message=record.message, host=record.host, program=record.program, raw=text)
        if fmt == "combined" and "path" in flat:
            stem, _, query = flat["path"].partition("?")
            flat["uri_stem"], flat["uri_query"] = stem, query
        if pipeline is None:
            return make_event(flat, (), record.timestamp, record.host, source, text)
        return pipeline.line_event(flat, source, text, record.timestamp)


def _json_objects(lines: Iterable[tuple[str, int, bytes]], skips: ReadSkips) -> Iterator[tuple[str, Any]]:
    """JSON values from lines: one a line, or spread over lines (pretty-printed), or several on one
    line. A line holding one whole object is decoded from its bytes (no text decoding first)."""
    decoder = json.JSONDecoder()
    buffer = ""
    start = ""
    for source, n, raw in lines:
        if not buffer:
            data = raw.strip()
            if not data:
                continue
            start = f"{source}:{n}"
            if data[:1] == b"{" and data[-1:] == b"}":  # JSON lines: one object a line, decoded as bytes
                try:
                    value = _loads(data)
                except ValueError:
                    pass
                else:
                    yield start, value
                    continue
        text = decode_line(raw)
        if not text.strip():
            continue
        buffer = f"{buffer}\n{text}" if buffer else text
        while buffer:
            stripped = buffer.lstrip()
            try:
                value, end = decoder.raw_decode(stripped)
            except json.JSONDecodeError as exc:
                if (
                    exc.pos >= len(stripped) - 1
                    or "Unterminated" in exc.msg
                    or ("Expecting" in exc.msg and exc.pos >= len(stripped.rstrip()) - 1)
                ):
                    if len(buffer) > MAX_JSON_BUFFER:
                        skips.add(f"JSON value longer than {MAX_JSON_BUFFER // 2**20} MB", start)
                        buffer = ""
                    break
                skips.add(f"invalid JSON ({exc.msg})", start)
                buffer = ""
                break
            yield start, value
            buffer = stripped[end:].lstrip(" \t,\r\n")
            start = f"{source}:{n}"
    if buffer.strip():
        skips.add("truncated JSON at end of file", start)


def _raw_lines(path: Path) -> Iterator[tuple[str, int, bytes]]:
    """``(source, line number, bytes)`` for every line of a file (``-``: stdin), cut as ingest cuts them."""
    source = str(path)
    try:
        stream: IO[bytes] | gzip.GzipFile = sys.stdin.buffer if source == "-" else _open_binary(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None
    try:
        yield from zip(repeat(source), count(1), _stream_lines(stream))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    finally:
        if source != "-":
            stream.close()


def _evtx(path: Path, router: _Router, skips: ReadSkips) -> Iterator[Event]:
    try:
        from evtx import PyEvtxParser
    except ImportError:
        skips.add("EVTX needs the 'evtx' package (pip install evtx)", str(path))
        return
    try:
        parser = PyEvtxParser(str(path))
    except (OSError, RuntimeError) as exc:
        raise InputError(f"{path}: not a readable EVTX file ({str(exc).splitlines()[0]})") from None
    records = parser.records_json()
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except (RuntimeError, OSError, ValueError) as exc:
            skips.add(f"broken EVTX record ({str(exc).splitlines()[0][:80]})", str(path))
            continue
        if not isinstance(record, dict):
            skips.add("EVTX record without data", str(path))
            continue
        try:
            obj = json.loads(record["data"])
        except (ValueError, KeyError, TypeError):
            skips.add("EVTX record is not valid JSON", f"{path}#{record.get('event_record_id', '?')}")
            continue
        yield from router.obj(obj, f"{path}#{record.get('event_record_id', '?')}")


def _is_json(path: Path) -> bool:
    if path.suffix.lower() in (".json", ".jsonl", ".ndjson", ".jsoncls"):
        return True
    if str(path) == "-":
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(512).lstrip()
    except OSError:
        return False
    return head[:1] in (b"{", b"[")


def read_events(
    paths: Iterable[Path], skips: ReadSkips | None = None, pipelines: Sequence[Pipeline] | None = None
) -> Iterator[Event]:
    """Every event in ``paths`` (files, directories, ``-`` for stdin), in file order."""
    skips = skips if skips is not None else ReadSkips()
    router = _Router(pipelines if pipelines is not None else default_pipelines(), skips)
    for path in iter_files(paths):
        if path.suffix.lower() == ".evtx":
            yield from _evtx(path, router, skips)
        elif _is_json(path):
            for where, obj in _json_objects(_raw_lines(path), skips):
                yield from router.obj(obj, where)
        else:
            for fmt, record in _records(read_lines([path])):
                yield router.record(record, fmt)


def _records(lines: Iterable[tuple[str, int, str]]) -> Iterator[tuple[str, Record]]:
    from bastion.detect.ingest.records import detect_format

    it = iter(lines)
    head = [x for _, x in zip(range(50), it, strict=False)]
    fmt = detect_format([t for _, _, t in head])
    for record in read_records(_chain(head, it), fmt):
        yield fmt.name, record


def _chain(
    head: list[tuple[str, int, str]], rest: Iterator[tuple[str, int, str]]
) -> Iterator[tuple[str, int, str]]:
    yield from head
    yield from rest


def events_from_objects(
    objs: Iterable[Any], source: str = "<events>", skips: ReadSkips | None = None
) -> Iterator[Event]:
    """Events from JSON values already in memory (tests, other detectors)."""
    router = _Router(default_pipelines(), skips if skips is not None else ReadSkips())
    for i, obj in enumerate(objs):
        yield from router.obj(obj, f"{source}[{i}]")


def events_from_text(text: str, source: str = "<text>", skips: ReadSkips | None = None) -> Iterator[Event]:
    """Events from text lines already in memory (tests, ``bastion watch``)."""
    router = _Router(default_pipelines(), skips if skips is not None else ReadSkips())
    for fmt, record in _records(lines_from_text(text, source)):
        yield router.record(record, fmt)


class LineReader:
    """Events from single lines as they arrive (a followed file, a syslog stream, ``bastion watch``):
    a JSON object a line, or text in the format detected from each source's first line."""

    def __init__(self, skips: ReadSkips | None = None) -> None:
        """Start with no source seen."""
        self.skips = skips if skips is not None else ReadSkips()
        self.router = _Router(default_pipelines(), self.skips)
        self.formats: dict[str, Any] = {}

    def events(self, source: str, n: int, text: str) -> Iterator[Event]:
        """The events in one line of ``source`` (none for a line that is not one)."""
        from bastion.detect.ingest.records import detect_format

        if text.lstrip().startswith("{"):
            data = text.encode("utf-8", "surrogatepass")
            for where, obj in _json_objects([(source, n, data)], self.skips):
                yield from self.router.obj(obj, where)
            return
        fmt = self.formats.get(source)
        if fmt is None:
            fmt = self.formats[source] = detect_format([text])
        record = fmt.parse(text) or Record(message=text, raw=text)
        record.source, record.line_no, record.raw = source, n, text
        yield self.router.record(record, fmt.name)


def follow_events(
    paths: Sequence[Path],
    stop: threading.Event,
    skips: ReadSkips | None = None,
    idle_timeout: float | None = None,
) -> Iterator[Event]:
    """Events appended to ``paths`` (JSON lines or text lines), one reader thread a file, until ``stop``."""
    reader = LineReader(skips)
    inbox: queue.Queue[tuple[str, int, str] | None] = queue.Queue(maxsize=10_000)

    def read(path: Path) -> None:
        try:
            for item in follow_file(path, stop=stop, idle_timeout=idle_timeout):
                inbox.put(item)
        finally:
            inbox.put(None)

    threads = [threading.Thread(target=read, args=(p,), daemon=True) for p in paths]
    for t in threads:
        t.start()
    running = len(threads)
    while running:
        got = inbox.get()
        if got is None:
            running -= 1
            continue
        yield from reader.events(*got)
