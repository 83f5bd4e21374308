"""Checkov JSON (``checkov -o json``): one report per framework (a list when several ran).

Failed checks are findings; checks skipped by a ``checkov:skip`` comment are kept as suppressed with
its reason; passed checks are not results. Checkov run without its platform rates nothing: a check
Bastion has an equivalent policy for takes that policy's severity (``severity_source =
"equivalent"``), others the ``unrated`` level of ``tools.yml`` (medium, source ``default``).
The code block is shown with its string literals masked (it may hold a password).
"""

from __future__ import annotations

from typing import Any

from bastion.findings import Location
from bastion.imports.build import Builder
from bastion.imports.equivalents import iac_equivalent
from bastion.imports.fields import arr, entries, get, items, num, obj, path_of, pos_int, text
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.scan.sast.common import evidence_text, redact_literals

__all__ = ["PARSER"]


def _reports(doc: Document) -> list[dict[str, Any]]:
    return [obj(r) for r in doc.records()] if doc.kind is DocKind.JSON else []


def _detect(doc: Document) -> bool:
    reports = _reports(doc)
    return bool(reports) and "check_type" in reports[0] and "results" in reports[0]


def _parse(doc: Document, build: Builder) -> None:
    for report in _reports(doc):
        framework = text(report.get("check_type"))
        build.version = build.version or text(get(report, "summary", "checkov_version"))
        results = entries(report["results"], "results")
        for check in items(results.get("failed_checks"), "failed_checks"):
            _check(build, obj(check), framework, None)
        for check in items(results.get("skipped_checks"), "skipped_checks"):
            check = obj(check)
            reason = (
                text(get(check, "check_result", "suppress_comment")) or "skipped by a checkov:skip comment"
            )
            _check(build, check, framework, f"checkov:skip: {reason}")
        errors = num(get(report, "summary", "parsing_errors"))
        if errors:
            build.notice(
                f"checkov could not parse {int(errors)} {framework} file(s): their checks did not run"
            )


def _check(build: Builder, check: dict[str, Any], framework: str, suppressed: str | None) -> None:
    check_id = text(check["check_id"])
    lines = [pos_int(n) for n in arr(check.get("file_line_range"))]
    path = path_of(text(check.get("repo_file_path")) or text(check.get("file_path")))
    location = Location(
        path=path.lstrip("/") if path else None,
        start_line=lines[0] if lines else None,
        end_line=lines[-1] if lines else None,
    )
    equivalent = iac_equivalent(check_id, text(check.get("bc_check_id")))
    severity = build.severity(check.get("severity"))
    if severity[1] != "tool" and equivalent is not None:
        severity = (equivalent.severity, "equivalent")
    code = [
        text(line[1]).rstrip("\n")
        for line in arr(check.get("code_block"))
        if isinstance(line, list) and len(line) == 2
    ]
    resource = text(check.get("resource"))
    name = text(check.get("check_name")) or check_id
    build.add(
        "misconfiguration",
        check_id,
        title=name,
        severity=severity,
        location=location,
        message=f"{resource}: {name}" if resource else name,
        content=f"{framework}\x1f{resource}",
        evidence=redact_literals(evidence_text(code)),
        fix=text(check.get("guideline")),
        help_uri=text(check.get("guideline")),
        metadata={"framework": framework, "resource": resource or None},
        equivalent=equivalent,
        suppressed=suppressed,
    )


PARSER = ToolParser("checkov", _detect, _parse)
