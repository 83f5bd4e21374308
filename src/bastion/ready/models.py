"""OWASP DSOMM and SAMM 2 loaded from a path the user gives (their text is never vendored).

DSOMM (GPL-3.0) is its generated ``model.yaml``: a YAML stream of ``meta`` then
``dimension -> sub-dimension -> activity name -> activity``. SAMM 2 (CC BY-SA 4.0) is the
``model/`` folder of owaspsamm/core: one YAML file per object. A file of another version or a
malformed one is one :class:`InputError` naming the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bastion.errors import InputError
from bastion.structured import read_text, read_yaml_mapping

__all__ = ["DSOMM_MAJOR", "Activity", "MaturityModel", "load_dsomm", "load_samm"]

DSOMM_MAJOR = "4"
"""The DSOMM model major version this mapping was written for (4.x: activity uuids are stable)."""
_SAMM_ID = re.compile(r"^([GDIVO])-([A-Z]{2})-([123])-([AB])$")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Activity:
    """One activity of a maturity model."""

    id: str
    """DSOMM: the activity uuid; SAMM: ``<function>-<practice>-<level>-<stream>`` (``I-SB-1-A``)."""
    name: str
    group: str
    """DSOMM dimension or SAMM security practice."""
    level: int


@dataclass(frozen=True)
class MaturityModel:
    """A loaded model: its name, version and activities."""

    name: str
    version: str
    activities: tuple[Activity, ...]

    def ids(self) -> set[str]:
        """Every activity id."""
        return {a.id for a in self.activities}


def load_dsomm(path: Path) -> MaturityModel:
    """DSOMM from ``model.yaml`` (or a folder holding it)."""
    file = path / "model.yaml" if path.is_dir() else path
    text = read_text(file, what="DSOMM model")
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{file}: DSOMM model is not valid YAML{where}") from None
    if len(docs) != 2 or not isinstance(docs[0], dict) or not isinstance(docs[1], dict):
        raise InputError(
            f"{file}: expected the DSOMM generated model (a 'meta' document, then the dimensions)"
        )
    meta = docs[0].get("meta")
    version = str(meta.get("version", "")) if isinstance(meta, dict) else ""
    if not version:
        raise InputError(f"{file}: meta.version is missing")
    if version.split(".")[0] != DSOMM_MAJOR:
        raise InputError(f"{file}: meta.version {version} is not supported (DSOMM {DSOMM_MAJOR}.x)")
    activities: list[Activity] = []
    for dimension, subs in docs[1].items():
        if not isinstance(subs, dict):
            raise InputError(f"{file}: {dimension}: expected sub-dimensions")
        for sub, acts in subs.items():
            if not isinstance(acts, dict):
                raise InputError(f"{file}: {dimension}.{sub}: expected activities")
            for name, body in acts.items():
                where = f"{file}: {dimension}.{sub}.{name}"
                if not isinstance(body, dict):
                    raise InputError(f"{where}: expected an activity mapping")
                uuid, level = body.get("uuid"), body.get("level")
                if not isinstance(uuid, str) or not uuid:
                    raise InputError(f"{where}.uuid: missing or not a string")
                if not isinstance(level, int) or not 1 <= level <= 5:
                    raise InputError(f"{where}.level: expected 1 to 5")
                activities.append(Activity(uuid, str(name), str(dimension), level))
    if not activities:
        raise InputError(f"{file}: no activities")
    return MaturityModel("DSOMM", version, tuple(activities))


def load_samm(path: Path) -> MaturityModel:
    """SAMM 2 from its ``model/`` folder (or the folder holding ``model/``)."""
    root = path / "model" if (path / "model").is_dir() else path
    if not root.is_dir():
        raise InputError(f"{path}: not a folder (expected the SAMM 2 'model' folder)")
    practices: dict[tuple[str, str], str] = {}
    for sub in ("security_practices", "activities", "streams"):
        if not (root / sub).is_dir():
            raise InputError(f"{root}: {sub}/ is missing: not an OWASP SAMM 2 model folder")
    for file in sorted((root / "security_practices").glob("*.yml")):
        data = read_yaml_mapping(file, what="SAMM practice")
        short, name = data.get("shortName"), data.get("name")
        if not isinstance(short, str) or not isinstance(name, str):
            raise InputError(f"{file}: shortName and name: expected strings")
        practices[(file.name[0], short)] = name
    activities: list[Activity] = []
    for file in sorted((root / "activities").glob("*.yml")):
        match = _SAMM_ID.match(file.stem)
        if match is None:
            raise InputError(f"{file}: file name is not a SAMM 2 activity id (like I-SB-1-A)")
        data = read_yaml_mapping(file, what="SAMM activity")
        title = data.get("title")
        if not isinstance(title, str) or not title:
            raise InputError(f"{file}: title: missing or not a string")
        for key in ("stream", "level", "id"):
            if not isinstance(data.get(key), str):
                raise InputError(f"{file}: {key}: missing (not a SAMM 2 activity)")
        function, short, level, _ = match.groups()
        practice = practices.get((function, short))
        if practice is None:
            raise InputError(
                f"{file}: no security practice {function}-{short} in {root / 'security_practices'}"
            )
        activities.append(Activity(file.stem, title, practice, int(level)))
    if not activities:
        raise InputError(f"{root / 'activities'}: no activities")
    return MaturityModel("SAMM", "2", tuple(activities))
