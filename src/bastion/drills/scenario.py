"""Scenarios as data: the YAML files, validated by ``schemas/scenario.schema.json``, as typed values.

A scenario names ATT&CK techniques (checked offline against ATT&CK), steps each producing
telemetry at an offset from the scenario's start, the detections expected (detector and
deadline) and the clean-up. Any problem is one :class:`~bastion.errors.InputError` line naming
the file and the place in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from bastion.drills.attack import Technique, technique
from bastion.errors import InputError
from bastion.structured import read_yaml_mapping

__all__ = [
    "FAMILIES",
    "LIBRARY",
    "Expectation",
    "Scenario",
    "Step",
    "Telemetry",
    "library",
    "load_scenario",
    "schema_errors",
]

LIBRARY = Path(__file__).with_name("scenarios")
"""The built-in scenario library."""
SCHEMAS = Path(__file__).with_name("schemas")
FAMILIES = ("identity", "sigma", "watch", "scan")
"""Detector families a scenario can expect; each feeds one kind of telemetry."""


@dataclass(frozen=True)
class Telemetry:
    """What one step emits: sign-ins, an event, a log line or a file, ``repeat`` times."""

    kind: str
    """``signin`` (identity), ``event`` (Sigma, EVTX-JSON), ``line`` (web: Sigma; app: watch),
    ``file`` (scan)."""
    repeat: int = 1
    every_s: float = 0.0
    fields: Mapping[str, Any] = field(default_factory=dict)
    event: Mapping[str, Any] = field(default_factory=dict)
    stream: str = ""
    text: str = ""
    path: str = ""
    content: str = ""
    remove_after_s: float | None = None
    """For a file: removed from the tree this long after it was added (a secret committed, then removed)."""


@dataclass(frozen=True)
class LiveAction:
    """A safe real action run with ``--live``, only against a target listed in the exercise file."""

    action: str
    target: str
    paths: tuple[str, ...] = ("/",)


@dataclass(frozen=True)
class Step:
    """One step of the attack."""

    name: str
    at_s: float
    telemetry: tuple[Telemetry, ...]
    live: LiveAction | None = None


@dataclass(frozen=True)
class Expectation:
    """A detection the blue team's tooling should raise."""

    detector: str
    """``identity.brute-force``, ``sigma.<rule id>``, ``watch.window``, ``scan.<rule id>`` (or a family)."""
    within_s: float
    """Deadline after the scenario starts."""

    @property
    def family(self) -> str:
        """``identity``, ``sigma``, ``watch`` or ``scan``."""
        return self.detector.split(".", 1)[0]

    def matches(self, signature: str) -> bool:
        """True when an alert with ``signature`` (:func:`bastion.drills.detectors.signature`) is this one."""
        return signature == self.detector or signature.startswith(self.detector + ".")


@dataclass(frozen=True)
class Scenario:
    """One attack scenario."""

    id: str
    name: str
    techniques: tuple[Technique, ...]
    steps: tuple[Step, ...]
    expect: tuple[Expectation, ...]
    description: str = ""
    entities: Mapping[str, str] = field(default_factory=dict)
    references: Mapping[str, Any] = field(default_factory=dict)
    cleanup: tuple[str, ...] = ()
    path: str = ""

    @property
    def families(self) -> tuple[str, ...]:
        """The detector families its expectations need, in order, once each."""
        return tuple(dict.fromkeys(e.family for e in self.expect))

    @property
    def duration_s(self) -> float:
        """From the first step to the last telemetry of the last step."""
        end = 0.0
        for step in self.steps:
            for t in step.telemetry:
                end = max(end, step.at_s + t.every_s * (t.repeat - 1))
        return end


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / "scenario.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def schema_errors(data: Any, validator: jsonschema.Draft202012Validator | None = None) -> list[str]:
    """Every schema violation of ``data`` as ``where: message``, the shallowest first."""
    v = validator or _validator()
    errors = sorted(
        v.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))
    )
    out = []
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        out.append(f"{where}: {e.message[:200]}")
    return out


def _telemetry(d: Mapping[str, Any]) -> Telemetry:
    return Telemetry(
        kind=d["kind"],
        repeat=int(d.get("repeat", 1)),
        every_s=float(d.get("every_s", 0.0)),
        fields=dict(d.get("fields", {})),
        event=dict(d.get("event", {})),
        stream=str(d.get("stream", "")),
        text=str(d.get("text", "")),
        path=str(d.get("path", "")),
        content=str(d.get("content", "")),
        remove_after_s=float(d["remove_after_s"]) if "remove_after_s" in d else None,
    )


def parse_scenario(data: Any, source: str) -> Scenario:
    """A scenario from its parsed YAML; :class:`InputError` naming ``source`` and the first problem."""
    errors = schema_errors(data)
    if errors:
        raise InputError(f"{source}: invalid scenario at {errors[0]}")
    techniques = []
    for i, tid in enumerate(data["techniques"]):
        found = technique(tid)
        if found is None:
            raise InputError(f"{source}: invalid scenario at techniques/{i}: unknown ATT&CK technique {tid}")
        techniques.append(found)
    steps = []
    for s in data["steps"]:
        live = s.get("live")
        steps.append(
            Step(
                name=s["name"],
                at_s=float(s.get("at_s", 0.0)),
                telemetry=tuple(_telemetry(t) for t in s["telemetry"]),
                live=LiveAction(live["action"], live["target"], tuple(live.get("paths", ("/",))))
                if live
                else None,
            )
        )
    return Scenario(
        id=data["id"],
        name=data["name"],
        techniques=tuple(techniques),
        steps=tuple(steps),
        expect=tuple(Expectation(e["detector"], float(e["within_s"])) for e in data["expect"]),
        description=str(data.get("description", "")),
        entities=dict(data.get("entities", {})),
        references=dict(data.get("references", {})),
        cleanup=tuple(data.get("cleanup", ())),
        path=source,
    )


def load_scenario(path: Path) -> Scenario:
    """The scenario in ``path``; :class:`InputError` (one line) when it cannot be used."""
    return parse_scenario(read_yaml_mapping(path, what="scenario"), str(path))


def library(paths: Iterable[Path] | None = None) -> list[Scenario]:
    """Every scenario in the built-in library (or in ``paths``: files or directories), sorted by id;
    :class:`InputError` on the first bad file or a duplicate id."""
    files: list[Path] = []
    for p in paths if paths is not None else [LIBRARY]:
        files.extend(sorted(p.glob("*.yml")) + sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    seen: dict[str, Scenario] = {}
    for f in files:
        s = load_scenario(f)
        if s.id in seen:
            raise InputError(f"{f}: scenario id {s.id!r} already defined in {seen[s.id].path}")
        seen[s.id] = s
    return [seen[k] for k in sorted(seen)]
