"""Atomic Red Team atomics (MIT) as references: which atomic tests implement a scenario's techniques.

Reads atomics YAML files (``atomics/T1110.001/T1110.001.yaml``: ``attack_technique``,
``display_name``, ``atomic_tests`` with ``name``, ``auto_generated_guid``, ``supported_platforms``)
from a file or a checkout's ``atomics`` directory. Nothing in them is executed: Bastion only links
the tests to its scenarios and checks the scenarios' ``references.atomic`` entries against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bastion.drills.scenario import Scenario
from bastion.errors import InputError
from bastion.structured import read_yaml_mapping

__all__ = ["AtomicTechnique", "AtomicTest", "check_references", "read_atomics"]


@dataclass(frozen=True)
class AtomicTest:
    """One atomic test."""

    name: str
    guid: str
    platforms: tuple[str, ...]


@dataclass(frozen=True)
class AtomicTechnique:
    """The atomic tests of one ATT&CK technique."""

    technique: str
    name: str
    tests: tuple[AtomicTest, ...]


def _one(path: Path) -> AtomicTechnique:
    data = read_yaml_mapping(path, what="atomics file")
    technique, tests = data.get("attack_technique"), data.get("atomic_tests")
    if not isinstance(technique, str) or not isinstance(tests, list):
        raise InputError(f"{path}: not an Atomic Red Team atomics file (attack_technique, atomic_tests)")
    out: list[AtomicTest] = []
    for i, t in enumerate(tests):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            raise InputError(f"{path}: atomic_tests/{i}: a test needs a name")
        platforms = t.get("supported_platforms") or []
        out.append(
            AtomicTest(t["name"], str(t.get("auto_generated_guid", "")), tuple(str(p) for p in platforms))
        )
    return AtomicTechnique(technique, str(data.get("display_name", "")), tuple(out))


def read_atomics(paths: Iterable[Path]) -> dict[str, AtomicTechnique]:
    """Technique id -> its atomic tests, from atomics files or directories holding them."""
    found: dict[str, AtomicTechnique] = {}
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: atomics not found")
        files = sorted(path.rglob("T*.yaml")) if path.is_dir() else [path]
        for f in files:
            a = _one(f)
            found[a.technique] = a
    return found


def check_references(
    scenarios: Sequence[Scenario], atomics: Mapping[str, AtomicTechnique]
) -> list[tuple[str, str, str]]:
    """(scenario, technique, what) for each scenario technique: how many atomic tests cover it, and
    each ``references.atomic`` entry whose test (by guid, else name) the atomics do not hold."""
    rows: list[tuple[str, str, str]] = []
    for s in scenarios:
        for t in s.techniques:
            have = atomics.get(t.id)
            rows.append((s.id, t.id, f"{len(have.tests)} atomic test(s)" if have else "no atomic test"))
        for ref in s.references.get("atomic", ()):
            technique = str(ref.get("technique", ""))
            have = atomics.get(technique)
            guid, name = ref.get("guid"), ref.get("test")
            if have is None:
                if guid or name:  # a technique-only reference needs no file here
                    rows.append((s.id, technique, "referenced technique has no atomics file"))
                continue
            if guid and not any(x.guid == guid for x in have.tests):
                rows.append((s.id, technique, f"unknown atomic test guid {guid}"))
            elif name and not guid and not any(x.name == name for x in have.tests):
                rows.append((s.id, technique, f"unknown atomic test {name!r}"))
    return rows
