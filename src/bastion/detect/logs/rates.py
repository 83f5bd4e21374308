"""Time-window detectors: what a stream of log lines does per window of time, judged against normal.

The session models (:mod:`models`) judge one entity's events; on a system whose lines name few
recurring entities (BGL's 899 nodes in 1,000 lines) almost every session holds one line and only
"unseen event" can fire. This layer looks at the whole stream cut into time windows and scores
seven features per window:

``new-error``   distinct templates never seen in training (in every window they appear in, as
                the session models flag every session holding one) whose line is error-like (a
                level of WARN or worse in the header, or an error word in the message) and that
                are not a near-variant of a training template (:mod:`novelty`: at least ``near``
                of their words shared with one)
``new-template``  distinct templates never seen in training, any level, near-variants left out
``burst``       the window's line count, or one event's count (+1 each side), above the most seen
                in a training window (ratio)
``silence``     a steady stream (lines in >= 90 % of training windows) with far fewer lines
                than its median window, or than the last :data:`RECENT` windows' median if lower
                (expected / (count + 1))
``quiet``       components (program, header component) present in >= 90 % of training windows
                that are missing from an otherwise busy window
``order``       share of the window's transitions between consecutive events of one component
                (the whole stream when lines name none) that training never showed, among events
                seen at least :data:`MIN_EVENT_LINES` times, each counted once (reordering)
``sequence``    mean surprisal (nats) of the window's transitions under the training's bigram
                model per component (add-:data:`ALPHA` smoothing), among the same events: seen
                transitions in an unlikely order count too

Thresholds are learned without labels, on time: the profile is fitted on the first two thirds of
the training windows and the last third is scored; the profile is then refitted on all of
training, which is scored too; each feature's threshold is the ``quantile`` of the values seen in
both (1.0: the highest, so no training window alerts) times ``margin``, never below its floor.
A window alerts when a feature exceeds its threshold; its score is the largest
``(value + 1) / (threshold + 1)`` over its non-zero features (0 when all are zero), so 1.0 is the
border for every feature.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import median
from typing import Any

from bastion.detect.logs.novelty import TemplateIndex
from bastion.detect.logs.observations import Observation, observe

__all__ = [
    "FEATURES",
    "RATE_DEFAULTS",
    "RATE_NEAR",
    "Observation",
    "WindowModel",
    "WindowScore",
    "WindowScorer",
    "observe",
]

FEATURES = ("new-error", "new-template", "burst", "silence", "quiet", "order", "sequence")
SPARSE = frozenset(["sequence"])
"""Features that apply to some windows only (0: not measured): thresholds from the measured ones."""
FLOORS = {
    "new-error": 0.0,
    "new-template": 1.0,
    "burst": 1.0,
    "silence": 2.0,
    "quiet": 0.0,
    "order": 0.0,
    "sequence": 0.0,
}
"""The least threshold of each feature (a burst must pass the training maximum at least)."""
LADDER = (1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 10800.0, 21600.0, 86400.0)
"""Window lengths (seconds) the automatic choice picks from."""
RATE_DEFAULTS = (1.5, 10.0, 0.9)
"""(margin, target lines per window, threshold quantile): the setting three of the four
leave-systems-out folds chose in bench/monitor/anomaly_eval.py (the fourth chose quantile 0.95)."""
RATE_NEAR = 0.5
"""Word-set similarity from which an unseen error-like template is a near-variant of a training
template, not a new error (> 1: never); chosen leave-systems-out in bench/monitor/anomaly_eval.py."""
MIN_EVENT_LINES = 5
ALPHA = 0.5
"""Add-alpha smoothing of the transition probabilities (``sequence``)."""
MIN_TRANSITIONS = 3
"""Transitions a window needs before its mean surprisal counts."""
MEMORY = 100_000
"""Unseen transitions remembered while detecting (each alerts in one window), and the
near-variant verdicts of unseen templates."""
RECENT = 12
"""Windows whose median line count a silence is also judged against (a stream that slowed for
good stops looking silent after a while)."""
STEADY = 0.9
MAX_GAP_WINDOWS = 10_000
"""Empty windows scored across one gap at most (a clock jump must not cost unbounded time)."""


@dataclass
class _Window:
    start: float
    lines: int = 0
    events: Counter[int] = field(default_factory=Counter)
    components: Counter[str] = field(default_factory=Counter)
    new: dict[tuple[str, ...], tuple[bool, bool]] = field(default_factory=dict)
    """Unseen shape -> (error-like, a near-variant of a training template)."""
    novel_pairs: int = 0
    surprise: float = 0.0
    transitions: int = 0
    unlikely: tuple[float, str] = (0.0, "")
    """The window's most surprising transition: (surprisal, its second line)."""
    evidence: list[str] = field(default_factory=list)


