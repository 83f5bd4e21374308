"""Log ingest: files, .gz, directories and stdin, decoded robustly and split into records.

Each raw line becomes a :class:`Record` (timestamp, host, program, message, fields) through a
:class:`LineFormat`: syslog (RFC 3164 and 5424, auth.log), nginx/Apache combined access logs,
JSON lines (field names configurable), a user regex with named groups, or ``raw``. ``auto``
picks the format that parses most of the first lines.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from bastion.detect.ingest.headers import Header, detect_header
from bastion.detect.ingest.lines import MAX_LINE_BYTES, Record, decode_line
from bastion.detect.ingest.multiline import join_continuations
from bastion.detect.ingest.stamps import parse_stamp
from bastion.errors import ConfigError, InputError, UsageError

__all__ = [
    "FORMATS",
    "MAX_LINE_BYTES",
    "HeaderFormat",
    "LineFormat",
    "ReadStats",
    "Record",
    "decode_line",
    "detect_format",
    "format_from_spec",
    "get_format",
    "iter_files",
    "load_format_specs",
    "read_lines",
    "read_records",
    "resolve_format",
]


def _open_binary(path: Path) -> IO[bytes] | gzip.GzipFile:
    if path.suffix == ".gz":
        return gzip.GzipFile(path, "rb")
    return path.open("rb")


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand directories (sorted, recursively, hidden entries skipped) into files."""
    for path in paths:
        if str(path) == "-":
            yield path
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(p.startswith(".") for p in child.relative_to(path).parts):
                    yield child
        elif path.is_file():
            yield path
        else:
            raise InputError(f"{path}: no such file or directory")


@dataclass
class ReadStats:
    """What reading cost: lines cut at :data:`MAX_LINE_BYTES` (their tails dropped), per file."""

    cut: dict[str, int] = field(default_factory=dict)

    def notes(self) -> list[str]:
        """One line per file that had cut lines."""
        limit = f"{MAX_LINE_BYTES // 1024} KB"
        return [f"{src}: {n} line(s) longer than {limit} were cut at {limit}" for src, n in self.cut.items()]


def _stream_lines(
    stream: IO[bytes] | gzip.GzipFile, on_cut: Callable[[], None] | None = None
) -> Iterator[bytes]:
    """Lines of at most :data:`MAX_LINE_BYTES`; a longer line's tail is skipped in bounded reads."""
    while True:
        chunk = stream.readline(MAX_LINE_BYTES)
        if not chunk:
            return
        if not chunk.endswith(b"\n") and len(chunk) == MAX_LINE_BYTES:
            rest = stream.readline(MAX_LINE_BYTES)
            if rest and rest != b"\n" and on_cut is not None:
                on_cut()
            while rest and not rest.endswith(b"\n"):
                rest = stream.readline(MAX_LINE_BYTES)
        yield chunk


def read_lines(paths: Iterable[Path], stats: ReadStats | None = None) -> Iterator[tuple[str, int, str]]:
    """Yield ``(source, line number, text)`` for every line of every file (``-`` is stdin).

    Memory stays bounded whatever the input: a line is cut at :data:`MAX_LINE_BYTES` and the
    rest of it skipped without being held; ``stats`` counts the cut lines per file."""
    for path in iter_files(paths):
        source = str(path)

        def on_cut(source: str = source) -> None:
            if stats is not None:
                stats.cut[source] = stats.cut.get(source, 0) + 1

        try:
            stream: IO[bytes] | gzip.GzipFile = sys.stdin.buffer if source == "-" else _open_binary(path)
        except OSError as exc:
            raise InputError(f"{path}: cannot open ({exc.strerror})") from None
        try:
            for n, raw in enumerate(_stream_lines(stream, on_cut), 1):
                text = decode_line(raw)
                if text.strip():
                    yield source, n, text
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{path}: cannot read ({exc})") from None
        finally:
            if source != "-":
                stream.close()


