"""Scores with their reasoning: per kind, per dimension, per DSOMM dimension and SAMM practice,
then the verdict, the three weakest points, a roadmap and the trend since the last assessment.

A kind counts only with fresh evidence; stale evidence and a missing source score 0 and say why
("not evidenced" is never "done").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bastion.ready.evidence import SOURCE_OF, Dimension, Evidence, EvidenceKind, EvidenceSet, SourceState
from bastion.ready.mapping import KindInfo, Mapping
from bastion.ready.models import MaturityModel
from bastion.ready.signals import parse_time

__all__ = ["Assessment", "KindResult", "KindState", "assess", "short_day", "trend_words"]

_DONE = 0.5
"""A kind at or above this share counts toward an activity as evidenced."""


class KindState(StrEnum):
    """How one evidence kind stands."""

    COUNTED = "counted"
    STALE = "stale"
    MISSING = "not evidenced"


@dataclass(frozen=True)
class KindResult:
    """One kind's score and why."""

    info: KindInfo
    state: KindState
    score: float
    reason: str
    items: tuple[Evidence, ...] = ()
    age_days: float | None = None
    gain: float = 0.0
    """Dimension points gained by bringing this kind to full."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "kind": self.info.kind.value,
            "title": self.info.title,
            "dimension": self.info.dimension.value,
            "state": self.state.value,
            "score": round(self.score, 3),
            "reason": self.reason,
            "age_days": None if self.age_days is None else round(self.age_days, 1),
            "evidence": [e.to_dict() for e in self.items],
            "action": self.info.action,
            "command": self.info.command,
            "gain": round(self.gain, 1),
        }


@dataclass(frozen=True)
class GroupScore:
    """A DSOMM dimension or SAMM practice: how many of its activities are evidenced."""

    model: str
    group: str
    evidenced: int
    partly: int
    total: int
    mapped: tuple[dict[str, Any], ...] = ()
    """The activities Bastion's mapping ties to evidence, each with its state and its evidence
    kinds' states; the group's other activities are not evidenced (a manual assessment's part)."""

    @property
    def score(self) -> float:
        """Percent: evidenced 1, partly 0.5, not evidenced 0."""
        return round(100 * (self.evidenced + 0.5 * self.partly) / self.total, 1) if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "model": self.model,
            "group": self.group,
            "evidenced": self.evidenced,
            "partly": self.partly,
            "not_evidenced": self.total - self.evidenced - self.partly,
            "total": self.total,
            "score": self.score,
            "mapped": list(self.mapped),
        }


@dataclass
class Assessment:
    """The answer, with everything it rests on."""

    at: datetime
    scope: str
    verdict: str
    why: str
    dimensions: dict[Dimension, float]
    kinds: list[KindResult]
    weakest: list[KindResult]
    roadmap: list[KindResult]
    sources: list[dict[str, str]]
    groups: list[GroupScore] = field(default_factory=list)
    trend: dict[str, Any] = field(default_factory=dict)
    first_steps: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    """The verdict's thresholds (``ready``, ``partly``) the weakest dimension is held to."""

    @property
    def overall(self) -> float:
        """Mean of the four dimension scores."""
        return round(sum(self.dimensions.values()) / len(self.dimensions), 1)

    def answer(self) -> str:
        """The one-line answer."""
        return f"{self.verdict}: {self.why}"

    def to_dict(self) -> dict[str, Any]:
        """The assessment as the JSON format and the history keep it."""
        return {
            "version": 1,
            "at": self.at.isoformat(timespec="seconds"),
            "scope": self.scope,
            "verdict": self.verdict,
            "answer": self.answer(),
            "overall": self.overall,
            "dimensions": {d.value: s for d, s in self.dimensions.items()},
            "weakest": [k.to_dict() for k in self.weakest],
            "roadmap": [k.to_dict() for k in self.roadmap],
            "first_steps": self.first_steps,
            "thresholds": self.thresholds,
            "trend": self.trend,
            "sources": self.sources,
            "models": [g.to_dict() for g in self.groups],
            "kinds": [k.to_dict() for k in self.kinds],
        }


