"""The production detectors behind one seam: telemetry items in, timed alerts out.

Each adapter feeds its family's items through the same code paths as the commands
(``bastion identity``: :class:`~bastion.detect.identity.engine.Engine`; ``bastion sigma``:
:class:`~bastion.detect.sigma.engine.SigmaEngine` and its alert builders; ``bastion watch``:
:func:`~bastion.detect.logs.pipeline.train` then :meth:`Detector.detect`; ``bastion scan``:
:func:`~bastion.runner.scan_project` on the replayed repository at each scheduled scan). What an
adapter cannot check (a detector not installed, a scanner skipped) is reported, never guessed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from bastion.detect.identity.events import SignIn
from bastion.detect.identity.rules import RuleSet, load_rules
from bastion.detect.ingest.records import Record
from bastion.drills.exercise import Config
from bastion.drills.telemetry import FileChange, Item
from bastion.errors import BastionError, InputError
from bastion.findings import Alert, Finding, Severity

__all__ = [
    "Detected",
    "DetectorRun",
    "FamilyAdapter",
    "IdentityAdapter",
    "ScanAdapter",
    "SigmaAdapter",
    "WatchAdapter",
    "adapters",
    "alert_id",
    "signature",
]

DEFAULT_SIGMA = Path(__file__).with_name("sigma")
DEFAULT_GEO = Path(__file__).with_name("data") / "geo.csv"


def signature(alert: Alert) -> str:
    """What an expectation is matched against: ``identity.brute-force``, ``sigma.<rule id>``,
    ``watch.window``, ``scan.<rule id>``."""
    if alert.detector.startswith("sigma"):
        return f"sigma.{alert.metadata.get('rule_id', '')}"
    if alert.detector == "scan":
        return f"scan.{alert.metadata.get('rule_id', '')}"
    return alert.detector


def alert_id(alert: Alert, run: int = 0) -> str:
    """A stable id for an alert of run ``run`` (the same alert in a resumed run gets the same id;
    the same alert in two runs gets two)."""
    parts = (
        str(run),
        signature(alert),
        alert.entity,
        alert.window_start.isoformat(),
        alert.window_end.isoformat(),
    )
    key = "|".join(parts)
    return hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Detected:
    """One alert and when the detector raised it (its own clock)."""

    alert: Alert
    time: datetime


@dataclass
class DetectorRun:
    """What one family's replay produced."""

    family: str
    detected: list[Detected] = field(default_factory=list)
    not_assessed: dict[str, str] = field(default_factory=dict)
    """Signature prefix -> why it could not be checked (``scan.deps``: no advisory database)."""
    events: int = 0


class FamilyAdapter(Protocol):
    """One detector family."""

    family: str

    def unavailable(self) -> str | None:
        """Why this detector cannot run here (not installed), None when it can."""

    def run(self, items: Sequence[Item], training: Sequence[Item]) -> DetectorRun:
        """Feed ``items`` (time order) through the detector; ``training`` is normal telemetry from
        before the exercise, for detectors that learn first."""


class IdentityAdapter:
    """``bastion identity``: sign-in analytics."""

    family = "identity"

    def __init__(self, config: Config, overrides: Mapping[str, Mapping[str, float]] | None = None) -> None:
        """Use the rules file of ``config`` (or the built-in one), with ``overrides``
        (detection -> params)."""
        self.config = config
        self.overrides = overrides or {}

    def unavailable(self) -> str | None:
        """Always installed with Bastion; a broken rules file is an input error, not a skip."""
        return None

    def rules(self) -> RuleSet:
        """The rule set under test, with overrides applied."""

        rules = load_rules(self.config.identity_rules)
        if not self.overrides:
            return rules
        detections = dict(rules.detections)
        for kind, params in self.overrides.items():
            d = detections[kind]
            detections[kind] = d.model_copy(update={"params": {**d.params, **params}})
        return rules.model_copy(update={"detections": detections})

    def run(self, items: Sequence[Item], training: Sequence[Item]) -> DetectorRun:
        """Every sign-in through one engine, in time order."""
        from bastion.detect.identity.engine import Engine
        from bastion.detect.identity.geo import GeoDB

        geo = GeoDB()
        for path in self.config.geo or (DEFAULT_GEO,):
            geo.load(path)
        engine = Engine(geo=geo, rules=self.rules())
        out = DetectorRun(self.family)
        for item in training:
            if isinstance(item.payload, SignIn):
                engine.consume(item.payload)
        for item in items:
            if isinstance(item.payload, SignIn):
                out.events += 1
                out.detected.extend(Detected(a, a.window_end) for a in engine.consume(item.payload))
        return out