# -- formats --------------------------------------------------------------------------------

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_RFC3164 = re.compile(
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<month>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d)"
    r" (?P<host>\S+) (?P<program>[^:\[\s]+)(?:\[(?P<pid>\d+)\])?: ?(?P<message>.*)$"
)
_RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<program>\S+) (?P<pid>\S+) (?P<msgid>\S+)"
    r" (?P<sd>-|(?:\[.*?\])+) ?(?P<message>.*)$"
)
_COMBINED = re.compile(
    r'^(?P<ip>\S+) \S+ (?P<user>\S+) \[(?P<ts>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S*)[^"]*" '
    r'(?P<status>\d{3}) (?P<size>\S+)(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?'
)
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_NAME = r"([A-Za-z_][\w.@-]{0,31}?)"
_SLOT = r"(\S{1,64}?)"
"""Where the grammar alone says a user name comes, any name is one (attackers try ``0``)."""
_USER = re.compile(
    # the name sits in a place the grammar of the message gives it, never "any word after 'for'":
    # key=value (user=, ruser=, logname=, username=), "for [invalid ]user NAME", "invalid user NAME
    # from", "<method> for NAME from", "failed for NAME", "by user NAME"; "user unknown" is none
    r"\b(?:r?user(?:name)?|logname|acct)=\"?" + _NAME + r"(?=[\s\",;)]|$)"
    r"|\b(?:for|by) user (?!unknown\b)" + _NAME + r"(?=[\s,;(\[]|$)"
    r"|\b(?:[Ii]nvalid|[Ii]llegal) user +" + _SLOT + r" (?:from\b|\[)"
    r"|\bfor (?!invalid user\b|user\b)" + _SLOT + r" (?:from|port)\b"
    r"|\b(?:failed|failures?|denied) for (?!user\b|invalid\b)" + _NAME + r"(?=\s*$|\s+\[|\s+from\b)"
)


class LineFormat:
    """Turns a raw line into a :class:`Record`; None when the line is not in this format."""

    name = "raw"

    def parse(self, line: str) -> Record | None:
        """Parse one line: all of it is the message (with the ip and user it names)."""
        return _with_entities(Record(message=line, raw=line))


class SyslogFormat(LineFormat):
    """RFC 3164 (BSD, auth.log) and RFC 5424 syslog lines."""

    name = "syslog"

    def __init__(self, year: int | None = None) -> None:
        """``year`` for RFC 3164 stamps, which carry none (default: this year, or last year for a
        stamp that would otherwise lie more than a day in the future)."""
        now = datetime.now(UTC)
        self.now = now + timedelta(days=1)
        self.guessed = year is None
        self.year = year or now.year

    def parse(self, line: str) -> Record | None:
        """Parse one syslog line."""
        m = _RFC5424.match(line)
        if m:
            ts = _iso(m["ts"])
            return _with_entities(
                Record(m["message"], ts, m["host"], m["program"], {"pid": m["pid"]}, raw=line)
            )
        m = _RFC3164.match(line)
        if not m:
            return None
        try:
            hh, mm, ss = (int(x) for x in m["time"].split(":"))
            ts = datetime(self.year, _MONTHS[m["month"]], int(m["day"]), hh, mm, ss, tzinfo=UTC)
            if self.guessed and ts > self.now:  # a log is never from the future: last year's December
                ts = ts.replace(year=self.year - 1)
        except (KeyError, ValueError):
            return None
        fields = {"pid": m["pid"]} if m["pid"] else {}
        return _with_entities(Record(m["message"], ts, m["host"], m["program"], fields, raw=line))


class CombinedFormat(LineFormat):
    """nginx / Apache common and combined access logs."""

    name = "combined"

    def parse(self, line: str) -> Record | None:
        """Parse one access-log line; the message is method, path shape and status."""
        m = _COMBINED.match(line)
        if not m:
            return None
        try:
            ts: datetime | None = datetime.strptime(m["ts"], "%d/%b/%Y:%H:%M:%S %z")
        except ValueError:
            ts = None
        fields = {k: v for k, v in m.groupdict().items() if v is not None and k != "ts"}
        message = f"{m['method']} {m['path'].split('?')[0]} {m['status']} {m['agent'] or ''}".strip()
        return Record(message, ts, m["ip"], "http", fields, raw=line)


class JsonFormat(LineFormat):
    """JSON lines; field names for message, time and host are configurable."""

    name = "json"

    def __init__(self, message: str = "message", timestamp: str = "timestamp", host: str = "host") -> None:
        """Names of the message, timestamp and host fields (the first of common aliases is used)."""
        self.message_keys = (message, "msg", "log", "MESSAGE")
        self.time_keys = (timestamp, "time", "@timestamp", "ts")
        self.host_keys = (host, "hostname", "_HOSTNAME")

    def parse(self, line: str) -> Record | None:
        """Parse one JSON object line."""
        if not line.startswith("{"):
            return None
        try:
            data = json.loads(line)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        message = _first(data, self.message_keys)
        if message is None:
            return None
        fields = {k: str(v) for k, v in data.items() if isinstance(v, str | int | float | bool)}
        ts_text = _first(data, self.time_keys)
        ts = _iso(ts_text) if ts_text else None
        return _with_entities(Record(message, ts, _first(data, self.host_keys) or "", "", fields, raw=line))


