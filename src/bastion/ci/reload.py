"""Read a Bastion JSON report back into a :class:`~bastion.gate.GateResult`, so one scan can be
rendered in every format a pipeline wants (SARIF for code scanning, Markdown for the job
summary, GitLab's three report types) without scanning twice.

The JSON report round-trips findings losslessly (``Finding.to_dict``); the gate's decision is
restored from its summary (``fail_on``, ``failed``), so a re-rendered report says what the
scan decided, never something else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bastion.errors import InputError
from bastion.findings import Finding, Severity
from bastion.gate import GatePolicy, GateResult, merge_across_tools
from bastion.results import Notice, NoticeKind, ScannerFailure, ScanResult, Skip, Suppressed
from bastion.structured import read_json

__all__ = ["combine", "load_report"]


def load_report(path: Path) -> GateResult:
    """The gate result a ``bastion scan --format json`` report holds; :class:`InputError`
    naming the file and the entry when it is not one."""
    document: Any = read_json(path, what="Bastion JSON report")
    if not isinstance(document, dict) or document.get("schema_version") != 1 or "findings" not in document:
        raise InputError(f"{path}: not a Bastion JSON report (schema_version 1 with findings)")
    summary = document.get("summary") or {}
    try:
        scan = ScanResult(
            root=Path(str(document.get("target", "."))),
            scanners=[str(s) for s in document.get("scanners", [])],
            notices=[
                Notice(NoticeKind(n["kind"]), str(n["message"]), n.get("path"), n.get("scanner"))
                for n in document.get("notices", [])
            ],
            skips=[Skip(str(s["component"]), str(s["reason"])) for s in document.get("skipped", [])],
            failures=[
                ScannerFailure(str(f["scanner"]), str(f["error"])) for f in document.get("failures", [])
            ],
            files_scanned=int(summary.get("files_scanned", 0)),
            bytes_scanned=int(summary.get("bytes_scanned", 0)),
            duration_s=float(document.get("duration_s", 0.0)),
            stage=_stage(document.get("stage")),
            **_walk(document.get("scope")),
        )
        findings = [Finding.from_dict(f) for f in document["findings"]]
        suppressed = [
            Suppressed(Finding.from_dict(s["finding"]), str(s["reason"]))
            for s in document.get("suppressed", [])
        ]
        baselined = [Finding.from_dict(f) for f in document.get("baselined", [])]
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(
            f"{path}: malformed entry in the Bastion JSON report ({type(exc).__name__}: {exc})"
        ) from None
    fail_on = str(summary.get("fail_on", "high"))
    threshold = None if fail_on in {"none", "kev"} else Severity.parse(fail_on)
    policy = GatePolicy(threshold=threshold, fail_on_kev=fail_on == "kev")
    result = GateResult(
        scan=scan,
        findings=findings,
        suppressed=suppressed,
        baselined=baselined,
        below_confidence=int(summary.get("below_confidence", 0)),
        policy=policy,
    )
    # --strict is not a field of the report; its effect is: a scan that failed with nothing
    # blocking and nothing errored failed on what it could not check.
    if summary.get("failed") and not result.failed:
        result.policy = GatePolicy(threshold=threshold, fail_on_kev=fail_on == "kev", strict=True)
    return result


def _stage(value: Any) -> str | None:
    """The report's ``stage``: None or a non-empty string (``ValueError`` otherwise)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"stage must be a non-empty string or null, not {value!r}")
    return value


def _walk(scope: Any) -> dict[str, Any]:
    """How the scan walked (excludes, .gitignore, history) from the report's ``scope``, so that a
    re-rendered report claims the scope the scan had, not a wider one; {} without a scope."""
    if scope is None:
        return {}
    if not isinstance(scope, dict):
        raise TypeError(f"scope must be an object or null, not {type(scope).__name__}")
    history, excludes = scope.get("history"), scope.get("excludes", [])
    if not isinstance(excludes, list):
        raise TypeError(f"scope.excludes must be a list, not {type(excludes).__name__}")
    return {
        "excludes": tuple(str(pattern) for pattern in excludes),
        "gitignore": bool(scope.get("gitignore", True)),
        "history": None if history is None else str(history),
    }


def combine(first: GateResult, others: list[GateResult]) -> GateResult:
    """``first`` with the findings, set-aside findings, skips, notices and failures of ``others``
    added under ``first``'s gate policy; what several tools found at one place is one finding
    (:func:`bastion.gate.merge_across_tools`)."""
    scan = first.scan
    findings = list(first.findings)
    for other in others:
        findings.extend(other.findings)
        first.suppressed.extend(other.suppressed)
        first.baselined.extend(other.baselined)
        first.below_confidence += other.below_confidence
        scan.scanners.extend(name for name in other.scan.scanners if name not in scan.scanners)
        scan.skips.extend(other.scan.skips)
        scan.notices.extend(other.scan.notices)
        scan.failures.extend(other.scan.failures)
        scan.files_scanned += other.scan.files_scanned
        scan.bytes_scanned += other.scan.bytes_scanned
        scan.duration_s += other.scan.duration_s
    first.findings = merge_across_tools(findings)
    return first
