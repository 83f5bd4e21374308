"""Run Bastion's taint analysis over the Python files of the walk and merge duplicates.

:func:`run_taint` reads every Python file once (invalid UTF-8 is a notice, the file is
still analysed), analyses them together so calls across modules resolve, and turns each
hit into a finding. :func:`merge_duplicates` keeps one finding per location and weakness:
where the taint analysis and a pattern tool (bandit, semgrep) flag the same line for the
same CWE, the taint finding stays (it carries the trace) and lists every tool that saw it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bastion.findings import Finding
from bastion.scan.base import ScanContext, SourceFile
from bastion.scan.sast.common import Problem, ToolOutcome
from bastion.scan.sast.taint import analyze
from bastion.scan.sast.taint.report import TOOL, to_finding

__all__ = ["TAINT_SUFFIXES", "merge_duplicates", "run_taint"]

TAINT_SUFFIXES = frozenset({".py", ".pyw"})
"""Files the taint analysis reads."""

_SAME_WEAKNESS = {95: 94, 77: 78, 917: 94, 1336: 94}
"""CWE ids folded together when findings are compared (eval is 94 or 95 depending on the tool)."""


def run_taint(files: Sequence[SourceFile], context: ScanContext) -> ToolOutcome:
    """Analyse ``files`` together; unparsable files become problems naming the file."""
    outcome = ToolOutcome()
    texts: list[tuple[str, str]] = []
    for file in files:
        text = context.read_text(file)
        if text is not None:
            texts.append((file.relpath, text))
    result = analyze(texts)
    for path, reason in result.problems:
        outcome.problems.append(Problem(f"taint: {reason}; file not analysed for dataflow", path))
    outcome.findings.extend(to_finding(hit) for hit in result.hits)
    return outcome


def _weakness(cwe: int) -> int:
    return _SAME_WEAKNESS.get(cwe, cwe)


def merge_duplicates(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (file, line, CWE) where the taint analysis reported it; order kept."""
    items = list(findings)
    taint_at: dict[tuple[str, int, int], int] = {}
    for index, finding in enumerate(items):
        if finding.metadata.get("tool") == TOOL:
            for cwe in finding.cwe:
                key = (finding.location.path or "", finding.location.start_line or 0, _weakness(cwe))
                taint_at.setdefault(key, index)
    if not taint_at:
        return items
    merged: dict[int, list[Finding]] = {}
    dropped: set[int] = set()
    for index, finding in enumerate(items):
        if finding.metadata.get("tool") == TOOL:
            continue
        for cwe in finding.cwe:
            key = (finding.location.path or "", finding.location.start_line or 0, _weakness(cwe))
            owner = taint_at.get(key)
            if owner is not None:
                merged.setdefault(owner, []).append(finding)
                dropped.add(index)
                break
    out: list[Finding] = []
    for index, finding in enumerate(items):
        if index in dropped:
            continue
        others = merged.get(index)
        if others:
            tools = [TOOL, *dict.fromkeys(str(o.metadata.get("tool", o.rule_id)) for o in others)]
            metadata = dict(finding.metadata)
            metadata["tools"] = tools
            metadata["also_reported_as"] = sorted({o.rule_id for o in others})
            finding = finding.with_changes(metadata=metadata)
        out.append(finding)
    return out
