"""The three framework catalogs Bastion reports against, read from ``data/frameworks.json``.

Control references on findings are ``<framework>:<id>``: ``nist-800-53-r5:SC-28``,
``cis-v8:3.11``, ``iso27001-2022:A.8.24``. CIS and ISO labels are Bastion's own words
(``labels.yml``); neither text is reproduced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
__all__ = ["FRAMEWORKS", "Catalog", "Control", "catalogs", "crosswalk", "family_of"]

NIST = "nist-800-53-r5"
CIS = "cis-v8"
ISO = "iso27001-2022"
FRAMEWORKS = (NIST, CIS, ISO)
TITLES = {
    NIST: "NIST SP 800-53 Rev. 5",
    CIS: "CIS Controls v8",
    ISO: "ISO/IEC 27001:2022 Annex A",
}


@dataclass(frozen=True)
class Control:
    """One control, safeguard or Annex A control."""

    id: str
    family: str
    """NIST family (``SC``), CIS control number (``3``), ISO theme (``A.8``)."""
    title: str
    baselines: tuple[str, ...] = ()
    """NIST baselines (low, moderate, high, privacy) or CIS implementation groups."""


@dataclass(frozen=True)
class Catalog:
    """A framework's controls and family names."""

    framework: str
    title: str
    controls: dict[str, Control]
    families: dict[str, str]


def _data() -> dict[str, Any]:
    text = (resources.files("bastion.comply") / "data" / "frameworks.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _labels() -> dict[str, dict[str, str]]:
    text = (resources.files("bastion.comply") / "data" / "labels.yml").read_text(encoding="utf-8")
    # bastion: ignore[sast.bandit.B506,sast.semgrep.*yaml*] safe loader: libyaml CSafeLoader or SafeLoader
    loaded: dict[str, dict[str, str]] = yaml.load(text, Loader=_LOADER)
    return loaded


def family_of(framework: str, control_id: str) -> str:
    """``SC`` for ``SC-28(1)``, ``3`` for ``3.11``, ``A.8`` for ``A.8.24``."""
    if framework == NIST:
        return control_id.split("-", 1)[0]
    if framework == CIS:
        return control_id.split(".", 1)[0]
    return ".".join(control_id.split(".")[:2])


@cache
def catalogs() -> dict[str, Catalog]:
    """The three catalogs, keyed by framework id."""
    data = _data()
    labels = _labels()
    nist = {
        cid: Control(cid, family, title, tuple(baselines))
        for cid, family, title, baselines in data["nist"]["controls"]
    }
    cis: dict[str, Control] = {}
    cis_families: dict[str, str] = {}
    for control in data["cis"]["controls"]:
        cis_families[control["id"]] = control["label"]
        for sid, groups in control["safeguards"]:
            title = labels["cis"].get(sid) or f"Safeguard {sid} ({control['label']})"
            cis[sid] = Control(sid, control["id"], title, tuple(groups))
    themes = data["iso"]["themes"]
    iso: dict[str, Control] = {}
    for cid, label in data["iso"]["controls"]:
        family = family_of(ISO, cid)
        title = labels["iso"].get(cid) or label or f"{themes[family]} control {cid}"
        iso[cid] = Control(cid, family, title)
    return {
        NIST: Catalog(NIST, TITLES[NIST], nist, dict(data["nist"]["families"])),
        CIS: Catalog(CIS, TITLES[CIS], cis, cis_families),
        ISO: Catalog(ISO, TITLES[ISO], iso, {k: f"{v} controls" for k, v in themes.items()}),
    }


@cache
def crosswalk() -> dict[str, tuple[str, ...]]:
    """NIST id -> ISO Annex A ids, from NIST's OLIR mapping."""
    pairs: dict[str, list[str]] = {}
    for nist_id, iso_id in _data()["nist_to_iso"]:
        pairs.setdefault(nist_id, []).append(iso_id)
    return {k: tuple(v) for k, v in pairs.items()}