def _kind_result(info: KindInfo, items: list[Evidence], why_missing: str, now: datetime) -> KindResult:
    if not items:
        return KindResult(info, KindState.MISSING, 0.0, why_missing)
    fresh = [e for e in items if (now - e.observed_at).total_seconds() <= info.max_age_days * 86400]
    if not fresh:
        newest = max(items, key=lambda e: e.observed_at)
        age = (now - newest.observed_at).total_seconds() / 86400
        reason = f"stale: newest evidence {age:.0f} days old, counts for {info.max_age_days} days"
        return KindResult(info, KindState.STALE, 0.0, reason, (newest,), age)
    # One per project (the newest), organisation-wide items as one more: the kind's score is their mean.
    latest: dict[str, Evidence] = {}
    for item in fresh:
        if item.project not in latest or latest[item.project].observed_at < item.observed_at:
            latest[item.project] = item
    chosen = tuple(sorted(latest.values(), key=lambda e: e.project))
    score = sum(e.score for e in chosen) / len(chosen)
    age = max((now - e.observed_at).total_seconds() / 86400 for e in chosen)
    reason = "; ".join(f"{e.project + ': ' if e.project else ''}{e.detail}{_was(e, items)}" for e in chosen)
    return KindResult(info, KindState.COUNTED, score, reason, chosen, age)


def _was(item: Evidence, items: list[Evidence]) -> str:
    """The kind's trend in one project: `` (score was 40% on 7 Nov 2026)`` from the observation before
    ``item`` (stale ones included: an old drill is still the baseline a new one improves on)."""
    before = [e for e in items if e.project == item.project and e.observed_at < item.observed_at]
    if not before:
        return ""
    last = max(before, key=lambda e: e.observed_at)
    when = last.observed_at
    return f" (score was {100 * last.score:.0f}% on {when.day} {when:%b %Y})"


def _groups(
    model: MaturityModel,
    activity_kinds: dict[str, tuple[EvidenceKind, ...]],
    by_kind: dict[EvidenceKind, KindResult],
) -> list[GroupScore]:
    tally: dict[str, list[int]] = {}
    shown: dict[str, list[dict[str, Any]]] = {}
    for activity in model.activities:
        row = tally.setdefault(activity.group, [0, 0, 0])
        row[2] += 1
        kinds = activity_kinds.get(activity.id, ())
        scores = [by_kind[k].score if by_kind[k].state is KindState.COUNTED else 0.0 for k in kinds]
        if kinds and all(s >= _DONE for s in scores):
            row[0] += 1
            state = "evidenced"
        elif any(s > 0 for s in scores):
            row[1] += 1
            state = "partly"
        else:
            state = "not evidenced"
        if kinds:
            # the reasoning behind the share: each mapped activity, and how each kind of evidence stands
            proof = [{"kind": k.value, "state": by_kind[k].state.value, "score": round(by_kind[k].score, 3)}
                     for k in kinds]  # fmt: skip
            entry = {"id": activity.id, "name": activity.name, "level": activity.level, "state": state}
            shown.setdefault(activity.group, []).append({**entry, "evidence": proof})
    return [GroupScore(model.name, g, e, p, t, tuple(shown.get(g, ()))) for g, (e, p, t) in tally.items()]


