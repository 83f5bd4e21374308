"""Features: group events into sessions (per entity, per time window) and build count vectors.

A session is the unit a model judges: all events of one block id / user / IP / host, or of one
time window, or of one entity inside one window. Memory stays bounded: at most ``max_open``
sessions are open, each keeps at most ``max_events`` event ids and ``max_evidence`` lines.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from bastion.detect.ingest.records import Record
from bastion.detect.logs.templates import Template, TemplateMiner, event_text, mask_key
from bastion.errors import UsageError

__all__ = ["Session", "SessionKey", "Sessionizer", "Vocabulary", "count_matrix"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BLOCK = re.compile(r"blk_-?\d+")


@dataclass
class Session:
    """The events of one entity (and window)."""

    key: str
    kind: str
    events: list[int] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    evidence: list[str] = field(default_factory=list)
    texts: dict[int, str] = field(default_factory=dict)
    """Event id -> event text, for the explanation."""
    lines: dict[int, str] = field(default_factory=dict)
    """Event id -> first line of that event in the session (evidence for unseen events)."""
    truncated: int = 0


@dataclass(frozen=True)
class SessionKey:
    """How records become sessions: ``by`` names an entity, ``window`` cuts time."""

    by: str = "host"
    """``block`` (HDFS block ids), ``host``, ``ip``, ``user``, ``program``, any record field,
    ``none`` (one stream), or ``re:PATTERN`` (the first match in the message)."""
    window: float = 0.0
    """Window length in seconds; 0 means no time window (sessions per entity only)."""
    step: float = 0.0
    """Sliding step in seconds; 0 means fixed (tumbling) windows."""

    def __post_init__(self) -> None:
        if self.window < 0 or self.step < 0 or (self.step and not self.window):
            raise UsageError("--window must be positive, and --step needs --window")
        if self.step > self.window > 0:
            raise UsageError("--step cannot be longer than --window")
        if self.by.startswith("re:"):
            try:
                re.compile(self.by[3:])
            except re.error as exc:
                raise UsageError(f"--session regex is invalid: {exc}") from None

    def entities(self, record: Record) -> list[str]:
        """The entity values of ``record`` (a line may name several blocks)."""
        if self.by == "none":
            return ["all"]
        if self.by == "block":
            return list(dict.fromkeys(_BLOCK.findall(record.message)))
        if self.by.startswith("re:"):
            m = re.search(self.by[3:], record.message)
            return [m.group(1) if m.groups() else m.group(0)] if m else []
        if self.by == "host":
            return [record.host] if record.host else []
        if self.by == "program":
            return [record.program] if record.program else []
        value = record.fields.get(self.by)
        return [value] if value else []

    @property
    def kind(self) -> str:
        """The alert entity kind."""
        return {"block": "session", "none": "stream"}.get(
            self.by, self.by if self.by[:3] != "re:" else "session"
        )


class Sessionizer:
    """Streams records into sessions; yields each session once it is complete."""

    def __init__(
        self,
        miner: TemplateMiner,
        key: SessionKey,
        learn: bool,
        max_open: int = 50_000,
        max_events: int = 5_000,
        max_evidence: int = 5,
        new_variants: bool | None = None,
    ) -> None:
        """``learn``: mine new templates (training) or only match known ones (detection).

        ``new_variants``: give unknown low-cardinality variants new ids (default: ``learn``);
        otherwise they are unseen events."""
        self.new_variants = learn if new_variants is None else new_variants
        self.miner = miner
        self._texts: dict[int, str] = {}
        """Event id -> event text, reused across sessions (only while not learning)."""
        self.key = key
        self.learn = learn
        self.max_open = max_open
        self.max_events = max_events
        self.max_evidence = max_evidence
        self.open: OrderedDict[tuple[str, float], Session] = OrderedDict()
        self.watermark: float | None = None
        self.lines = 0
        self.keyless = 0
        """Lines that carried no session key (they belong to no session)."""
        self.tap: Callable[[Record, int, tuple[str, ...]], None] | None = None
        """Called with every line's record, event id and masked tokens, keyed or not (the
        time-window layer watches the whole stream)."""

    def event_of(self, record: Record) -> tuple[int, Template | None, tuple[str, ...]]:
        """Event id, template and masked tokens of a record; unseen lines get id -1 and no
        template when not learning."""
        tokens = mask_key(record.message)
        if self.learn:
            template = self.miner.add_tokens(tokens, record.message)
        else:
            found = self.miner.match_tokens(tokens)
            if found is None:
                return -1, None, tokens
            template = found
        return self.miner.event_id(template, tokens, self.new_variants), template, tokens

    def feed(self, records: Iterable[Record]) -> Iterator[Session]:
        """Consume records; yield sessions as they close, then the rest at the end."""
        add = self.add
        for record in records:
            closed = add(record)
            if closed:
                yield from closed
        yield from self.flush()

    def add(self, record: Record) -> list[Session]:
        """Add one record; return the sessions closed by it (time passed or too many open)."""
        self.lines += 1
        closed: list[Session] = []
        entities = self.key.entities(record)
        if self.tap is not None:
            event, template, tokens = self.event_of(record)
            self.tap(record, event, tokens)
            if not entities:
                self.keyless += 1
                return closed
        elif not entities:
            self.keyless += 1
            return closed
        else:
            event, template, tokens = self.event_of(record)
        ts = record.timestamp
        starts: Sequence[float] = (0.0,)
        if self.key.window and ts is not None:
            t = (ts - _EPOCH).total_seconds()
            starts = self._window_starts(t)
            if self.watermark is None or t > self.watermark:
                self.watermark = t
        for entity in entities:
            for start in starts:
                self._append((entity, start), record, event, template, tokens)
        if self.watermark is not None:
            horizon = self.watermark - 2 * self.key.window
            while self.open:
                (entity, start), session = next(iter(self.open.items()))
                if start + self.key.window > horizon:
                    break
                self.open.popitem(last=False)
                closed.append(session)
        while len(self.open) > self.max_open:
            closed.append(self.open.popitem(last=False)[1])
        return closed

    def _window_starts(self, t: float) -> list[float]:
        window, step = self.key.window, self.key.step or self.key.window
        last = (t // step) * step
        starts = []
        start = last
        while start > t - window:
            starts.append(start)
            start -= step
        return starts

    def _append(
        self,
        slot: tuple[str, float],
        record: Record,
        event: int,
        template: Template | None,
        tokens: tuple[str, ...],
    ) -> None:
        session = self.open.get(slot)
        if session is None:
            name = slot[0]
            if self.key.window and record.timestamp is not None:
                begin = _EPOCH + timedelta(seconds=slot[1])
                name = f"{slot[0]}@{begin.isoformat()}"
            session = self.open[slot] = Session(name, self.key.kind)
        if len(session.events) < self.max_events:
            session.events.append(event)
        else:
            session.truncated += 1
        if event not in session.lines:
            text = self._texts.get(event) if event >= 0 else None
            if text is None:
                text = event_text(template, tokens) if template else " ".join(tokens)
                if not self.learn and event >= 0:  # a known event's text is fixed while not learning
                    self._texts[event] = text
            session.texts[event] = text
            session.lines[event] = record.raw[:1000]
        if len(session.evidence) < self.max_evidence:
            session.evidence.append(record.raw[:1000])
        ts = record.timestamp
        if ts is not None:
            session.start = ts if session.start is None or ts < session.start else session.start
            session.end = ts if session.end is None or ts > session.end else session.end

    def flush(self) -> Iterator[Session]:
        """Yield every open session."""
        while self.open:
            yield self.open.popitem(last=False)[1]


class Vocabulary:
    """Event id -> column; one extra last column counts events never seen in training."""

    def __init__(self, ids: Iterable[int]) -> None:
        """Columns for ``ids`` in sorted order."""
        self.ids = sorted(set(ids) - {-1})
        self.index = {e: i for i, e in enumerate(self.ids)}

    @property
    def size(self) -> int:
        """Number of columns including the unseen column."""
        return len(self.ids) + 1

    def column(self, event: int) -> int:
        """Column of an event (the unseen column when unknown)."""
        return self.index.get(event, len(self.ids))


def count_matrix(sequences: Sequence[Sequence[int]], vocab: Vocabulary) -> np.ndarray:
    """Event-count vectors, one row per session."""
    matrix = np.zeros((len(sequences), vocab.size), dtype=np.float64)
    index, unseen = vocab.index, len(vocab.ids)
    for row, events in enumerate(sequences):
        for event in events:
            matrix[row, index.get(event, unseen)] += 1
    return matrix


def texts_of(sessions: Iterable[Session]) -> Mapping[int, str]:
    """Event id -> text over several sessions."""
    out: dict[int, str] = {}
    for session in sessions:
        for event, text in session.texts.items():
            out.setdefault(event, text)
    return out