class SigmaAdapter:
    """``bastion sigma``: Sigma rules on Windows events and web access logs."""

    family = "sigma"

    def __init__(self, config: Config) -> None:
        """Use the rule paths of ``config`` (or the rules the built-in scenarios expect)."""
        self.paths = list(config.sigma_rules) or [DEFAULT_SIGMA]

    def unavailable(self) -> str | None:
        """pySigma must import and the rule paths exist."""
        if importlib.util.find_spec("sigma") is None:
            return "pySigma is not installed"
        missing = [str(p) for p in self.paths if not p.exists()]
        return f"no Sigma rules at {', '.join(missing)}" if missing else None

    def run(self, items: Sequence[Item], training: Sequence[Item]) -> DetectorRun:
        """Windows events and web lines through one engine; every hit becomes the command's Alert."""
        del training  # rules do not learn
        from bastion.detect.sigma.alerts import correlation_alert, hit_alert
        from bastion.detect.sigma.engine import SigmaEngine
        from bastion.detect.sigma.events import LineReader, events_from_objects
        from bastion.detect.sigma.loader import load_rules as load_sigma

        ruleset = load_sigma(self.paths)
        engine = SigmaEngine(ruleset)
        reader = LineReader()
        out = DetectorRun(self.family)
        for n, item in enumerate(items):
            payload = item.payload
            if isinstance(payload, dict):
                events = list(events_from_objects([payload], "drill"))
            elif isinstance(payload, str):
                events = list(reader.events(f"drill-{item.stream}", n, payload))
            else:
                continue
            for event in events:
                out.events += 1
                hits, corr = engine.process(event)
                alerts = [hit_alert(h) for h in hits] + [correlation_alert(c) for c in corr]
                out.detected.extend(Detected(a, a.window_end) for a in alerts)
        return out


class WatchAdapter:
    """``bastion watch``: learn the service log's normal on the period before, then judge the exercise."""

    family = "watch"

    def __init__(self, config: Config, margin: float | None = None) -> None:
        """Windows of ``config.watch_window_s``; ``margin`` overrides the threshold margin (tuning)."""
        self.config = config
        self.margin = margin

    def unavailable(self) -> str | None:
        """Always installed with Bastion."""
        return None

    def run(self, items: Sequence[Item], training: Sequence[Item]) -> DetectorRun:
        """Train on ``training`` records, detect on ``items``; window alerts are timed at their
        window's end."""
        from bastion.detect.logs.features import SessionKey
        from bastion.detect.logs.pipeline import train
        from bastion.detect.logs.rates import RATE_DEFAULTS

        out = DetectorRun(self.family)
        train_records = records_of(training)
        if not train_records:
            out.not_assessed["watch"] = "no time-stamped baseline log to learn normal from"
            return out
        detector, _ = train(
            train_records,
            "ranges",
            SessionKey("none", self.config.watch_window_s),
            rate_window=self.config.watch_window_s,
            rate_margin=self.margin if self.margin is not None else RATE_DEFAULTS[0],
        )
        records = records_of(items)
        out.events = len(records)
        for alert in detector.detect(records):
            out.detected.append(Detected(alert, alert.window_end))
        return out