def assess(
    evidence: EvidenceSet,
    mapping: Mapping,
    now: datetime,
    *,
    scope: str = "organisation",
    models: tuple[MaturityModel, ...] = (),
    previous: dict[str, Any] | None = None,
) -> Assessment:
    """Score ``evidence`` at ``now`` (only ``scope``'s project plus organisation-wide items when
    ``scope`` is a project slug)."""
    items = [e for e in evidence.items if scope == "organisation" or e.project in ("", scope)]
    missing = {s.name: s.why for s in evidence.sources.values() if s.state is SourceState.MISSING}

    def why_missing(kind: EvidenceKind) -> str:
        source = SOURCE_OF[kind]
        return f"not evidenced: {missing[source]}" if source in missing else "not evidenced"

    results: list[KindResult] = []
    dimensions: dict[Dimension, float] = {}
    for dimension in Dimension:
        infos = mapping.of(dimension)
        rows = [
            _kind_result(i, [e for e in items if e.kind is i.kind], why_missing(i.kind), now) for i in infos
        ]
        rows = [_with_gain(r, len(infos)) for r in rows]
        results.extend(rows)
        dimensions[dimension] = round(100 * sum(r.score for r in rows) / len(rows), 1) if rows else 0.0
    by_kind = {r.info.kind: r for r in results}
    groups: list[GroupScore] = []
    for model in models:
        groups.extend(_groups(model, mapping.dsomm if model.name == "DSOMM" else mapping.samm, by_kind))
    order = list(Dimension)
    weakest = sorted(
        results, key=lambda r: (r.score, dimensions[r.info.dimension], order.index(r.info.dimension), -r.gain)
    )[:3]
    roadmap = sorted(
        (r for r in results if r.gain > 0),
        key=lambda r: (-r.gain, dimensions[r.info.dimension], r.info.kind.value),
    )
    sources = [
        {"name": s.name, "state": s.state.value, "why": s.why}
        for s in sorted(evidence.sources.values(), key=lambda s: s.name)
    ]
    counted = [r for r in results if r.state is KindState.COUNTED]
    if not counted:
        verdict, why = "not ready", "no evidence yet"
        # one step per dimension, prepare first: the quickest way to the first evidence of each
        firsts = [next(r for r in results if r.info.dimension is d) for d in Dimension if mapping.of(d)]
        steps = [f"{r.info.action}: {r.info.command}" for r in firsts]
    else:
        low = min(dimensions, key=lambda d: (dimensions[d], order.index(d)))
        floor = dimensions[low]
        verdict = (
            "ready"
            if floor >= mapping.ready_at
            else "partly ready"
            if floor >= mapping.partly_at
            else "not ready"
        )
        top = next((r for r in weakest if r.info.dimension is low), weakest[0])
        why = f"weakest dimension is {low.value} at {floor:.0f}/100 ({top.info.title}: {_short(top)})"
        if verdict == "ready":
            why = f"every dimension at or above {mapping.ready_at:.0f}/100 (lowest: {low.value} {floor:.0f})"
        steps = []
    result = Assessment(
        now, scope, verdict, why, dimensions, results, weakest, roadmap, sources, groups, first_steps=steps,
        thresholds={"ready": mapping.ready_at, "partly": mapping.partly_at},
    )  # fmt: skip
    result.trend = _trend(result, previous)
    return result


def _short(row: KindResult) -> str:
    """A kind's standing in a few words, for the one-line answer (the reasoning is in the report)."""
    if row.state is KindState.COUNTED:
        return f"{100 * row.score:.0f}%"
    if row.state is KindState.STALE and row.age_days is not None:
        return f"stale, newest evidence {row.age_days:.0f} days old"
    return row.state.value


def _with_gain(row: KindResult, count: int) -> KindResult:
    gain = 100 * (1.0 - row.score) / count if count else 0.0
    return KindResult(row.info, row.state, row.score, row.reason, row.items, row.age_days, gain)


def _trend(now: Assessment, previous: dict[str, Any] | None) -> dict[str, Any]:
    if not previous:
        return {"previous": None, "note": "first assessment: nothing to compare with"}
    before = previous.get("dimensions") or {}
    earlier = {d: float(v) for d, v in before.items() if isinstance(v, int | float)}
    change = {
        d.value: round(score - earlier[d.value], 1)
        for d, score in now.dimensions.items()
        if d.value in earlier
    }
    overall = previous.get("overall")
    overall_change = round(now.overall - float(overall), 1) if isinstance(overall, int | float) else None
    return {
        "previous": previous.get("at"),
        "previous_verdict": previous.get("verdict"),
        "previous_overall": float(overall) if isinstance(overall, int | float) else None,
        "previous_dimensions": earlier,
        "overall_change": overall_change,
        "dimensions": change,
        "since": short_day(previous.get("at")),
        "summary": trend_words(overall_change, previous.get("at")),
    }


def short_day(value: Any) -> str:
    """An ISO time as its UTC day, ``5 Dec 2026`` (empty when it is not a time)."""
    when = parse_time(value)
    if when is None:
        return ""
    day = when.astimezone(UTC)
    return f"{day.day} {day:%b %Y}"


def trend_words(change: float | None, since: Any) -> str:
    """``up 12 points since 5 Dec 2026``, ``down 0.5 points since ...``, ``unchanged since ...``:
    the overall trend in a reader's words (empty when the earlier overall is unknown)."""
    if change is None:
        return ""
    day = short_day(since)
    date = f" since {day}" if day else ""
    points = round(abs(change), 1)
    if points == 0:
        return f"unchanged{date}"
    unit = "point" if points == 1 else "points"
    return f"{'up' if change > 0 else 'down'} {points:g} {unit}{date}"
