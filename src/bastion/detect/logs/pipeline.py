"""The watch pipeline: records -> templates -> sessions -> model -> explained alerts."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.detect.ingest.records import FormatSpec, Record
from bastion.detect.logs.explain import EventStats, build_alert, build_window_alert
from bastion.detect.logs.features import Session, Sessionizer, SessionKey
from bastion.detect.logs.modelfile import read_model_file, write_model_file
from bastion.detect.logs.models import Model, SequenceModel
from bastion.detect.logs.rates import (
    RATE_DEFAULTS,
    RATE_NEAR,
    Observation,
    WindowModel,
    WindowScorer,
    observe,
)
from bastion.detect.logs.registry import make_model, model_class
from bastion.detect.logs.sessionkeys import choose_key
from bastion.detect.logs.templates import TemplateMiner
from bastion.detect.sinks import AlertSink
from bastion.errors import InputError
from bastion.findings import Alert

__all__ = ["AlertSink", "Detector", "TrainSummary", "load_detector", "train"]

log = logging.getLogger(__name__)


@dataclass
class TrainSummary:
    """What training saw."""

    lines: int
    sessions: int
    templates: int
    threshold: float
    session_note: str = ""
    """How the session key was chosen, when ``--session auto`` chose it."""
    rate_window: float = 0.0
    """Length of the time windows the window layer learned (0: no time stamps, no layer)."""


@dataclass
class Detector:
    """A trained model with its miner, session settings and event statistics."""

    model: Model
    miner: TemplateMiner
    key: SessionKey
    stats: EventStats
    log_format: FormatSpec = field(default_factory=lambda: {"kind": "auto"})
    last_stats: tuple[int, int] = (0, 0)
    last_sessions: int = 0
    """Sessions (windows) the last :meth:`detect` scored."""
    windows: WindowModel | None = None
    """The time-window layer (:mod:`rates`); None when training lines had no time stamps."""
    last_scorer: WindowScorer | None = None
    """The window scorer of the last :meth:`detect` (its history feeds ``--plot``)."""

    def save(self, path: Path) -> None:
        """Write the detector as a model file."""
        meta, arrays = self.model.state()
        header: dict[str, Any] = {
            "model": self.model.name,
            "model_state": meta,
            "miner": self.miner.to_dict(),
            "session": {"by": self.key.by, "window": self.key.window, "step": self.key.step},
            "log_format": self.log_format,
            "stats": self.stats.to_dict(),
        }
        if self.windows is not None:
            header["windows"] = self.windows.to_dict()
        write_model_file(path, header, arrays)

    def judge(self, sessions: list[Session]) -> Iterator[Alert]:
        """Alerts for the abnormal sessions among ``sessions``."""
        if not sessions:
            return
        sequences = [s.events for s in sessions]
        self.last_sessions += len(sessions)
        scores = self.model.score(sequences)
        flags = self.model.predict(sequences)
        for session, score, flag in zip(sessions, scores, flags, strict=True):
            if flag:
                yield build_alert(
                    session,
                    self.model.name,
                    float(score),
                    self.model.threshold,
                    self.stats,
                    self._extra(session),
                )

    def _extra(self, session: Session) -> list[str]:
        if isinstance(self.model, SequenceModel):
            misses = self.model.misses(session.events)
            if misses:
                history, nxt = misses[0]
                names = [self.stats.texts.get(e, str(e)) for e in history if e >= 0]
                after = " then ".join(repr(n) for n in names) or "the session start"
                following = session.texts.get(nxt, "the session end" if nxt < -1 else str(nxt))
                return [f"unexpected order: {following!r} after {after}"]
        return []

    def detect(self, records: Iterable[Record], batch: int = 256) -> Iterator[Alert]:
        """Stream records through the sessionizer (no learning) and yield alerts.

        Afterwards :attr:`last_stats` holds ``(lines read, lines without a session key)``.
        """
        sessionizer = Sessionizer(self.miner, self.key, learn=False)
        self.last_stats = (0, 0)
        self.last_sessions = 0
        scorer = self.last_scorer = WindowScorer(self.windows) if self.windows is not None else None
        closed_windows: list[Alert] = []
        if scorer is not None:

            def tap(record: Record, event: int, tokens: tuple[str, ...]) -> None:
                o = observe(record, event, tokens, full=False)
                if o is not None:
                    closed_windows.extend(build_window_alert(w) for w in scorer.add(o) if w.kinds)

            sessionizer.tap = tap
        pending: list[Session] = []
        add = sessionizer.add
        for record in records:
            closed = add(record)
            if closed:
                pending.extend(closed)
                if len(pending) >= batch:
                    yield from self.judge(pending)
                    pending = []
            if closed_windows:
                yield from closed_windows
                closed_windows.clear()
        pending.extend(sessionizer.flush())
        yield from self.judge(pending)
        if scorer is not None:
            yield from (build_window_alert(w) for w in scorer.flush() if w.kinds)
        self.last_stats = (sessionizer.lines, sessionizer.keyless)


def train(
    records: Iterable[Record],
    model_name: str,
    key: SessionKey,
    miner: TemplateMiner | None = None,
    log_format: FormatSpec | None = None,
    rate_window: float = 0.0,
    rate_margin: float = RATE_DEFAULTS[0],
    rate_target: float = RATE_DEFAULTS[1],
    rate_quantile: float = RATE_DEFAULTS[2],
    rate_near: float = RATE_NEAR,
) -> tuple[Detector, TrainSummary]:
    """Mine templates and learn the model from normal records.

    Two passes over the training records: the first mines the templates, the second maps each
    line to its final event with the finished miner, exactly as detection will. The second pass
    also feeds the time-window layer (``rate_window`` seconds, 0: chosen from the data so that a
    median window holds ``rate_target`` lines; thresholds times ``rate_margin``) when lines have
    time stamps; an unseen error-like template sharing ``rate_near`` of its words with a training
    template is a near-variant, not a new error.
    """
    model = make_model(model_name)
    miner = miner or TemplateMiner()
    kept = []
    for record in records:
        miner.add(record.message)
        kept.append(record)
    note = ""
    if key.by == "auto":
        choice = choose_key(kept)
        key, note = SessionKey(choice.by, key.window, key.step), choice.describe()
    sessionizer = Sessionizer(miner, key, learn=False, new_variants=True)
    observations: list[Observation] = []

    def tap(record: Record, event: int, tokens: tuple[str, ...]) -> None:
        o = observe(record, event, tokens)
        if o is not None:
            observations.append(o)

    sessionizer.tap = tap
    sessions = list(sessionizer.feed(kept))
    windows = WindowModel.learn(observations, rate_window, rate_margin, rate_target, rate_quantile, rate_near)
    if not sessions:
        raise InputError(
            f"no training sessions: {sessionizer.lines} line(s) read, none had a session key "
            f"({key.by!r}); pick another --session"
        )
    model.fit([s.events for s in sessions])
    stats = EventStats.learn(sessions)
    detector = Detector(model, miner, key, stats, log_format or {"kind": "auto"}, windows=windows)
    summary = TrainSummary(
        sessionizer.lines,
        len(sessions),
        len(miner.templates),
        model.threshold,
        note,
        windows.window if windows is not None else 0.0,
    )
    return detector, summary


def load_detector(path: Path) -> Detector:
    """Read a model file written by :meth:`Detector.save`."""
    header, arrays = read_model_file(path)
    try:
        cls = model_class(str(header["model"]))
        model = cls.restore(header["model_state"], arrays)
        miner = TemplateMiner.from_dict(header["miner"], source=str(path))
        session = header["session"]
        key = SessionKey(str(session["by"]), float(session["window"]), float(session["step"]))
        stats = EventStats.from_dict(header["stats"])
        windows = WindowModel.from_dict(header["windows"]) if "windows" in header else None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{path}: damaged model file ({exc})") from None
    log_format = header.get("log_format", {"kind": "auto"})
    if not isinstance(log_format, dict):
        raise InputError(f"{path}: damaged model file (log_format)")
    return Detector(
        model, miner, key, stats, {str(k): str(v) for k, v in log_format.items()}, windows=windows
    )