class RegexFormat(LineFormat):
    """A user format: a regex with named groups; ``message`` is required, ``timestamp`` optional."""

    name = "regex"

    def __init__(self, pattern: str, time_format: str | None = None) -> None:
        """Compile ``pattern``; UsageError when it is invalid or has no ``message`` group."""
        try:
            self.regex = re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"log format regex is invalid: {exc}") from None
        if "message" not in self.regex.groupindex:
            raise UsageError("log format regex needs a named group (?P<message>...)")
        self.time_format = time_format

    def parse(self, line: str) -> Record | None:
        """Parse one line with the user's regex."""
        m = self.regex.match(line)
        if not m:
            return None
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
        ts = None
        if "timestamp" in groups:
            if self.time_format:
                try:
                    ts = datetime.strptime(groups["timestamp"], self.time_format)
                except ValueError:
                    ts = None
            else:
                ts = _iso(groups["timestamp"])
            if ts is not None and ts.tzinfo is None:
                ts = ts.replace(tzinfo=UTC)
        return _with_entities(
            Record(groups["message"], ts, groups.get("host", ""), groups.get("program", ""), groups, raw=line)
        )


def _first(data: Mapping[str, object], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = data.get(key)
        if value is not None:
            return str(value)
    return None


def _iso(text: str) -> datetime | None:
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _with_entities(record: Record) -> Record:
    """Add ``ip`` and ``user`` fields found in the message when the format gave none."""
    if "ip" not in record.fields:
        m = _IP.search(record.message)
        if m:
            record.fields["ip"] = m.group(0)
    if "user" not in record.fields and _may_name_user(record.message):
        m = _USER.search(record.message)
        if m:
            record.fields["user"] = next(g for g in m.groups() if g)
    return record


def _may_name_user(message: str) -> bool:
    """Cheap substring test: could :data:`_USER` match at all? (most lines name no user)."""
    return (
        "user" in message
        or "logname=" in message
        or "acct=" in message
        or (
            "for " in message
            and (" from" in message or " port" in message or "ed for " in message or "es for " in message)
        )
    )


class HeaderFormat(LineFormat):
    """Any ``header message`` layout, its header found from the first lines (:mod:`headers`)."""

    name = "header"

    def __init__(self, header: Header | None = None, year: int | None = None) -> None:
        """``header``: a detected layout (default: none yet, the whole line is the message);
        ``year``: for stamps that carry none."""
        self.header = header or Header()
        self.year = year

    def parse(self, line: str) -> Record | None:
        """Split one line into header and message; time, level and component from the header."""
        head, message = self.header.split(line)
        if not head:
            return None
        fields: dict[str, str] = {}
        level = _LEVEL.search(head)
        if level:
            fields["level"] = level.group(1).upper()
            before = _WORD_BEFORE_LEVEL.search(head, 0, level.start())
            if before:  # ``RAS KERNEL INFO``: the word before the level names the component
                fields["component"] = before.group(1)
        else:
            letter = _LETTER_LEVEL.search(head)
            if letter:  # logcat's ``1702  2395 D WindowManager:``
                fields["level"] = _LETTER_NAMES[letter.group(1)]
        program = ""
        component = _PROGRAM.search(head)
        if component:
            program = component.group(1)
            if component.group(2):
                fields["pid"] = component.group(2)
        ts = parse_stamp(head, self.year)
        return _with_entities(Record(message, ts, "", program, fields, raw=line))


_LEVEL = re.compile(r"\b(TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|FATAL|CRIT(?:ICAL)?|SEVERE)\b", re.I)
_LETTER_LEVEL = re.compile(r"(?:^|\s)([VDIWEF])\s")
_LETTER_NAMES = {"V": "TRACE", "D": "DEBUG", "I": "INFO", "W": "WARN", "E": "ERROR", "F": "FATAL"}
_PROGRAM = re.compile(r"([\w.$/-]+)(?:\[(\d+)\])?:$")
_WORD_BEFORE_LEVEL = re.compile(r"(?:^|\s)([A-Za-z][\w.$-]*) +$")


FORMATS: dict[str, type[LineFormat]] = {
    "raw": LineFormat,
    "syslog": SyslogFormat,
    "combined": CombinedFormat,
    "json": JsonFormat,
    "header": HeaderFormat,
}


def get_format(name: str, regex: str | None = None) -> LineFormat:
    """The format called ``name`` (``regex`` needs the pattern); UsageError when unknown."""
    if name == "regex" or regex:
        if not regex:
            raise UsageError("--log-format regex needs --regex PATTERN")
        return RegexFormat(regex)
    try:
        return FORMATS[name]()
    except KeyError:
        choices = ", ".join([*FORMATS, "regex", "auto"])
        raise UsageError(f"unknown log format {name!r} (choose from {choices})") from None


FormatSpec = dict[str, str]
"""A format as plain data (stored in model files): ``kind`` plus its settings."""


def load_format_specs(path: Path) -> dict[str, FormatSpec]:
    """User formats from a TOML file: ``[formats.NAME]`` with ``regex`` (and optional
    ``time_format``) or ``json = {message = "...", timestamp = "...", host = "..."}``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: formats file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read formats file: {exc}") from None
    table = data.get("formats")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: expected a [formats.NAME] table")
    specs: dict[str, FormatSpec] = {}
    for name, entry in table.items():
        where = f"{path}: formats.{name}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        if isinstance(entry.get("regex"), str):
            spec = {"kind": "regex", "regex": entry["regex"]}
            if isinstance(entry.get("time_format"), str):
                spec["time_format"] = entry["time_format"]
            try:
                RegexFormat(spec["regex"])
            except UsageError as exc:
                raise ConfigError(f"{where}: {exc}") from None
        elif isinstance(entry.get("json"), dict):
            fields = entry["json"]
            unknown = set(fields) - {"message", "timestamp", "host"}
            if unknown or not all(isinstance(v, str) for v in fields.values()):
                raise ConfigError(f"{where}: json takes string keys message, timestamp, host")
            spec = {"kind": "json", **fields}
        else:
            raise ConfigError(f"{where}: needs regex = '...' or json = {{message = '...'}}")
        specs[name] = spec
    return specs


def resolve_format(name: str, regex: str | None = None, formats: Path | None = None) -> FormatSpec:
    """The spec for ``--log-format NAME`` / ``--regex`` / a user format from ``formats``."""
    if regex:
        RegexFormat(regex)
        return {"kind": "regex", "regex": regex}
    user = load_format_specs(formats) if formats is not None else {}
    if name in user:
        return user[name]
    if name == "auto" or name in FORMATS:
        return {"kind": name}
    if name == "regex":
        raise UsageError("--log-format regex needs --regex PATTERN")
    choices = ", ".join([*FORMATS, "auto", "regex", *user])
    raise UsageError(f"unknown log format {name!r} (choose from {choices})")


def format_from_spec(spec: FormatSpec) -> LineFormat | None:
    """The format a spec describes; None for ``auto`` (detect from the first lines)."""
    kind = spec.get("kind", "auto")
    if kind == "auto":
        return None
    if kind == "regex":
        return RegexFormat(spec["regex"], spec.get("time_format"))
    if kind == "json":
        return JsonFormat(
            spec.get("message", "message"), spec.get("timestamp", "timestamp"), spec.get("host", "host")
        )
    if kind == "syslog":
        year = spec.get("year")
        return SyslogFormat(int(year) if year else None)
    if kind in FORMATS:
        return FORMATS[kind]()
    raise InputError(f"unknown log format kind {kind!r}")


def detect_format(sample: list[str], year: int | None = None) -> LineFormat:
    """The format that parses the most of ``sample`` (at least half of it); else a header layout
    found from the sample's structure (:func:`detect_header`) when half the lines have one; else ``raw``."""
    best: LineFormat = LineFormat()
    best_hits = 0
    for fmt in (JsonFormat(), SyslogFormat(year), CombinedFormat()):
        hits = sum(1 for line in sample if fmt.parse(line) is not None)
        if hits > best_hits and hits * 2 >= len(sample):
            best, best_hits = fmt, hits
    if best_hits:
        return best
    header = detect_header(sample)
    return HeaderFormat(header, year) if header.share >= 0.5 else best


def read_records(
    lines: Iterable[tuple[str, int, str]],
    fmt: LineFormat | None = None,
    sample_size: int = 50,
    year: int | None = None,
) -> Iterator[Record]:
    """Parse ``(source, line number, text)`` triples; ``fmt`` None means detect from the start
    (``year``: for syslog stamps that carry none).

    A line the format cannot parse is kept whole as the message, so nothing is lost; with a
    structured format, stack-trace lines are joined to their record (:mod:`multiline`).
    """
    iterator = iter(lines)
    buffered: list[tuple[str, int, str]] = []
    if fmt is None:
        for item in iterator:
            buffered.append(item)
            if len(buffered) >= sample_size:
                break
        fmt = detect_format([text for _, _, text in buffered], year)
    records = _parse(fmt, _chain(buffered, iterator))
    if fmt.name == "raw":  # no header to tell a record's first line from its continuation
        yield from records
    else:
        yield from join_continuations(records)


def _parse(fmt: LineFormat, lines: Iterable[tuple[str, int, str]]) -> Iterator[Record]:
    for source, n, text in lines:
        record = fmt.parse(text) or _with_entities(Record(message=text, raw=text))
        record.source, record.line_no = source, n
        record.raw = text
        yield record


def _chain(
    first: list[tuple[str, int, str]], rest: Iterator[tuple[str, int, str]]
) -> Iterator[tuple[str, int, str]]:
    yield from first
    yield from rest


def lines_from_text(text: str, source: str = "<text>") -> Iterator[tuple[str, int, str]]:
    """Lines of an in-memory text, for tests and the listener."""
    for n, raw in enumerate(io.BytesIO(text.encode("utf-8")), 1):
        decoded = decode_line(raw)
        if decoded.strip():
            yield source, n, decoded
