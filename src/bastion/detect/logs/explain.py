"""Explained log alerts: what is abnormal about a session, in words and evidence lines.

Where alerts go (table, JSON lines, webhook) is :mod:`bastion.detect.sinks`, shared by every detector."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from bastion.detect.logs.features import Session
from bastion.detect.logs.grading import grade, techniques_in
from bastion.detect.logs.rates import WindowScore
from bastion.findings import Alert

__all__ = ["EventStats", "build_alert", "build_window_alert", "redact_line"]

_SECRETISH = re.compile(
    r"(?i)\b((?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|authorization)\s*[=:]\s*(?:bearer\s+)?)(\S+)"
)


def redact_line(line: str) -> str:
    """Mask values of password/token/secret-like keys in an evidence line."""
    return _SECRETISH.sub(lambda m: f"{m.group(1)}****", line)


@dataclass
class EventStats:
    """Per-event count ranges of normal sessions, used to explain any model's alert."""

    ids: list[int]
    low: list[float]
    high: list[float]
    texts: dict[int, str]

    @classmethod
    def learn(cls, sessions: Iterable[Session]) -> EventStats:
        """Ranges of each event's per-session count over normal sessions."""
        counts: list[Counter[int]] = []
        texts: dict[int, str] = {}
        for session in sessions:
            counts.append(Counter(session.events))
            for e, t in session.texts.items():
                texts.setdefault(e, t)
        ids = sorted({e for c in counts for e in c})
        matrix = np.array([[c.get(e, 0) for e in ids] for c in counts], dtype=float).reshape(len(counts), -1)
        low = matrix.min(axis=0).tolist() if len(counts) else []
        high = matrix.max(axis=0).tolist() if len(counts) else []
        return cls(ids, low, high, texts)

    def to_dict(self) -> dict[str, object]:
        """JSON form for the model file."""
        return {
            "ids": self.ids,
            "low": self.low,
            "high": self.high,
            "texts": {str(k): v for k, v in self.texts.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> EventStats:
        """Inverse of :meth:`to_dict`."""
        texts, ids, low, high = data["texts"], data["ids"], data["low"], data["high"]
        if not isinstance(texts, dict):
            raise ValueError("event texts must be an object")
        if not (isinstance(ids, list) and isinstance(low, list) and isinstance(high, list)):
            raise ValueError("event ids and ranges must be lists")
        return cls(
            [int(i) for i in ids],
            [float(v) for v in low],
            [float(v) for v in high],
            {int(k): str(v) for k, v in texts.items()},
        )

    def explain(self, session: Session, limit: int = 5) -> tuple[list[str], list[str]]:
        """Sentences saying which events are unseen, missing or too frequent, with evidence lines."""
        counts = Counter(session.events)
        known = dict(zip(self.ids, zip(self.low, self.high, strict=True), strict=True))
        reasons: list[str] = []
        evidence: list[str] = []
        for event, n in counts.items():
            if event not in known:
                text = session.texts.get(event, "?")
                reasons.append(f"unseen event ({n}x): {text!r}")
                if event in session.lines:
                    evidence.append(session.lines[event])
        for event, (low, high) in known.items():
            n = counts.get(event, 0)
            if n > high:
                reasons.append(
                    f"over-represented: {self.texts.get(event, event)!r} {n}x (normal at most {high:g})"
                )
                if event in session.lines:
                    evidence.append(session.lines[event])
            elif n < low:
                reasons.append(
                    f"under-represented: {self.texts.get(event, event)!r} {n}x (normal at least {low:g})"
                )
        return reasons[:limit] + (
            [f"... and {len(reasons) - limit} more"] if len(reasons) > limit else []
        ), evidence


def build_alert(
    session: Session, model: str, score: float, threshold: float, stats: EventStats, extra: list[str]
) -> Alert:
    """An Alert for an abnormal session, explained in words with evidence lines."""
    reasons, evidence = stats.explain(session)
    reasons = extra + reasons
    unseen = any(r.startswith("unseen") for r in reasons)
    # how far past the threshold; a model whose threshold is 0 (any violation counts) grades by 1 + score
    ratio = score / threshold if threshold > 0 else 1.0 + max(score, 0.0)
    techniques = techniques_in(
        [r for r in reasons if not r.startswith("under-represented")] + evidence + session.evidence
    )
    severity = grade(ratio, unseen, techniques)
    now = datetime.now(UTC)
    explanation = (
        f"{session.kind} {session.key}: {len(session.events)} events scored {score:.3g} by {model} "
        f"(threshold {threshold:.3g}). " + ("; ".join(reasons) if reasons else "unusual mix of normal events")
    )
    lines = list(dict.fromkeys(evidence + session.evidence))[:8]
    return Alert(
        detector=f"watch.{model}",
        severity=severity,
        score=float(score),
        entity=session.key,
        entity_kind=session.kind,
        window_start=session.start or now,
        window_end=session.end or now,
        explanation=explanation,
        evidence=tuple(redact_line(line) for line in lines),
        techniques=techniques,
        metadata={"events": len(session.events), "threshold": threshold, "truncated": session.truncated},
    )


def build_window_alert(scored: WindowScore) -> Alert:
    """An Alert for a time window whose features passed their thresholds (:mod:`rates`)."""
    kind = scored.kinds[0]
    unseen = "new-error" in scored.kinds or "new-template" in scored.kinds
    techniques = techniques_in(scored.reasons + scored.evidence)
    start, end = datetime.fromtimestamp(scored.start, UTC), datetime.fromtimestamp(scored.end, UTC)
    explanation = (
        f"window {start.isoformat()} ({scored.lines} line(s)): {', '.join(scored.kinds)} "
        f"(score {scored.score:.3g}, 1 is the border). " + "; ".join(scored.reasons)
    )
    return Alert(
        detector="watch.window",
        severity=grade(scored.score, unseen, techniques),
        score=float(scored.score),
        entity=f"all@{start.isoformat()}",
        entity_kind="window",
        window_start=start,
        window_end=end,
        explanation=explanation,
        evidence=tuple(redact_line(line) for line in scored.evidence[:8]),
        techniques=techniques,
        metadata={"kind": kind, "kinds": list(scored.kinds), "lines": scored.lines},
    )
