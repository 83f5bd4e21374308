"""Targets of an exercise from CSV or LDIF: every good row imported, one error line per bad one.

CSV columns (header row, any order, case-insensitive): ``email`` (required), ``name``,
``department``, ``manager``, ``location``, ``timezone``. LDIF entries: ``mail``, ``cn`` or
``displayName``, ``department`` or ``ou``, ``manager`` (a DN: its first RDN value is kept),
``l`` (locality), base64 values (``attr:: ...``) and folded lines included.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import available_timezones

from bastion.errors import InputError
from bastion.structured import read_text

__all__ = [
    "ImportResult",
    "Target",
    "is_excluded",
    "parse_csv",
    "parse_gophish_groups",
    "parse_ldif",
    "read_exclusions",
    "read_targets",
    "valid_email",
]

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
_COLUMNS = ("email", "name", "department", "manager", "location", "timezone")
_LIMIT = 200


@dataclass(frozen=True)
class Target:
    """One person: the address is the key; the rest groups results."""

    email: str
    name: str = ""
    department: str = ""
    manager: str = ""
    location: str = ""
    timezone: str = ""

    @property
    def domain(self) -> str:
        """The part after ``@``, lower case."""
        return self.email.rpartition("@")[2].lower()


@dataclass
class ImportResult:
    """What a file gave: the targets (duplicates dropped, first kept) and one line per bad row."""

    targets: list[Target] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set, repr=False)

    def add(self, target: Target) -> None:
        """Keep ``target`` unless its address was seen already."""
        if target.email not in self._seen:
            self._seen.add(target.email)
            self.targets.append(target)


def valid_email(value: str) -> bool:
    """Whether ``value`` is a plain ``local@domain.tld`` address (no display name, no spaces)."""
    return len(value) <= 320 and _EMAIL.match(value) is not None


def _check(where: str, values: dict[str, str]) -> Target | str:
    """A :class:`Target` from cleaned ``values``, or the error line for ``where``."""
    email = values.get("email", "").strip().lower()
    if not email:
        return f"{where}: email missing"
    if not valid_email(email):
        return f"{where}: invalid email address {email[:80]!r}"
    zone = values.get("timezone", "").strip()
    if zone and zone not in _zones():
        return f"{where}: unknown timezone {zone[:64]!r}"
    clean = {k: values.get(k, "").strip()[:_LIMIT] for k in _COLUMNS[1:]}
    return Target(email=email, **clean)


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def parse_csv(text: str, source: str) -> ImportResult:
    """Targets from CSV ``text``; :class:`InputError` when there is no ``email`` column."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise InputError(f"{source}: no 'email' column in the header (columns: {', '.join(_COLUMNS)})")
    reader.fieldnames = header
    try:
        for row in reader:
            where = f"{source}:{reader.line_num}"
            if None in row:
                result.errors.append(f"{where}: more fields than the header has")
                continue
            values = {k: v or "" for k, v in row.items() if k in _COLUMNS}
            checked = _check(where, values)
            if isinstance(checked, str):
                result.errors.append(checked)
            else:
                result.add(checked)
    except csv.Error as exc:
        result.errors.append(f"{source}:{reader.line_num}: malformed CSV ({exc}); rows after it not read")
    return result


def _ldif_records(text: str) -> list[tuple[int, list[str]]]:
    """Entries as (first line number, unfolded lines), comments dropped."""
    records: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 1
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(" ") and current:
            current[-1] += line[1:]
        elif not line.strip():
            if current:
                records.append((start, current))
            current = []
        elif not line.startswith("#"):
            if not current:
                start = number
            current.append(line)
    if current:
        records.append((start, current))
    return records


_LDIF_KEYS = {
    "mail": "email",
    "cn": "name",
    "displayname": "name",
    "department": "department",
    "ou": "department",
    "manager": "manager",
    "l": "location",
    "timezone": "timezone",
}


def parse_ldif(text: str, source: str) -> ImportResult:
    """Targets from LDIF ``text`` (entries without ``mail``, such as OUs, are skipped silently
    only when they have no person object class; a person without one is an error)."""
    result = ImportResult()
    for start, lines in _ldif_records(text):
        where = f"{source}:{start}"
        values: dict[str, str] = {}
        classes: set[str] = set()
        error = ""
        for line in lines:
            name, sep, rest = line.partition(":")
            if not sep:
                error = f"{where}: malformed line {line[:60]!r}"
                break
            key = name.strip().lower()
            if rest.startswith(":"):
                try:
                    value = base64.b64decode(rest[1:].strip(), validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError):
                    error = f"{where}: attribute {key} is not valid base64 UTF-8"
                    break
            else:
                value = rest.strip()
            if key == "objectclass":
                classes.add(value.lower())
            target_key = _LDIF_KEYS.get(key)
            if target_key and target_key not in values:
                values[target_key] = _rdn_value(value) if key == "manager" else value
        if error:
            result.errors.append(error)
            continue
        if "email" not in values and not classes & {
            "person",
            "inetorgperson",
            "organizationalperson",
            "user",
        }:
            continue
        checked = _check(where, values)
        if isinstance(checked, str):
            result.errors.append(checked)
        else:
            result.add(checked)
    return result


def _rdn_value(dn: str) -> str:
    """``cn=Ana Diaz,ou=People,dc=example`` -> ``Ana Diaz``; anything else unchanged."""
    first = dn.split(",", 1)[0]
    return first.partition("=")[2].strip() if "=" in first else dn


def parse_gophish_groups(text: str, source: str) -> ImportResult:
    """Targets of a GoPhish groups export (``/api/groups/``: a group or a list of groups, each with
    ``targets`` of ``email``, ``first_name``, ``last_name``; GoPhish's ``position`` is a job title
    and is not kept)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: GoPhish groups export is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    groups = data if isinstance(data, list) else [data]
    result = ImportResult()
    for group_index, group in enumerate(groups, 1):
        targets = group.get("targets") if isinstance(group, dict) else None
        if not isinstance(targets, list):
            result.errors.append(f"{source}: group {group_index}: no 'targets' list")
            continue
        for index, entry in enumerate(targets, 1):
            where = f"{source}: group {group_index} target {index}"
            if not isinstance(entry, dict):
                result.errors.append(f"{where}: not an object")
                continue
            name = f"{entry.get('first_name') or ''} {entry.get('last_name') or ''}".strip()
            checked = _check(where, {"email": str(entry.get("email") or ""), "name": name})
            if isinstance(checked, str):
                result.errors.append(checked)
            else:
                result.add(checked)
    return result


def read_targets(path: Path) -> ImportResult:
    """Targets from a ``.csv``, ``.ldif`` or GoPhish groups ``.json`` file; :class:`InputError`
    for an unreadable file."""
    text = read_text(path, what="targets file")
    suffix = path.suffix.lower()
    if suffix in (".ldif", ".ldi"):
        return parse_ldif(text, str(path))
    if suffix == ".csv":
        return parse_csv(text, str(path))
    if suffix == ".json":
        return parse_gophish_groups(text, str(path))
    raise InputError(f"{path}: targets file must be .csv, .ldif or a GoPhish groups .json export")


def read_exclusions(path: Path) -> set[str]:
    """Addresses or ``@domain`` entries, one a line (``#`` comments), lower case."""
    entries = set()
    for line in read_text(path, what="exclusions file").splitlines():
        entry = line.split("#", 1)[0].strip().lower()
        if entry:
            entries.add(entry)
    return entries


def is_excluded(target: Target, exclusions: set[str]) -> bool:
    """Whether the address or its ``@domain`` is listed."""
    return target.email in exclusions or f"@{target.domain}" in exclusions
