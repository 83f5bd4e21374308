"""Bandit JSON (``bandit -f json``): ``results`` and ``errors``.

Bandit's ``code`` is the flagged lines prefixed with their numbers; the numbers are dropped and
string literals masked (B105-B107 flag hard-coded passwords, whose value is in the line).
"""

from __future__ import annotations

import re
from typing import Any

from bastion.findings import Confidence, Location
from bastion.imports.build import Builder, cwe_ids
from bastion.imports.fields import arr, get, items, obj, path_of, pos_int, text
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.scan.sast.common import evidence_text, redact_literals

__all__ = ["PARSER"]

_NUMBERED = re.compile(r"^(\d+) ?(.*)$")
_CONFIDENCE = {"HIGH": Confidence.HIGH, "MEDIUM": Confidence.MEDIUM, "LOW": Confidence.LOW}


def _detect(doc: Document) -> bool:
    data = doc.data
    if (
        doc.kind is not DocKind.JSON
        or not isinstance(data, dict)
        or not isinstance(data.get("results"), list)
    ):
        return False
    first = next(iter(data["results"]), None)
    return (isinstance(first, dict) and "test_id" in first) or (
        first is None and "metrics" in data and "generated_at" in data
    )


def _code(result: dict[str, Any]) -> list[str]:
    """The flagged lines without Bandit's line-number prefixes, only those in ``line_range``."""
    wanted = {n for n in arr(result.get("line_range")) if isinstance(n, int)}
    lines = []
    for raw in text(result.get("code")).splitlines():
        match = _NUMBERED.match(raw)
        if match and (not wanted or int(match[1]) in wanted):
            lines.append(match[2])
    return lines


def _parse(doc: Document, build: Builder) -> None:
    for result in items(doc.data["results"], "results"):
        _result(build, obj(result))
    for error in arr(doc.data.get("errors")):
        error = obj(error)
        build.notice(f"bandit: {text(error.get('reason')) or 'error'}"[:300], path_of(error.get("filename")))


def _result(build: Builder, result: dict[str, Any]) -> None:
    test = text(result["test_id"])
    code = _code(result)
    lines = [n for n in arr(result.get("line_range")) if isinstance(n, int)]
    location = Location(
        path=path_of(result.get("filename")),
        start_line=pos_int(result.get("line_number")),
        end_line=pos_int(lines[-1]) if lines else None,
        start_column=(pos_int(result.get("col_offset")) or 0) + 1
        if isinstance(result.get("col_offset"), int)
        else None,
    )
    issue = text(result.get("issue_text"))
    build.add(
        "code",
        test,
        title=f"{test} {text(result.get('test_name'))}".strip(),
        severity=build.severity(result.get("issue_severity")),
        location=location,
        message=issue,
        content="\n".join(code) or issue,
        evidence=redact_literals(evidence_text(code)),
        confidence=_CONFIDENCE.get(text(result.get("issue_confidence")).upper(), Confidence.MEDIUM),
        cwe=cwe_ids([get(result, "issue_cwe", "id")]),
        help_uri=text(result.get("more_info")),
    )


PARSER = ToolParser("bandit", _detect, _parse)