@dataclass
class WindowScore:
    """One scored window."""

    start: float
    end: float
    lines: int
    values: dict[str, float]
    score: float
    kinds: list[str]
    """The features past their thresholds (empty: a normal window)."""
    reasons: list[str]
    evidence: list[str]


@dataclass
class WindowModel:
    """The normal profile of a stream per time window, with one threshold per feature."""

    window: float
    event_high: dict[int, int] = field(default_factory=dict)
    """Event id -> most lines of that event in one training window."""
    event_lines: dict[int, int] = field(default_factory=dict)
    lines_high: int = 0
    lines_median: float = 0.0
    steady: bool = False
    components: list[str] = field(default_factory=list)
    """Components present in >= 90 % of the training windows."""
    pairs: set[tuple[int, int]] = field(default_factory=set)
    thresholds: dict[str, float] = field(default_factory=dict)
    windows: int = 0
    pair_lines: dict[tuple[int, int], int] = field(default_factory=dict)
    """How often each transition followed in training (``sequence``)."""
    templates: TemplateIndex = field(default_factory=TemplateIndex)
    """Word sets of the training templates (is an unseen template a near-variant?)."""
    near: float = RATE_NEAR

    @classmethod
    def learn(
        cls,
        observations: Sequence[Observation],
        window: float = 0.0,
        margin: float = RATE_DEFAULTS[0],
        target: float = RATE_DEFAULTS[1],
        quantile: float = RATE_DEFAULTS[2],
        near: float = RATE_NEAR,
    ) -> WindowModel | None:
        """Fit on normal observations (time order); None when fewer than 6 windows have lines.

        ``window`` 0 picks the shortest length of :data:`LADDER` whose median busy window holds
        ``target`` lines while training still spans at least 6 windows."""
        obs = sorted(observations, key=lambda o: o.time)
        if len(obs) < 2:
            return None
        window = window or choose_window(obs, target)
        cut = _cut(obs, window)
        if cut is None:
            return None
        early = cls._fit(obs[:cut], window, near)
        seen: dict[str, list[float]] = {f: [] for f in FEATURES}
        for scored in WindowScorer(early, record=False).score_all(obs[cut:]):
            for name, value in scored.values.items():
                if value or name not in SPARSE:
                    seen[name].append(value)
        model = cls._fit(obs, window, near)
        for scored in WindowScorer(model, record=False).score_all(obs):
            for name, value in scored.values.items():
                if value or name not in SPARSE:
                    seen[name].append(value)
        model.thresholds = {
            f: max(FLOORS[f], _quantile(seen[f], quantile) * margin)
            for f in FEATURES
            if seen[f] or f not in SPARSE  # never measured in training: no threshold, never alerts
        }
        return model

    @classmethod
    def _fit(cls, obs: Sequence[Observation], window: float, near: float) -> WindowModel:
        model = cls(window, near=near)
        prev: dict[str, int] = {}
        shapes: set[tuple[str, ...]] = set()
        for o in obs:
            if o.shape not in shapes:
                shapes.add(o.shape)
                model.templates.add(o.shape)
            model.event_lines[o.event] = model.event_lines.get(o.event, 0) + 1
            before = prev.get(o.component)
            if before is not None:
                model.pairs.add((before, o.event))
                model.pair_lines[before, o.event] = model.pair_lines.get((before, o.event), 0) + 1
            prev[o.component] = o.event
        present: Counter[str] = Counter()
        counts = []
        for w in _windows(obs, window):  # one window at a time: a long quiet span costs no memory
            counts.append(w.lines)
            for event, n in w.events.items():
                model.event_high[event] = max(model.event_high.get(event, 0), n)
            present.update(w.components.keys())
        busy = [c for c in counts if c]
        model.lines_high = max(counts, default=0)
        model.lines_median = float(median(busy)) if busy else 0.0
        model.steady = len(busy) >= STEADY * len(counts)
        model.windows = len(counts)
        model.components = sorted(c for c, n in present.items() if c and n >= STEADY * len(counts))
        return model

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the model file."""
        return {
            "window": self.window,
            "event_high": {str(k): v for k, v in self.event_high.items()},
            "event_lines": {str(k): v for k, v in self.event_lines.items()},
            "lines_high": self.lines_high,
            "lines_median": self.lines_median,
            "steady": self.steady,
            "components": self.components,
            "pairs": sorted([a, b] for a, b in self.pairs),
            "thresholds": self.thresholds,
            "windows": self.windows,
            "templates": self.templates.to_list(),
            "near": self.near,
            "pair_lines": sorted([a, b, n] for (a, b), n in self.pair_lines.items()),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowModel:
        """Inverse of :meth:`to_dict` (KeyError/TypeError/ValueError on a damaged form)."""
        return cls(
            float(data["window"]),
            {int(k): int(v) for k, v in data["event_high"].items()},
            {int(k): int(v) for k, v in data["event_lines"].items()},
            int(data["lines_high"]),
            float(data["lines_median"]),
            bool(data["steady"]),
            [str(c) for c in data["components"]],
            {(int(a), int(b)) for a, b in data["pairs"]},
            {str(k): float(v) for k, v in data["thresholds"].items()},
            int(data["windows"]),
            pair_lines={(int(a), int(b)): int(n) for a, b, n in data.get("pair_lines", ())},
            templates=TemplateIndex.from_list(data.get("templates", ())),
            near=float(data.get("near", 2.0)),  # files from before the index: every unseen error is new
        )


def _quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank; 1.0 is the maximum, 0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def choose_window(obs: Sequence[Observation], target: float) -> float:
    """The shortest ladder length whose median busy window holds ``target`` lines (6+ windows)."""
    span = obs[-1].time - obs[0].time
    best = LADDER[0]
    for length in LADDER:
        if span / length < 6:
            break
        best = length
        counts = Counter(int(o.time // length) for o in obs)
        if median(counts.values()) >= target:
            return length
    return best


def _cut(obs: Sequence[Observation], window: float) -> int | None:
    """Index of the first observation of the last third of the windows (None: too few windows)."""
    first, last = obs[0].time // window, obs[-1].time // window
    if last - first < 5:
        return None
    border = (first + (last - first + 1) * 2 // 3) * window
    return next(i for i, o in enumerate(obs) if o.time >= border)


def _windows(obs: Iterable[Observation], window: float) -> Iterator[_Window]:
    """Every window from the first observation's to the last one's, empty ones included."""
    current: _Window | None = None
    for o in obs:
        start = o.time // window * window
        if current is not None and start != current.start:
            yield current
            gap = current.start + window
            while gap < start:
                yield _Window(gap)
                gap += window
        if current is None or start != current.start:
            current = _Window(start)
        current.lines += 1
        current.events[o.event] += 1
        current.components[o.component] += 1
    if current is not None:
        yield current


class WindowScorer:
    """Streams observations into windows and scores each window once time has moved past it.

    Lines up to one window late still count in their window; later ones count in the current one."""

    def __init__(self, model: WindowModel, record: bool = True, history: int = 20_000) -> None:
        """``record`` keeps the last ``history`` window scores (for ``--plot``)."""
        self.model = model
        self.current: _Window | None = None
        self.previous: _Window | None = None
        self.prev_event: dict[str, int] = {}
        """Component -> its last event (transitions are followed per component)."""
        self.record = record
        self.history: list[WindowScore] = []
        self.history_limit = history
        self.scored = 0
        self.gaps_skipped = 0
        self.variants: dict[tuple[str, ...], bool] = {}
        """Unseen template -> whether it is a near-variant of a training one (computed once)."""
        self.known_pairs: set[tuple[int, int]] = set()
        self.surprisal: dict[tuple[int, int], float] = {}
        """Transition -> its surprisal (nats), computed once."""
        self.from_lines: dict[int, int] = {}
        """Event -> transitions out of it in training (the bigram model's denominators)."""
        for (a, _), n in model.pair_lines.items():
            self.from_lines[a] = self.from_lines.get(a, 0) + n
        self.vocabulary = 1 + sum(1 for n in model.event_lines.values() if n >= MIN_EVENT_LINES)
        self.recent: deque[int] = deque(maxlen=RECENT)
        """Line counts of the last windows (silence is judged against them too)."""

    def score_all(self, observations: Iterable[Observation]) -> Iterator[WindowScore]:
        """Every window of ``observations``, then the open ones."""
        for o in observations:
            yield from self.add(o)
        yield from self.flush()

    def add(self, o: Observation) -> list[WindowScore]:
        """Add one observation; return the windows it closed."""
        length = self.model.window
        start = o.time // length * length
        closed: list[WindowScore] = []
        target = self.current
        if target is None:
            target = self.current = _Window(start)
        elif start > target.start:
            if self.previous is not None:
                closed.append(self._score(self.previous))
            self.previous = target
            gap = target.start + length
            if gap < start:  # empty windows between: the last busy one can take no late line
                closed.append(self._score(target))
                self.previous = None
                skipped = 0
                while gap < start:
                    if skipped < MAX_GAP_WINDOWS:
                        closed.append(self._score(_Window(gap)))
                    else:
                        self.gaps_skipped += 1
                    skipped += 1
                    gap += length
            target = self.current = _Window(start)
        elif start < target.start and self.previous is not None and start >= self.previous.start:
            target = self.previous
        self._count(target, o)
        return closed

    def _count(self, w: _Window, o: Observation) -> None:
        model = self.model
        w.lines += 1
        w.events[o.event] += 1
        w.components[o.component] += 1
        unseen = o.event < 0 or o.event not in model.event_lines
        if unseen and o.shape not in w.new and len(w.new) < 1000:
            variant = self.variants.get(o.shape)
            if variant is None:
                variant = model.near <= 1 and model.templates.similarity(o.shape) >= model.near
                if len(self.variants) >= MEMORY:
                    self.variants.clear()
                self.variants[o.shape] = variant
            w.new[o.shape] = (o.error, variant)
            if len(w.evidence) < 5:
                w.evidence.append(o.line[:1000])
        prev = self.prev_event.get(o.component)
        if len(self.prev_event) >= MEMORY:
            self.prev_event.clear()
        self.prev_event[o.component] = o.event
        if (
            prev is None
            or model.event_lines.get(prev, 0) < MIN_EVENT_LINES
            or model.event_lines.get(o.event, 0) < MIN_EVENT_LINES
        ):
            return
        if model.pair_lines:
            pair = (prev, o.event)
            surprise = self.surprisal.get(pair)
            if surprise is None:
                seen = model.pair_lines.get(pair, 0)
                surprise = -math.log(
                    (seen + ALPHA) / (self.from_lines.get(prev, 0) + ALPHA * self.vocabulary)
                )
                if len(self.surprisal) >= MEMORY:
                    self.surprisal.clear()
                self.surprisal[pair] = surprise
            w.surprise += surprise
            w.transitions += 1
            if surprise > w.unlikely[0]:
                w.unlikely = (surprise, o.line[:1000])
        if (prev, o.event) not in model.pairs and (prev, o.event) not in self.known_pairs:
            w.novel_pairs += 1
            if len(self.known_pairs) < MEMORY:
                self.known_pairs.add((prev, o.event))
            if len(w.evidence) < 5:
                w.evidence.append(o.line[:1000])

    def flush(self) -> Iterator[WindowScore]:
        """Score the open windows."""
        for w in (self.previous, self.current):
            if w is not None:
                yield self._score(w)
        self.previous = self.current = None

    def values(self, w: _Window) -> tuple[dict[str, float], list[str]]:
        """The feature values of a window and why, in words."""
        m = self.model
        values = dict.fromkeys(FEATURES, 0.0)
        reasons: list[str] = []
        novel = [s for s, (_, near) in w.new.items() if not near]
        errors = [s for s, (bad, near) in w.new.items() if bad and not near]
        values["new-error"] = float(len(errors))
        values["new-template"] = float(len(novel))
        if novel:
            sample = " ".join(errors[0] if errors else novel[0])[:120]
            variants = len(w.new) - len(novel)
            reasons.append(
                f"{len(novel)} unseen template(s), {len(errors)} error-like, e.g. {sample!r}"
                + (f" ({variants} near-variant(s) of known ones besides)" if variants else "")
            )
        burst = w.lines / m.lines_high if m.lines_high else 0.0
        worst = ""
        for event, n in w.events.items():
            high = m.event_high.get(event)
            if high and (n + 1) / (high + 1) > burst:  # +1: one more of a rare event is no burst
                burst, worst = (n + 1) / (high + 1), f"event {event} {n}x (normal at most {high} per window)"
        values["burst"] = burst
        if burst > 1:
            reasons.append(worst or f"{w.lines} lines (normal at most {m.lines_high} per window)")
        if m.steady and m.lines_median:
            expected = min(m.lines_median, median(self.recent)) if self.recent else m.lines_median
            values["silence"] = expected / (w.lines + 1)
            if w.lines < expected / 2:
                reasons.append(f"{w.lines} line(s) (normal median {m.lines_median:g}, recently {expected:g})")
        if m.components and w.lines >= m.lines_median / 2:
            missing = [c for c in m.components if c not in w.components]
            values["quiet"] = float(len(missing))
            if missing:
                reasons.append("quiet: " + ", ".join(missing[:5]))
        values["order"] = w.novel_pairs / w.lines if w.lines else 0.0
        if w.transitions >= MIN_TRANSITIONS:
            values["sequence"] = w.surprise / w.transitions
            if values["sequence"] > m.thresholds.get("sequence", math.inf):
                reasons.append(f"{w.transitions} event transition(s) in an unlikely order "
                               f"({values['sequence']:.2f} nats each on average)")  # fmt: skip
                if len(w.evidence) < 5 and w.unlikely[1] not in w.evidence:
                    w.evidence.append(w.unlikely[1])
        if w.novel_pairs:
            reasons.append(f"{w.novel_pairs} of {w.lines} event transition(s) never seen in training")
        return values, reasons

    def _score(self, w: _Window) -> WindowScore:
        values, reasons = self.values(w)
        self.recent.append(w.lines)
        thresholds = self.model.thresholds
        kinds = [f for f in FEATURES if thresholds and values[f] > thresholds.get(f, math.inf) + 1e-9]
        score = max(
            (
                (values[f] + 1) / (thresholds.get(f, 0.0) + 1)
                for f in FEATURES
                if values[f] > 0 and (f in thresholds or f not in SPARSE)
            ),
            default=0.0,
        )
        result = WindowScore(
            w.start, w.start + self.model.window, w.lines, values, score, kinds, reasons if kinds else [],
            w.evidence if kinds else [],
        )  # fmt: skip
        self.scored += 1
        if self.record:
            self.history.append(result)
            if len(self.history) > self.history_limit:
                del self.history[: len(self.history) - self.history_limit]
        return result


def window_time(seconds: float) -> datetime:
    """A window boundary as a datetime (UTC)."""
    return datetime.fromtimestamp(seconds, UTC)
