"""Decisions after scanning: inline suppressions, the baseline, and one gate policy for every command.

Order: suppressions first (a reasoned ``bastion: ignore[rule] reason`` comment in the
code wins), then the baseline (findings accepted earlier), then the threshold on what
is left. The summary counts every finding set aside, so nothing vanishes unexplained.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pathspec

from bastion import __version__, atomic
from bastion.errors import InputError
from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.results import ScanResult, Suppressed
from bastion.rules import RuleInfo, RuleLevel
from bastion.structured import read_json
from bastion.suppressions import Suppression, find_suppressions

__all__ = [
    "BASELINE_VERSION",
    "GATE_RULES",
    "Baseline",
    "GatePolicy",
    "GateResult",
    "PathIgnore",
    "evaluate",
    "load_baseline",
    "merge_across_tools",
    "write_baseline",
]

BASELINE_VERSION = 1
MISSING_REASON_RULE = "bastion.suppression-without-reason"
_MISSING_REASON_FIX = "Add the reason after the bracket: bastion: ignore[rule-id] reason it is safe"
GATE_RULES = (
    RuleInfo(
        id=MISSING_REASON_RULE,
        title="Suppression without a reason",
        severity=Severity.LOW,
        scanner="gate",
        fix=_MISSING_REASON_FIX,
        description="A bastion: ignore[...] comment that does not say why the finding is accepted.",
    ),
)
"""The rules the gate itself reports."""


@dataclass(frozen=True)
class PathIgnore:
    """A configured suppression of some rules under some paths (``[[scan.ignore]]``), with a reason.

    For what an inline comment cannot carry: generated files, test code (``assert`` in
    pytest), rule files whose examples are secrets by design.
    """

    paths: tuple[str, ...]
    """gitignore-style patterns relative to the target root."""
    rules: tuple[str, ...]
    """Rule ids or globs (``sast.bandit.B101``, ``secrets.*``)."""
    reason: str

    def covers(self, finding: Finding, spec: pathspec.PathSpec) -> bool:
        """Whether this entry silences ``finding``; ``spec`` is the compiled ``paths``."""
        path = finding.location.path
        return (
            path is not None
            and any(fnmatch.fnmatchcase(finding.rule_id, rule) for rule in self.rules)
            and spec.match_file(path)
        )


@dataclass(frozen=True)
class Baseline:
    """Fingerprints of findings accepted earlier."""

    fingerprints: frozenset[str]
    path: Path | None = None


def load_baseline(path: Path) -> Baseline:
    """Read a baseline written by :func:`write_baseline`; :class:`InputError` if unusable."""
    if not path.exists():
        raise InputError(f"{path}: baseline file not found")
    data = read_json(path, what="baseline")
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise InputError(f"{path}: not a Bastion baseline (no 'findings' list)")
    version = data.get("version")
    if version != BASELINE_VERSION:
        raise InputError(
            f"{path}: baseline version {version!r} is not supported (this Bastion reads {BASELINE_VERSION})"
        )
    prints: set[str] = set()
    for index, entry in enumerate(data["findings"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise InputError(f"{path}: findings[{index}] has no fingerprint")
        prints.add(entry["fingerprint"])
    return Baseline(frozenset(prints), path)


def write_baseline(path: Path, findings: Iterable[Finding], now: datetime | None = None) -> int:
    """Write ``findings`` as a baseline (no evidence: a baseline never holds a secret)."""
    entries = [
        {
            "fingerprint": f.fingerprint,
            "rule_id": f.rule_id,
            "location": f.location.describe(),
            "title": f.title,
        }
        for f in findings
    ]
    document = {
        "version": BASELINE_VERSION,
        "tool": {"name": "bastion", "version": __version__},
        "generated": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "findings": entries,
    }
    atomic.write_text(path, json.dumps(document, indent=2) + "\n", what="baseline")
    return len(entries)


@dataclass(frozen=True)
class GatePolicy:
    """What fails a run, the same for every command (``bastion scan``, ``bastion dast``, the server).

    A finding blocks when its rule's level is FAIL; a rule with a level of its own (WARN, INFO)
    never blocks; any other finding blocks at or above ``threshold``, or when known exploited with
    ``fail_on_kev``. With ``strict`` anything the run could not check fails it too.
    """

    threshold: Severity | None = Severity.HIGH
    """``--fail-on``; None means never fail on severity."""
    fail_on_kev: bool = False
    """``--fail-on kev``: known-exploited findings (metadata ``kev``) block, whatever the threshold."""
    strict: bool = False
    """``--strict``: anything that could not be checked (a skip record) fails the run too."""
    levels: Mapping[str, RuleLevel] = field(default_factory=dict)
    """Per-rule levels from a rules file (``bastion dast --rules``); IGNORE findings never reach
    the gate (the run sets them aside as suppressed)."""

    def blocks(self, finding: Finding) -> bool:
        """Whether ``finding`` blocks the release under this policy."""
        level = self.levels.get(finding.rule_id)
        if level is not None:
            return level is RuleLevel.FAIL
        return (self.threshold is not None and finding.severity >= self.threshold) or (
            self.fail_on_kev and finding.metadata.get("kev") is True
        )

    @property
    def fail_on_label(self) -> str:
        """What ``--fail-on`` was: a severity name, ``kev`` or ``none``."""
        if self.fail_on_kev and self.threshold is None:
            return "kev"
        return self.threshold.value if self.threshold else "none"


@dataclass
class GateResult:
    """The scan after suppressions, baseline and the gate policy: what reports render."""

    scan: ScanResult
    findings: list[Finding]
    """Findings still reported (new, not suppressed)."""
    suppressed: list[Suppressed] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)
    below_confidence: int = 0
    policy: GatePolicy = field(default_factory=GatePolicy)
    """What decides :attr:`failed`."""

    @property
    def threshold(self) -> Severity | None:
        """``--fail-on`` as a severity; None when only known-exploited findings or none fail."""
        return self.policy.threshold

    @property
    def fail_on_kev(self) -> bool:
        """``--fail-on kev``."""
        return self.policy.fail_on_kev

    @property
    def strict(self) -> bool:
        """``--strict``."""
        return self.policy.strict

    @property
    def blocking(self) -> list[Finding]:
        """Reported findings the policy blocks on."""
        return [f for f in self.findings if self.policy.blocks(f)]

    @property
    def unchecked(self) -> list[str]:
        """One line per thing the run could not check: every skip record (a scanner, a file, a
        package, an ecosystem without advisory data) and every file left unscanned (too large,
        unreadable). What ``--strict`` fails on."""
        lines = [skip.describe() for skip in self.scan.skips]
        lines.extend(f"skipped {notice.describe()}" for notice in self.scan.notices if notice.unchecked)
        return lines

    @property
    def errored(self) -> bool:
        """True when a scanner failed: the run checked less than asked and exits 2."""
        return bool(self.scan.failures)

    @property
    def failed(self) -> bool:
        """True when the gate blocks the release: a blocking finding, a scanner that failed (the
        run exits 2, never "passed"), or with ``strict`` anything that was not checked."""
        return bool(self.blocking) or self.errored or (self.strict and bool(self.unchecked))

    @property
    def fail_on_label(self) -> str:
        """What ``--fail-on`` was: a severity name, ``kev`` or ``none``."""
        return self.policy.fail_on_label

    def counts(self) -> dict[Severity, int]:
        """Reported findings per severity, every severity present."""
        counts = dict.fromkeys(Severity, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts


TextReader = Callable[[str], "str | None"]


def evaluate(
    scan: ScanResult,
    policy: GatePolicy | Severity | None,
    baseline: Baseline | None = None,
    min_confidence: Confidence = Confidence.LOW,
    read_text: TextReader | None = None,
    ignores: Sequence[PathIgnore] = (),
) -> GateResult:
    """Apply configured ignores, inline suppressions, the baseline and the gate ``policy`` (a bare
    severity or None is shorthand for a policy with only that threshold). Findings the run itself
    set aside (``scan.suppressed``) are carried over as suppressed."""
    if not isinstance(policy, GatePolicy):
        policy = GatePolicy(threshold=policy)
    reader = read_text or _file_reader(scan.root)
    remaining, suppressed = _apply_path_ignores(merge_across_tools(scan.findings), ignores)
    kept, inline, extra = _apply_suppressions(remaining, reader)
    suppressed.extend(inline)
    suppressed.extend(scan.suppressed)
    kept.extend(extra)
    confident = [f for f in kept if f.confidence.rank >= min_confidence.rank]
    result = GateResult(
        scan=scan,
        findings=[],
        suppressed=suppressed,
        below_confidence=len(kept) - len(confident),
        policy=policy,
    )
    for finding in confident:
        if baseline is not None and finding.fingerprint in baseline.fingerprints:
            result.baselined.append(finding)
        else:
            result.findings.append(finding)
    return result


def _tool(finding: Finding) -> str:
    """The tool behind a finding: the engine a scanner ran (bandit, semgrep) or the scanner."""
    return str(finding.metadata.get("tool") or finding.scanner)


def _norm(name: object) -> str:
    return re.sub(r"[-_.]+", "-", str(name).strip().lower())


def _listed(value: object) -> list[str]:
    return [str(item) for item in value if item] if isinstance(value, list) else []


def _merge_keys(finding: Finding) -> set[tuple[str, ...]]:
    """What makes two tools' findings one: the same package version and advisory (any alias); the
    same file, line and weakness (CWE); the same file, line and rule (a foreign check's Bastion
    equivalent)."""
    meta, location = finding.metadata, finding.location
    keys: set[tuple[str, ...]] = set()
    if meta.get("package") and meta.get("installed_version"):
        package = (_norm(meta.get("ecosystem", "")), _norm(meta["package"]), str(meta["installed_version"]))
        advisories = [str(meta.get("advisory") or ""), *_listed(meta.get("aliases"))]
        keys.update(("dep", *package, a.upper()) for a in advisories if a)
        return keys  # one package line holds many advisories: the place alone says nothing
    if location.path and location.start_line:
        place = (location.path, str(location.start_line))
        keys.update(("cwe", *place, str(c)) for c in finding.cwe)
        rules = [finding.rule_id, *_listed(meta.get("equivalent_ids"))]
        keys.update(("rule", *place, r.lower()) for r in rules)
    return keys


def merge_across_tools(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per weakness at one place when different tools report it (bandit and semgrep
    on one call, a secret found by the secrets and the iac scanner, a CVE found by Bastion and by
    an imported Trivy report), listing every tool in ``metadata["tools"]`` and the others' rule ids
    in ``also_reported_as``, at the worst severity of them, so merging never weakens the gate.

    Same key (:func:`_merge_keys`): the first stays. A finding spanning lines (an IaC resource
    block) and another tool's finding of the same CWE on one of its lines (the secret in it): the
    precise one stays. Findings of one tool are never merged with each other; order kept."""
    kept: list[Finding | None] = []
    merged: dict[int, list[Finding]] = {}
    owners: dict[tuple[str, ...], int] = {}
    for finding in findings:
        tool = _tool(finding)
        keys = _merge_keys(finding)
        owner = next(
            (owners[k] for k in keys if k in owners and tool not in _group_tools(kept, merged, owners[k])),
            None,
        )
        if owner is None:
            for key in keys:
                owners.setdefault(key, len(kept))
            kept.append(finding)
        else:
            merged.setdefault(owner, []).append(finding)
    _merge_spans(kept, merged)
    out: list[Finding] = []
    for index, first in enumerate(kept):
        if first is None:
            continue
        others = merged.get(index)
        if others:
            metadata = dict(first.metadata)
            metadata["tools"] = _tools(first, others)
            also = {*_listed(metadata.get("also_reported_as")), *(o.rule_id for o in others)}
            metadata["also_reported_as"] = sorted(also - {first.rule_id})
            severity = max([first.severity, *(o.severity for o in others)])
            first = first.with_changes(metadata=metadata, severity=severity)
        out.append(first)
    return out