def records_of(items: Sequence[Item]) -> list[Record]:
    """The log records of ``items``: replayed records as they are, text lines parsed as the
    watch command parses them; in time order."""
    from bastion.detect.ingest.records import lines_from_text, read_records

    records = [i.payload for i in items if isinstance(i.payload, Record)]
    lines = [i.payload for i in items if isinstance(i.payload, str)]
    if lines:
        records.extend(r for r in read_records(lines_from_text("\n".join(lines), "drill-app")) if r.timestamp)
    records.sort(key=lambda r: r.timestamp or _EPOCH)
    return records


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ScanAdapter:
    """``bastion scan``: the replayed repository scanned on a schedule; new findings are alerts."""

    family = "scan"

    def __init__(self, config: Config) -> None:
        """Scanners and scan interval of ``config``."""
        self.config = config

    def unavailable(self) -> str | None:
        """At least one of the configured scanners must be installed."""
        from bastion.scan.registry import Registry

        names = Registry.from_entry_points().names
        if not any(s in names for s in self.config.scanners):
            return f"none of the scanners {', '.join(self.config.scanners)} is installed"
        return None

    def run(self, items: Sequence[Item], training: Sequence[Item]) -> DetectorRun:
        """Apply file changes in time order; scan at each scheduled tick after a change."""
        from bastion.config import ScanConfig
        from bastion.runner import scan_project
        from bastion.scan.engine import Concurrency
        from bastion.scan.registry import Registry

        registry = Registry.from_entry_points()
        scanners = [s for s in self.config.scanners if s in registry.names]
        out = DetectorRun(self.family)
        for s in self.config.scanners:
            if s not in registry.names:
                out.not_assessed[f"scan.{s}"] = f"scanner {s} is not installed"
        changes = [i for i in [*training, *items] if isinstance(i.payload, FileChange)]
        if not changes:
            return out
        changes.sort(key=lambda i: i.time)
        interval = timedelta(seconds=self.config.scan_interval_s)
        origin = changes[0].time
        seen: set[str] = set()
        config = ScanConfig(scanners=scanners, concurrency=Concurrency.THREAD, jobs=1, gitignore=False)
        with tempfile.TemporaryDirectory(prefix="bastion-drill-") as tmp:
            root = Path(tmp)
            k = 0
            while k < len(changes):
                # the next scan after this change: the first tick of the schedule at or after it
                ticks = -(-(changes[k].time - origin) // interval)
                tick = origin + interval * ticks
                while k < len(changes) and changes[k].time <= tick:
                    change = changes[k].payload
                    if isinstance(change, FileChange):
                        _apply(root, change)
                    k += 1
                result = scan_project(root, config, registry)
                out.events += 1
                for skip in result.scan.skips:
                    out.not_assessed.setdefault(f"scan.{skip.component}", skip.reason)
                for f in result.findings:
                    if f.fingerprint not in seen:
                        seen.add(f.fingerprint)
                        if tick > origin:
                            out.detected.append(Detected(finding_alert(f, tick), tick))
        return out


def _apply(root: Path, change: FileChange) -> None:
    target = (root / change.path).resolve()
    if not target.is_relative_to(root.resolve()):  # the schema refuses such paths; never write outside
        raise InputError(f"scenario file path {change.path!r} leaves the scanned tree")
    if change.content is None:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(change.content, encoding="utf-8")


def finding_alert(f: Finding, when: datetime) -> Alert:
    """A new scan finding as an Alert raised at the scan that first saw it (evidence stays redacted)."""
    return Alert(
        detector="scan",
        severity=f.severity if isinstance(f.severity, Severity) else Severity.MEDIUM,
        score=1.0,
        entity=str(f.location.path),
        entity_kind="path",
        window_start=when,
        window_end=when,
        explanation=f"{f.rule_id}: {f.title}",
        evidence=(f.evidence,) if f.evidence else (),
        techniques=(),
        metadata={"rule_id": f.rule_id, "scanner": f.scanner},
    )


def adapters(config: Config, families: Sequence[str]) -> dict[str, FamilyAdapter]:
    """The adapter of each family under test."""
    made: dict[str, FamilyAdapter] = {}
    for family in families:
        match family:
            case "identity":
                made[family] = IdentityAdapter(config)
            case "sigma":
                made[family] = SigmaAdapter(config)
            case "watch":
                made[family] = WatchAdapter(config)
            case "scan":
                made[family] = ScanAdapter(config)
            case _:
                raise BastionError(f"unknown detector family {family!r}")
    return made
