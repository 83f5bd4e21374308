"""The readiness mapping data file: evidence kinds, their dimensions, and the activities they prove."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bastion.errors import InputError
from bastion.ready.evidence import Dimension, EvidenceKind
from bastion.structured import read_yaml_mapping

__all__ = ["KindInfo", "Mapping", "load_mapping"]


@dataclass(frozen=True)
class KindInfo:
    """What one evidence kind means for readiness."""

    kind: EvidenceKind
    dimension: Dimension
    title: str
    max_age_days: int
    """Evidence older than this no longer counts (it is shown as stale)."""
    action: str
    """What to do to produce this evidence."""
    command: str
    """The Bastion command (or practice) that gives the evidence."""
    question: str = ""
    """For process kinds: the questionnaire question a person answers."""


@dataclass(frozen=True)
class Mapping:
    """The whole mapping: kinds, verdict thresholds, and activity -> kinds for DSOMM and SAMM."""

    kinds: dict[EvidenceKind, KindInfo]
    ready_at: float
    partly_at: float
    dsomm: dict[str, tuple[EvidenceKind, ...]]
    samm: dict[str, tuple[EvidenceKind, ...]]

    def of(self, dimension: Dimension) -> list[KindInfo]:
        """The kinds of one dimension, in file order."""
        return [k for k in self.kinds.values() if k.dimension is dimension]

    def questions(self) -> dict[str, KindInfo]:
        """Questionnaire questions by short id (``process.on-call`` -> ``on-call``)."""
        return {k.kind.value.split(".", 1)[1]: k for k in self.kinds.values() if k.question}


def _schema() -> dict[str, Any]:
    text = resources.files("bastion.ready").joinpath("schemas/mapping.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _kind(value: str, where: str) -> EvidenceKind:
    try:
        return EvidenceKind(value)
    except ValueError:
        raise InputError(f"{where}: {value!r} is not an evidence kind Bastion collects") from None


def load_mapping(path: Path | None = None) -> Mapping:
    """The packaged mapping, or the one at ``path``; :class:`InputError` naming the file and field."""
    if path is None:
        text = resources.files("bastion.ready").joinpath("mapping.yml").read_text("utf-8")
        name = "bastion/ready/mapping.yml"
        data = yaml.safe_load(text)
    else:
        name = str(path)
        data = read_yaml_mapping(path, what="readiness mapping")
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        field = ".".join(str(p) for p in first.absolute_path) or "(top)"
        raise InputError(f"{name}: {field}: {first.message}")
    kinds: dict[EvidenceKind, KindInfo] = {}
    for key, body in data["kinds"].items():
        kind = _kind(key, f"{name}: kinds")
        kinds[kind] = KindInfo(
            kind,
            Dimension(body["dimension"]),
            body["title"],
            body["max_age_days"],
            body["action"],
            body["command"],
            body.get("question", ""),
        )
    absent = [k.value for k in EvidenceKind if k not in kinds]
    if absent:
        raise InputError(f"{name}: kinds: no entry for {', '.join(absent)}")

    def activities(section: str) -> dict[str, tuple[EvidenceKind, ...]]:
        return {
            act: tuple(_kind(v, f"{name}: {section}.{act}") for v in values)
            for act, values in data[section].items()
        }

    verdict = data["verdict"]
    return Mapping(kinds, verdict["ready"], verdict["partly"], activities("dsomm"), activities("samm"))