def _group_tools(
    kept: Sequence[Finding | None], merged: Mapping[int, list[Finding]], index: int
) -> list[str]:
    first = kept[index]
    return _tools(first, merged.get(index, [])) if first is not None else []


def _width(finding: Finding) -> int:
    start = finding.location.start_line or 0
    return max((finding.location.end_line or start) - start, 0)


def _merge_spans(kept: list[Finding | None], merged: dict[int, list[Finding]]) -> None:
    """Fold each multi-line finding into another tool's finding of the same CWE inside its span."""
    by_path: dict[str, list[int]] = {}
    for index, finding in enumerate(kept):
        if finding is not None and finding.location.path and finding.location.start_line and finding.cwe:
            by_path.setdefault(finding.location.path, []).append(index)
    for indexes in by_path.values():
        for wide in indexes:
            span = kept[wide]
            if span is None or (span.location.end_line or 0) <= (span.location.start_line or 0):
                continue
            start, end = span.location.start_line or 0, span.location.end_line or 0
            tools = set(_group_tools(kept, merged, wide))
            inner = next(
                (
                    i
                    for i in indexes
                    if i != wide
                    and (f := kept[i]) is not None
                    and start <= (f.location.start_line or 0) <= end
                    and _width(f) < end - start  # strictly narrower: the precise one
                    and set(f.cwe) & set(span.cwe)
                    and not tools & set(_group_tools(kept, merged, i))
                ),
                None,
            )
            if inner is not None:
                merged.setdefault(inner, []).extend([span, *merged.pop(wide, [])])
                kept[wide] = None


