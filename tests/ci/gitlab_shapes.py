"""Checks of GitLab security reports that mirror GitLab's 15.0.7 report schemas (sast,
secret-detection, dependency-scanning: MIT, in GitLab's repository at
lib/gitlab/ci/parsers/security/validators/schemas/15.0.7/). The schema files stay in GitLab's
repository; bench/ci/gitlab_schema_check.py validates Bastion's reports against the real files and
mutation-tests this mirror against them: every required key, enum, pattern, length and type the
schemas put on a field Bastion writes is checked here (bench/ci/RESULTS.md has the count).

Keys the schemas define but Bastion does not write (cvss_vectors, tracking, flags, details,
options, primary_identifiers...) are not mirrored: a report holding one fails with "not mirrored",
so whoever starts writing one adds its check here instead of letting it pass unchecked.

Beyond the schemas, Bastion's own rules: vulnerability ids are unique UUIDs, lines start at 1, a
SAST finding names its file, a dependency names its package, at most 20 identifiers (the limit of
GitLab's later schema versions).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

KINDS = ("sast", "secret_detection", "dependency_scanning")
SEVERITIES = ("Info", "Unknown", "Low", "Medium", "High", "Critical")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
URL = re.compile(r"^(https?|ftp)://.+")
HTTP_URL = re.compile(r"^https?://.+")
NAME_MAX, SOLUTION_MAX, DESCRIPTION_MAX = 255, 7000, 1_048_576
IDENTIFIERS_MAX = 20


def _object(
    value: Any, where: str, required: tuple[str, ...] = (), known: tuple[str, ...] | None = None
) -> None:
    assert isinstance(value, dict), f"{where}: must be an object"
    missing = [key for key in required if key not in value]
    assert not missing, f"{where}: missing {missing}"
    if known is not None:
        unknown = sorted(set(value) - set(known) - set(required))
        assert not unknown, f"{where}: {unknown} not mirrored in gitlab_shapes.py (add their schema checks)"


def _string(
    value: Any,
    where: str,
    *,
    min_length: int = 0,
    max_length: int | None = None,
    pattern: re.Pattern[str] | None = None,
    enum: tuple[str, ...] | None = None,
) -> None:
    assert isinstance(value, str), f"{where}: must be a string, not {type(value).__name__}"
    assert len(value) >= min_length, f"{where}: shorter than {min_length}"
    assert max_length is None or len(value) <= max_length, f"{where}: longer than {max_length}"
    assert pattern is None or pattern.search(value), f"{where}: {value!r} does not match {pattern.pattern}"
    assert enum is None or value in enum, f"{where}: {value!r} not one of {enum}"


def _number(value: Any, where: str) -> None:
    assert isinstance(value, int | float) and not isinstance(value, bool), f"{where}: must be a number"


def _array(value: Any, where: str, min_items: int = 0) -> list[Any]:
    assert isinstance(value, list), f"{where}: must be an array"
    assert len(value) >= min_items, f"{where}: fewer than {min_items} items"
    return value


def _optional(mapping: dict[str, Any], key: str, check: Any, where: str, **limits: Any) -> None:
    if key in mapping:
        check(mapping[key], f"{where}.{key}", **limits)


def _tool(tool: Any, where: str, url: re.Pattern[str] | None) -> None:
    _object(tool, where, ("id", "name", "version", "vendor"), ("url",))
    for key in ("id", "name", "version"):
        _string(tool[key], f"{where}.{key}", min_length=1)
    _optional(tool, "url", _string, where, pattern=url)
    _object(tool["vendor"], f"{where}.vendor", ("name",), ())
    _string(tool["vendor"]["name"], f"{where}.vendor.name", min_length=1)


def _scan(scan: Any, kind: str) -> None:
    required = ("analyzer", "end_time", "scanner", "start_time", "status", "type")
    _object(scan, "scan", required, ("messages",))
    _tool(scan["analyzer"], "scan.analyzer", HTTP_URL)
    _tool(scan["scanner"], "scan.scanner", None)
    _string(scan["type"], "scan.type", enum=(kind,))
    _string(scan["status"], "scan.status", enum=("success", "failure"))
    _string(scan["start_time"], "scan.start_time", pattern=TIME)
    _string(scan["end_time"], "scan.end_time", pattern=TIME)
    for index, message in enumerate(_array(scan.get("messages", []), "scan.messages")):
        where = f"scan.messages[{index}]"
        _object(message, where, ("level", "value"), ())
        _string(message["level"], f"{where}.level", enum=("info", "warn", "fatal"))
        _string(message["value"], f"{where}.value", min_length=1)


def _identifier(identifier: Any, where: str) -> None:
    _object(identifier, where, ("type", "name", "value"), ("url",))
    for key in ("type", "name", "value"):
        _string(identifier[key], f"{where}.{key}", min_length=1)
    _optional(identifier, "url", _string, where, pattern=URL)


def _lines(location: dict[str, Any], where: str) -> None:
    for key in ("start_line", "end_line"):
        if key in location:
            _number(location[key], f"{where}.{key}")
            assert location[key] >= 1, f"{where}.{key}: lines start at 1"


def _dependency(dependency: Any, where: str) -> None:
    _object(dependency, where, ("package", "version"), ("iid", "direct", "dependency_path"))
    _object(dependency["package"], f"{where}.package", ("name",), ())
    _string(dependency["package"]["name"], f"{where}.package.name", min_length=1)  # min 1: Bastion's
    _string(dependency["version"], f"{where}.version")
    _optional(dependency, "iid", _number, where)
    if "direct" in dependency:
        assert isinstance(dependency["direct"], bool), f"{where}.direct: must be a boolean"
    for index, ancestor in enumerate(
        _array(dependency.get("dependency_path", []), f"{where}.dependency_path")
    ):
        _object(ancestor, f"{where}.dependency_path[{index}]", ("iid",), ())
        _number(ancestor["iid"], f"{where}.dependency_path[{index}].iid")


def _location(location: Any, kind: str, where: str) -> None:
    if kind == "dependency_scanning":
        _object(location, where, ("file", "dependency"), ())
        _string(location["file"], f"{where}.file", min_length=1)
        _dependency(location["dependency"], f"{where}.dependency")
        return
    code_keys = ("file", "start_line", "end_line", "class", "method")
    if kind == "secret_detection":
        _object(location, where, ("commit",), code_keys)
        commit = location["commit"]
        _object(commit, f"{where}.commit", ("sha",), ("author", "date", "message"))
        _string(commit["sha"], f"{where}.commit.sha", min_length=1)
        for key in ("author", "date", "message"):
            _optional(commit, key, _string, f"{where}.commit")
    else:
        _object(location, where, ("file",), code_keys)  # file: required by Bastion, not by GitLab
    for key in ("file", "class", "method"):
        _optional(location, key, _string, where)
    _lines(location, where)


def _vulnerability(vuln: Any, kind: str, where: str) -> None:
    known = ("name", "description", "severity", "solution", "links")
    if kind != "dependency_scanning":
        known += ("raw_source_code_extract",)
    _object(vuln, where, ("id", "identifiers", "location"), known)
    _string(vuln["id"], f"{where}.id", min_length=1)
    uuid.UUID(vuln["id"])  # Bastion's ids are UUIDs (GitLab recommends it)
    _optional(vuln, "name", _string, where, max_length=NAME_MAX)
    _optional(vuln, "description", _string, where, max_length=DESCRIPTION_MAX)
    _optional(vuln, "solution", _string, where, max_length=SOLUTION_MAX)
    _optional(vuln, "severity", _string, where, enum=SEVERITIES)
    _optional(vuln, "raw_source_code_extract", _string, where)
    identifiers = _array(vuln["identifiers"], f"{where}.identifiers", min_items=1)
    assert len(identifiers) <= IDENTIFIERS_MAX, f"{where}.identifiers: more than {IDENTIFIERS_MAX}"
    for index, identifier in enumerate(identifiers):
        _identifier(identifier, f"{where}.identifiers[{index}]")
    for index, link in enumerate(_array(vuln.get("links", []), f"{where}.links")):
        _object(link, f"{where}.links[{index}]", ("url",), ("name",))
        _string(link["url"], f"{where}.links[{index}].url", pattern=URL)
        _optional(link, "name", _string, f"{where}.links[{index}]")
    _location(vuln["location"], kind, f"{where}.location")


def check_report(report: dict[str, Any], kind: str) -> None:
    """Raise AssertionError naming the first place ``report`` breaks GitLab's ``kind`` schema
    (``sast``, ``secret_detection`` or ``dependency_scanning``) or Bastion's own rules."""
    assert kind in KINDS, kind
    dependency_scanning = kind == "dependency_scanning"
    required = ("version", "scan", "vulnerabilities", *(("dependency_files",) if dependency_scanning else ()))
    _object(report, "report", required, ())
    _string(report["version"], "version", pattern=VERSION)
    _scan(report["scan"], kind)
    ids: set[str] = set()
    for index, vuln in enumerate(_array(report["vulnerabilities"], "vulnerabilities")):
        where = f"vulnerabilities[{index}]"
        _vulnerability(vuln, kind, where)
        assert vuln["id"] not in ids, f"{where}: duplicate id"
        ids.add(vuln["id"])
    if dependency_scanning:
        for index, entry in enumerate(_array(report["dependency_files"], "dependency_files")):
            where = f"dependency_files[{index}]"
            _object(entry, where, ("path", "package_manager", "dependencies"), ())
            _string(entry["path"], f"{where}.path", min_length=1)
            _string(entry["package_manager"], f"{where}.package_manager", min_length=1)
            for position, dependency in enumerate(_array(entry["dependencies"], f"{where}.dependencies")):
                _dependency(dependency, f"{where}.dependencies[{position}]")
