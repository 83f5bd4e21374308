"""The exercise file: which scenarios, when, against which detectors and configuration.

Validated by ``schemas/exercise.schema.json``; relative paths in it are relative to the file.
The entity mapping file (``schemas/mapping.schema.json``) names the organisation's users and
hosts and rewrites names found in replayed baseline logs.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from bastion.drills.scenario import (
    FAMILIES,
    LIBRARY,
    SCHEMAS,
    Scenario,
    library,
    load_scenario,
    schema_errors,
)
from bastion.errors import InputError
from bastion.structured import read_yaml_mapping

__all__ = ["Config", "Exercise", "Organisation", "load_exercise", "load_mapping", "schedule"]

DEFAULT_START = datetime(2026, 12, 1, tzinfo=UTC)


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / name).read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Organisation:
    """The organisation the drill is replayed into."""

    users: tuple[str, ...]
    hosts: tuple[str, ...]
    rewrite: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)
    domain: str = "corp.example"


def default_mapping(users: int = 300, hosts: int = 300) -> Organisation:
    """A made-up organisation of ``users`` people and ``hosts`` workstations under corp.example."""
    return Organisation(
        users=tuple(f"user{i:04d}@corp.example" for i in range(users)),
        hosts=tuple(f"ws-{i:03d}.corp.example" for i in range(hosts)),
    )


def load_mapping(path: Path) -> Organisation:
    """The mapping file at ``path``; :class:`InputError` naming the file and the problem."""
    data = read_yaml_mapping(path, what="mapping file")
    errors = schema_errors(data, _validator("mapping.schema.json"))
    if errors:
        raise InputError(f"{path}: invalid mapping file at {errors[0]}")
    users = tuple(data.get("users", ()))
    domain = users[0].split("@", 1)[1] if users and "@" in users[0] else "corp.example"
    base = default_mapping()
    return Organisation(
        users=users or base.users,
        hosts=tuple(data.get("hosts", ())) or base.hosts,
        rewrite=dict(data.get("rewrite", {})),
        roles=dict(data.get("roles", {})),
        domain=domain,
    )


@dataclass(frozen=True)
class Config:
    """The detector configuration under test."""

    identity_rules: Path | None = None
    geo: tuple[Path, ...] = ()
    """Geo sources of the identity detector (the drills' own documentation ranges when empty)."""
    sigma_rules: tuple[Path, ...] = ()
    scan_interval_s: float = 900.0
    """Scans run on a schedule: a change is seen at the next scan after it lands."""
    scanners: tuple[str, ...] = ("secrets", "iac", "deps")
    watch_window_s: float = 300.0


@dataclass(frozen=True)
class Exercise:
    """One exercise."""

    name: str
    scenarios: tuple[Scenario, ...]
    start: datetime = DEFAULT_START
    duration_h: float = 24.0
    schedule_mode: str = "random"
    seed: int = 0
    fixed_at_h: Mapping[str, float] = field(default_factory=dict)
    runs: int = 1
    teams: tuple[str, ...] = ("blue",)
    detectors: tuple[str, ...] = FAMILIES
    config: Config = field(default_factory=Config)
    baseline: Mapping[str, Any] = field(default_factory=dict)
    mapping: Organisation = field(default_factory=default_mapping)
    clock_skew_s: Mapping[str, float] = field(default_factory=dict)
    skew_tolerance_s: float = 120.0
    live_targets: Mapping[str, str] = field(default_factory=dict)
    path: str = ""
    digest: str = ""
    """Hash of the exercise file: a resumed run must be the same exercise."""

    @property
    def end(self) -> datetime:
        """End of the replayed period."""
        return self.start + timedelta(hours=self.duration_h)


def _scenarios(names: Sequence[str], base: Path, source: str) -> tuple[Scenario, ...]:
    lib = {s.id: s for s in library()}
    out: list[Scenario] = []
    for name in names:
        if name == "all":
            out.extend(lib.values())
        elif name in lib:
            out.append(lib[name])
        elif name.endswith((".yml", ".yaml")):
            out.append(load_scenario(base / name))
        else:
            raise InputError(f"{source}: unknown scenario {name!r} (not in the library at {LIBRARY.name}/)")
    return tuple({s.id: s for s in out}.values())


def load_exercise(path: Path) -> Exercise:
    """The exercise in ``path``; :class:`InputError` naming the file and the first problem."""
    data = read_yaml_mapping(path, what="exercise file")
    errors = schema_errors(data, _validator("exercise.schema.json"))
    if errors:
        raise InputError(f"{path}: invalid exercise at {errors[0]}")
    base = path.parent
    start = DEFAULT_START
    if "start" in data:
        try:
            start = datetime.fromisoformat(str(data["start"]))
        except ValueError:
            raise InputError(f"{path}: invalid exercise at start: not an ISO 8601 time") from None
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    cfg = data.get("config", {})
    config = Config(
        identity_rules=base / cfg["identity_rules"] if "identity_rules" in cfg else None,
        sigma_rules=tuple(base / p for p in cfg.get("sigma_rules", ())),
        geo=tuple(base / p for p in cfg.get("geo", ())),
        scan_interval_s=float(cfg.get("scan_interval_s", 900.0)),
        scanners=tuple(cfg.get("scanners", ("secrets", "iac", "deps"))),
        watch_window_s=float(cfg.get("watch_window_s", 300.0)),
    )
    sched = data.get("schedule", {})
    baseline = dict(data.get("baseline", {}))
    scenarios = _scenarios(data["scenarios"], base, str(path))
    unknown = [k for k in sched.get("at_h", {}) if k not in {s.id for s in scenarios}]
    if unknown:
        raise InputError(f"{path}: invalid exercise at schedule/at_h: {unknown[0]!r} is not a scenario of it")
    raw = path.read_bytes()
    return Exercise(
        name=data["name"],
        scenarios=scenarios,
        start=start.astimezone(UTC),
        duration_h=float(data.get("duration_h", 24.0)),
        schedule_mode=sched.get("mode", "random"),
        seed=int(sched.get("seed", 0)),
        fixed_at_h=dict(sched.get("at_h", {})),
        runs=int(data.get("runs", 1)),
        teams=tuple(data.get("teams", ("blue",))),
        detectors=tuple(data.get("detectors", FAMILIES)),
        config=config,
        baseline=baseline,
        mapping=load_mapping(base / data["mapping"])
        if "mapping" in data
        else default_mapping(int(baseline.get("users", 300)), int(baseline.get("hosts", 300))),
        clock_skew_s=dict(data.get("clock_skew_s", {})),
        skew_tolerance_s=float(data.get("skew_tolerance_s", 120.0)),
        live_targets=dict(data.get("live", {}).get("targets", {})),
        path=str(path),
        digest=hashlib.sha256(raw).hexdigest()[:16],
    )


def schedule(ex: Exercise, run: int) -> dict[str, datetime]:
    """When each scenario starts in run ``run``: the fixed hours, or a seeded random time in the
    middle 60 % of the period (the blue team does not know when; detectors have history before it).
    Scenarios are at least 30 minutes apart where the period allows it."""
    rng = random.Random(f"{ex.seed}:{run}")  # bastion: ignore[sast.bandit.B311] a schedule, not a secret
    span = ex.duration_h * 3600
    out: dict[str, datetime] = {}
    for s in ex.scenarios:
        if s.id in ex.fixed_at_h:
            at = ex.fixed_at_h[s.id] * 3600
        elif ex.schedule_mode == "fixed":
            at = span * 0.2
        else:
            at = rng.uniform(0.2, 0.8) * span
        out[s.id] = ex.start + timedelta(seconds=at)
    return out