def _tools(first: Finding, others: Sequence[Finding]) -> list[str]:
    listed = first.metadata.get("tools")
    own = [str(t) for t in listed] if isinstance(listed, list) else [_tool(first)]
    return list(dict.fromkeys([*own, *(_tool(o) for o in others)]))


def _apply_path_ignores(
    findings: Sequence[Finding], ignores: Sequence[PathIgnore]
) -> tuple[list[Finding], list[Suppressed]]:
    if not ignores:
        return list(findings), []
    specs = [(entry, pathspec.GitIgnoreSpec.from_lines(entry.paths)) for entry in ignores]
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    for finding in findings:
        match = next((entry for entry, spec in specs if entry.covers(finding, spec)), None)
        if match is None:
            kept.append(finding)
        else:
            suppressed.append(Suppressed(finding, f"config: {match.reason}"))
    return kept, suppressed


def _file_reader(root: Path) -> TextReader:
    def read(relpath: str) -> str | None:
        try:
            return (root / relpath).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    return read


def _apply_suppressions(
    findings: Sequence[Finding], read_text: TextReader
) -> tuple[list[Finding], list[Suppressed], list[Finding]]:
    by_path: dict[str, list[Suppression]] = {}
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    unexplained: dict[tuple[str, int], Suppression] = {}
    for finding in findings:
        path = finding.location.path
        if path is None or finding.location.commit:
            kept.append(finding)
            continue
        if path not in by_path:
            text = read_text(path)
            by_path[path] = (
                find_suppressions(text)
                if text
                and any(mark in text for mark in ("bastion:", "checkov:skip=", ":ignore:", "kics-scan"))
                else []
            )
        match = next((s for s in by_path[path] if s.covers(finding)), None)
        if match is None:
            kept.append(finding)
            continue
        suppressed.append(Suppressed(finding, match.reason))
        if not match.reason:
            unexplained[(path, match.line)] = match
    extra = [_missing_reason(path, s) for (path, _), s in sorted(unexplained.items())]
    return kept, suppressed, extra


def _missing_reason(path: str, suppression: Suppression) -> Finding:
    location = Location(path=path, start_line=suppression.line, end_line=suppression.line)
    rules = ",".join(suppression.rules)
    return Finding(
        rule_id=MISSING_REASON_RULE,
        scanner="gate",
        title="Suppression without a reason",
        severity=Severity.LOW,
        location=location,
        message=f"bastion: ignore[{rules}] gives no reason; say why the finding is accepted",
        fingerprint=make_fingerprint(MISSING_REASON_RULE, location, rules),
        fix=_MISSING_REASON_FIX,
    )


def summary_counts(result: GateResult) -> dict[str, Any]:
    """The numbers every report's summary shows."""
    return {
        "total": len(result.findings),
        "by_severity": {s.value: n for s, n in result.counts().items()},
        "blocking": len(result.blocking),
        "suppressed": len(result.suppressed),
        "baselined": len(result.baselined),
        "below_confidence": result.below_confidence,
        "files_scanned": result.scan.files_scanned,
        "bytes_scanned": result.scan.bytes_scanned,
        "failed": result.failed,
        "fail_on": result.fail_on_label,
    }
