"""Which framework controls a rule id belongs to, from ``mapping.yml``; used by the runner to
put ``controls`` on every finding of every scanner, and by the posture computation."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from bastion.comply.catalog import CIS, ISO, NIST, catalogs, crosswalk
from bastion.errors import InputError
from bastion.findings import Finding

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
__all__ = ["Evidence", "MappingEntry", "attach_controls", "controls_for", "evidence_rules", "mapping_entries"]

_ENHANCEMENT = re.compile(r"^([A-Z]{2}-\d+)\(\d+\)$")


@dataclass(frozen=True)
class MappingEntry:
    """One ``rules`` entry: a glob over rule ids and the controls it brings."""

    pattern: str
    nist: tuple[str, ...]
    cis: tuple[str, ...]
    iso: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """A process fact a run can prove (a scanner ran, an SBOM exists) and its controls."""

    id: str
    title: str
    controls: tuple[str, ...]
    scanner: str | None = None
    stale_notice: str | None = None
    sbom: bool = False


def _iso_for(nist_ids: tuple[str, ...]) -> list[str]:
    walk = crosswalk()
    found: list[str] = []
    for nist_id in nist_ids:
        derived = walk.get(nist_id)
        if derived is None:
            base = _ENHANCEMENT.match(nist_id)
            derived = walk.get(base[1], ()) if base else ()
        found.extend(derived)
    return found


def _check(entry: dict[str, Any], where: str) -> None:
    cats = catalogs()
    for key, framework in (("nist", NIST), ("cis", CIS), ("iso", ISO)):
        for cid in entry.get(key, []):
            if cid not in cats[framework].controls:
                raise InputError(
                    f"comply/mapping.yml {where}: {key} id {cid!r} is not in the {framework} catalog"
                )


@cache
def _document() -> dict[str, Any]:
    text = (resources.files("bastion.comply") / "mapping.yml").read_text(encoding="utf-8")
    # bastion: ignore[sast.bandit.B506,sast.semgrep.*yaml*] safe loader: libyaml CSafeLoader or SafeLoader
    loaded: dict[str, Any] = yaml.load(text, Loader=_LOADER)
    return loaded


@cache
def mapping_entries() -> tuple[MappingEntry, ...]:
    """Every rule entry, validated against the catalogs."""
    entries: list[MappingEntry] = []
    for index, raw in enumerate(_document()["rules"]):
        _check(raw, f"rules[{index}] ({raw.get('pattern')})")
        entries.append(
            MappingEntry(
                str(raw["pattern"]),
                tuple(raw.get("nist", [])),
                tuple(raw.get("cis", [])),
                tuple(raw.get("iso", [])),
            )
        )
    return tuple(entries)


def _refs(nist: tuple[str, ...], cis: tuple[str, ...], iso: tuple[str, ...]) -> tuple[str, ...]:
    refs = [f"{NIST}:{c}" for c in nist]
    refs += [f"{CIS}:{c}" for c in cis]
    refs += [f"{ISO}:{c}" for c in (*iso, *_iso_for(nist))]
    return tuple(dict.fromkeys(refs))


@cache
def controls_for(rule_id: str) -> tuple[str, ...]:
    """Framework references for ``rule_id``, NIST first, then CIS, then ISO; () when unmapped."""
    nist: list[str] = []
    cis: list[str] = []
    iso: list[str] = []
    for entry in mapping_entries():
        if fnmatch.fnmatchcase(rule_id, entry.pattern):
            nist.extend(entry.nist)
            cis.extend(entry.cis)
            iso.extend(entry.iso)
    return _refs(tuple(dict.fromkeys(nist)), tuple(dict.fromkeys(cis)), tuple(dict.fromkeys(iso)))


@cache
def evidence_rules() -> tuple[Evidence, ...]:
    """The process evidence Bastion recognises."""
    found: list[Evidence] = []
    for index, raw in enumerate(_document().get("evidence", [])):
        _check(raw, f"evidence[{index}] ({raw.get('id')})")
        refs = _refs(tuple(raw.get("nist", [])), tuple(raw.get("cis", [])), tuple(raw.get("iso", [])))
        found.append(
            Evidence(
                str(raw["id"]),
                str(raw["title"]),
                refs,
                raw.get("scanner"),
                raw.get("stale_notice"),
                bool(raw.get("sbom")),
            )
        )
    return tuple(found)


def attach_controls(finding: Finding) -> Finding:
    """``finding`` with the mapped controls added to those its scanner set."""
    mapped = controls_for(finding.rule_id)
    if not mapped or set(mapped) <= set(finding.controls):
        return finding
    return finding.with_changes(controls=tuple(dict.fromkeys((*finding.controls, *mapped))))
