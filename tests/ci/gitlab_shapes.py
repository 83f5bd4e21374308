"""Structural checks of GitLab security reports, mirroring the 15.0.7 schemas GitLab validates
with (read in GitLab's repository, MIT: lib/gitlab/ci/parsers/security/validators/schemas/15.0.7/
{secret-detection,dependency-scanning,sast}-report-format.json). The schema files themselves could
not be copied into this repository from here, so their required keys, enums, patterns and length
limits are written out below instead of validated with jsonschema."""

from __future__ import annotations

import re
import uuid
from typing import Any

SEVERITIES = {"Info", "Unknown", "Low", "Medium", "High", "Critical"}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
URL = re.compile(r"^(https?|ftp)://.+")


def _require(mapping: Any, keys: tuple[str, ...], where: str) -> None:
    assert isinstance(mapping, dict), f"{where} must be an object"
    missing = [key for key in keys if key not in mapping]
    assert not missing, f"{where}: missing {missing}"


def _tool(tool: Any, where: str) -> None:
    _require(tool, ("id", "name", "version", "vendor"), where)
    _require(tool["vendor"], ("name",), f"{where}.vendor")


def check_report(report: dict[str, Any], kind: str) -> None:
    """Raise AssertionError naming the first place ``report`` breaks GitLab's ``kind`` schema."""
    _require(report, ("version", "scan", "vulnerabilities"), "report")
    assert VERSION.match(report["version"]), report["version"]
    scan = report["scan"]
    _require(scan, ("analyzer", "scanner", "type", "start_time", "end_time", "status"), "scan")
    _tool(scan["analyzer"], "scan.analyzer")
    _tool(scan["scanner"], "scan.scanner")
    assert scan["type"] == kind
    assert scan["status"] in {"success", "failure"}
    assert TIME.match(scan["start_time"]) and TIME.match(scan["end_time"])
    for message in scan.get("messages", []):
        assert message["level"] in {"info", "warn", "fatal"} and message["value"]
    ids = set()
    for index, vuln in enumerate(report["vulnerabilities"]):
        where = f"vulnerabilities[{index}]"
        _require(vuln, ("id", "identifiers", "location"), where)
        uuid.UUID(vuln["id"])
        assert vuln["id"] not in ids, f"{where}: duplicate id"
        ids.add(vuln["id"])
        assert vuln.get("severity", "Unknown") in SEVERITIES
        assert 1 <= len(vuln["identifiers"]) <= 20
        for identifier in vuln["identifiers"]:
            _require(identifier, ("type", "name", "value"), f"{where}.identifiers")
            assert all(identifier[k] for k in ("type", "name", "value"))
            assert "url" not in identifier or URL.match(identifier["url"]), identifier["url"]
        assert len(vuln.get("name", "")) <= 255
        assert len(vuln.get("solution", "")) <= 7000
        assert len(vuln.get("description", "")) <= 1_048_576
        location = vuln["location"]
        if kind == "dependency_scanning":
            _require(location, ("file", "dependency"), f"{where}.location")
            assert location["file"], f"{where}.location.file is empty"
            _require(location["dependency"], ("package", "version"), f"{where}.location.dependency")
            assert location["dependency"]["package"]["name"]
        elif kind == "secret_detection":
            _require(location, ("commit",), f"{where}.location")
            assert location["commit"]["sha"]
        else:
            _require(location, ("file",), f"{where}.location")
        if "start_line" in location:
            assert location["start_line"] >= 1 and location.get("end_line", location["start_line"]) >= 1
    if kind == "dependency_scanning":
        _require(report, ("dependency_files",), "report")
        for entry in report["dependency_files"]:
            _require(entry, ("path", "package_manager", "dependencies"), "dependency_files[]")
            assert entry["path"] and entry["package_manager"]
            for dependency in entry["dependencies"]:
                _require(dependency, ("package", "version"), "dependency_files[].dependencies[]")
