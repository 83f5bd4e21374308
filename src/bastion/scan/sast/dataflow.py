"""Run Bastion's taint analysis over the Python files of the walk and merge duplicates.

:func:`run_taint` reads every Python file once (invalid UTF-8 is a notice, the file is
still analysed), analyses them together so calls across modules resolve, and turns each
hit into a finding. :func:`merge_duplicates` keeps one finding per location and weakness:
where several tools flag the same line for the same CWE, one finding stays (the taint one,
which carries the trace, else bandit's, else semgrep's) and lists every tool that saw it.

Pattern findings the analysis disproves are dropped: an import flagged for what the module
could do (``import subprocess``, bandit B404) once the file's uses were analysed, and a call
whose dangerous arguments every analysis found constant, sanitised or server-controlled. A
call the analysis did not reach, or reached with values it cannot bound (parameters of a
library function), keeps its pattern finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bastion.findings import Finding
from bastion.scan.base import ScanContext, SourceFile
from bastion.scan.sast.common import Problem, ToolOutcome
from bastion.scan.sast.taint import TaintResult, analyze
from bastion.scan.sast.taint.js import JS_SUFFIXES, analyze_js
from bastion.scan.sast.taint.report import TOOL, to_finding

__all__ = ["TAINT_CWES", "TAINT_SUFFIXES", "TaintRun", "focus_lines", "merge_duplicates", "run_taint"]

PY_SUFFIXES = frozenset({".py", ".pyw"})
TAINT_SUFFIXES = PY_SUFFIXES | JS_SUFFIXES
"""Files the taint analysis reads (Python, and JavaScript/TypeScript)."""

_SAME_WEAKNESS = {95: 94, 77: 78, 917: 94, 1336: 94}
"""CWE ids folded together when findings are compared (eval is 94 or 95 depending on the tool)."""
_SAME_CWE = {94: 95}
"""The taint rules' own id for a folded weakness (``proven_safe`` is asked with the rule's CWE)."""
TAINT_CWES = frozenset({78, 89, 90, 94, 79, 22, 601, 502, 611, 501, 643, 328, 330})
_DANGEROUS_AS_WRITTEN = frozenset({"B201", "B202"})
"""bandit checks whose danger is the call itself, not data reaching it: ``app.run(debug=True)``
(the Werkzeug debugger runs code) and ``tarfile.extractall`` (the archive's member names),
so constant arguments do not make them safe."""
"""Weaknesses (folded) the taint analysis decides: by dataflow, or by the API call and the use
of its result (weak hashes, predictable random numbers)."""


@dataclass
class TaintRun:
    """The taint tool's findings and what its analysis can prove about other tools' findings."""

    outcome: ToolOutcome
    result: TaintResult


def run_taint(
    files: Sequence[SourceFile], context: ScanContext, focus: Iterable[tuple[str, int]] = ()
) -> TaintRun:
    """Analyse ``files`` together; unparsable files become problems naming the file."""
    outcome = ToolOutcome()
    texts: list[tuple[str, str]] = []
    scripts: list[tuple[str, str]] = []
    for file in files:
        text = context.read_text(file)
        if text is not None:
            is_python = any(file.relpath.lower().endswith(s) for s in PY_SUFFIXES)
            (texts if is_python else scripts).append((file.relpath, text))
    result = analyze(texts, focus=focus)
    js = analyze_js(scripts)
    for path, reason in (*result.problems, *js.problems):
        outcome.problems.append(Problem(f"taint: {reason}; file not analysed for dataflow", path))
    outcome.findings.extend(to_finding(hit) for hit in (*result.hits, *js.hits))
    # Pattern findings on JavaScript lines are disproved the same way (see _disproved).
    result.analysed |= js.analysed
    result.proven |= js.proven
    result.dead_lines.update(js.dead_lines)
    return TaintRun(outcome, result)


def focus_lines(findings: Iterable[Finding]) -> set[tuple[str, int]]:
    """Where pattern tools flagged a weakness the taint analysis models: lines worth analysing."""
    return {
        (f.location.path, f.location.start_line)
        for f in findings
        if f.location.path and f.location.start_line and any(_weakness(c) in TAINT_CWES for c in f.cwe)
    }


def _weakness(cwe: int) -> int:
    return _SAME_WEAKNESS.get(cwe, cwe)


def _disproved(finding: Finding, result: TaintResult) -> bool:
    """A pattern finding the taint analysis shows to be harmless: an import of a module whose
    uses it checks, or a call whose dangerous arguments it proved constant or sanitised."""
    path, line = finding.location.path or "", finding.location.start_line or 0
    if path not in result.analysed or not line:
        return False
    if result.dead(path, line):
        return True
    modelled = {_weakness(c) for c in finding.cwe} & TAINT_CWES
    if not modelled:
        return False
    test = str(finding.metadata.get("test_id", finding.rule_id.rsplit(".", 1)[-1]))
    if test in _DANGEROUS_AS_WRITTEN:
        return False
    if (
        finding.rule_id.startswith("sast.bandit.B4")
        or test.startswith("B4")
        or finding.evidence.startswith(("import ", "from "))
    ):
        return True
    return all(
        result.proven_safe(path, line, c) or result.proven_safe(path, line, _SAME_CWE.get(c, c))
        for c in modelled
    )


_PRIORITY = {TOOL: 0, "bandit": 1, "semgrep": 2}
"""Which tool's finding stays when several report one location and weakness: the taint finding
(it carries the trace), then bandit's, then semgrep's."""


def _keys(finding: Finding) -> set[tuple[str, int, int]]:
    path, line = finding.location.path, finding.location.start_line
    if not path or not line:
        return set()
    return {(path, line, _weakness(c)) for c in finding.cwe}


def merge_duplicates(findings: Iterable[Finding], run: TaintRun | None = None) -> list[Finding]:
    """One finding per (file, line, CWE), listing every tool that reported it, and no pattern
    finding the analysis disproved (see :func:`_disproved`); order kept."""
    items = list(findings)
    if run is not None:
        items = [f for f in items if f.metadata.get("tool") == TOOL or not _disproved(f, run.result)]
    ranked = sorted(range(len(items)), key=lambda i: _PRIORITY.get(str(items[i].metadata.get("tool")), 3))
    owner_of: dict[tuple[str, int, int], int] = {}
    merged: dict[int, list[Finding]] = {}
    for index in ranked:
        keys = _keys(items[index])
        owner = next((owner_of[k] for k in keys if k in owner_of), None)
        if owner is None:
            for key in keys:
                owner_of[key] = index
        else:
            merged.setdefault(owner, []).append(items[index])
    dropped = {id(f) for others in merged.values() for f in others}
    out: list[Finding] = []
    for index, finding in enumerate(items):
        if id(finding) in dropped:
            continue
        others = merged.get(index)
        if others:
            own = str(finding.metadata.get("tool", finding.rule_id))
            metadata = dict(finding.metadata)
            metadata["tools"] = list(
                dict.fromkeys([own, *(str(o.metadata.get("tool", o.rule_id)) for o in others)])
            )
            metadata["also_reported_as"] = sorted({o.rule_id for o in others})
            finding = finding.with_changes(metadata=metadata)
        out.append(finding)
    return out
