"""Suppressions, baselines and the threshold, as library calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.errors import InputError
from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.gate import (
    MISSING_REASON_RULE,
    Baseline,
    GatePolicy,
    PathIgnore,
    evaluate,
    load_baseline,
    summary_counts,
    write_baseline,
)
from bastion.results import UNCHECKED_KINDS, Notice, NoticeKind, ScannerFailure, ScanResult, Skip, Suppressed
from bastion.rules import RuleLevel
from bastion.suppressions import find_suppressions


def _finding(rule: str, line: int, severity: Severity = Severity.HIGH, path: str = "app.py") -> Finding:
    loc = Location(path=path, start_line=line, end_line=line)
    return Finding(
        rule_id=rule,
        scanner="t",
        title=rule,
        severity=severity,
        location=loc,
        message="m",
        fingerprint=make_fingerprint(rule, loc, f"{rule}{line}"),
    )


@pytest.mark.parametrize(
    ("line", "rules", "reason"),
    [
        (
            "x = 1  # bastion: ignore[sast.bandit.B602] input is a constant",
            ("sast.bandit.B602",),
            "input is a constant",
        ),
        ("foo(); // bastion: ignore[a, b]: both vetted", ("a", "b"), "both vetted"),
        ("SELECT 1 -- bastion: ignore[sql.x] — fixture", ("sql.x",), "fixture"),
        ("<!-- bastion: ignore[html.y] demo page -->", ("html.y",), "demo page"),
        ("/* bastion: ignore[css.z] legacy */", ("css.z",), "legacy"),
        ("# bastion: ignore[r]", ("r",), ""),
        ("# bastion:ignore[] anything", ("*",), "anything"),
    ],
)
def test_suppression_syntax_in_every_comment_style(line: str, rules: tuple[str, ...], reason: str) -> None:
    [found] = find_suppressions(line)
    assert found.rules == rules
    assert found.reason == reason


def test_text_that_is_not_a_comment_is_not_a_suppression() -> None:
    assert find_suppressions('s = "bastion: ignore[x] y"') == []
    assert find_suppressions("no marker here") == []


def test_standalone_comment_covers_the_next_line_only() -> None:
    text = "# bastion: ignore[r] reviewed\ncall()\ncall()\n"
    [sup] = find_suppressions(text)
    assert sup.standalone
    assert sup.covers(_finding("r", 2))
    assert not sup.covers(_finding("r", 3))
    assert not sup.covers(_finding("other", 2))
    trailing = find_suppressions("call()  # bastion: ignore[r] reviewed\n")[0]
    assert not trailing.standalone and trailing.covers(_finding("r", 1))
    assert not trailing.covers(_finding("r", 2))


def test_glob_patterns_and_multi_line_findings() -> None:
    [sup] = find_suppressions("\n\n# bastion: ignore[sast.bandit.*] reviewed")
    spanning = _finding("sast.bandit.B101", 2).with_changes(
        location=Location(path="a", start_line=2, end_line=4)
    )
    assert sup.covers(spanning)
    assert not sup.covers(_finding("sast.semgrep.x", 3))
    assert not sup.covers(_finding("sast.bandit.B1", 3).with_changes(location=Location(url="https://x")))


def _scan(findings: list[Finding], root: Path) -> ScanResult:
    return ScanResult(root=root, scanners=["t"], findings=findings)


def test_evaluate_applies_suppressions_baseline_threshold_and_confidence(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "a()  # bastion: ignore[keep.me] accepted by security review\n"
        "b()  # bastion: ignore[no.reason]\n"
        "c()\nd()\ne()\n"
    )
    findings = [
        _finding("keep.me", 1),
        _finding("no.reason", 2),
        _finding("old", 3),
        _finding("new.low", 4, Severity.LOW),
        _finding("new.high", 5).with_changes(confidence=Confidence.LOW),
        _finding("elsewhere", 1, path="gone.py"),
    ]
    baseline = Baseline(frozenset({findings[2].fingerprint}))
    result = evaluate(_scan(findings, tmp_path), Severity.HIGH, baseline=baseline)
    assert [s.finding.rule_id for s in result.suppressed] == ["keep.me", "no.reason"]
    assert [s.reason for s in result.suppressed] == ["accepted by security review", ""]
    assert [f.rule_id for f in result.baselined] == ["old"]
    assert [f.rule_id for f in result.findings] == ["new.low", "new.high", "elsewhere", MISSING_REASON_RULE]
    missing = result.findings[-1]
    assert missing.severity is Severity.LOW and missing.location.start_line == 2
    assert [f.rule_id for f in result.blocking] == ["new.high", "elsewhere"]
    assert result.failed
    strict = evaluate(_scan(findings, tmp_path), Severity.HIGH, min_confidence=Confidence.MEDIUM)
    assert strict.below_confidence == 1
    never = evaluate(_scan(findings, tmp_path), None)
    assert not never.failed and never.blocking == []


def test_baseline_round_trip_has_no_evidence(tmp_path: Path) -> None:
    finding = _finding("secrets.x", 1).with_changes(evidence="ghp_abc…")
    path = tmp_path / "baseline.json"
    assert write_baseline(path, [finding]) == 1
    assert "ghp_abc" not in path.read_text()
    assert load_baseline(path).fingerprints == {finding.fingerprint}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "baseline is not valid JSON"),
        ('{"version": 1}', "not a Bastion baseline"),
        ('{"version": 99, "findings": []}', "baseline version 99 is not supported"),
        ('{"version": 1, "findings": [{"rule_id": "x"}]}', r"findings\[0\] has no fingerprint"),
    ],
)
def test_bad_baselines_are_input_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_baseline(path)


def test_missing_baseline_and_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="baseline file not found"):
        load_baseline(tmp_path / "nope.json")
    with pytest.raises(InputError, match="cannot write baseline"):
        write_baseline(tmp_path / "no" / "dir" / "b.json", [])
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="cannot read baseline"):
        load_baseline(tmp_path / "bin.json")
    assert write_baseline(tmp_path / "b.json", []) == 0
    assert json.loads((tmp_path / "b.json").read_text())["findings"] == []


def test_configured_path_ignores_suppress_with_their_reason(tmp_path: Path) -> None:
    findings = [
        _finding("sast.bandit.B101", 1, Severity.LOW, path="tests/test_a.py"),
        _finding("sast.bandit.B101", 1, Severity.LOW, path="src/a.py"),
        _finding("secrets.x", 2, path="tests/fixtures/keys.txt"),
    ]
    ignores = [PathIgnore(("tests/",), ("sast.bandit.B101", "secrets.*"), "test code")]
    result = evaluate(_scan(findings, tmp_path), Severity.LOW, ignores=ignores)
    assert [(s.finding.location.path, s.reason) for s in result.suppressed] == [
        ("tests/test_a.py", "config: test code"),
        ("tests/fixtures/keys.txt", "config: test code"),
    ]
    assert [f.location.path for f in result.findings] == ["src/a.py"]


def _every_unchecked_record() -> list[tuple[str, ScanResult]]:
    """One scan result per kind of thing a run can leave unchecked."""
    root = Path(".")
    cases = [
        ("scanner skipped", ScanResult(root, ["sast"], skips=[Skip("sast.semgrep", "not installed")])),
        ("file skipped", ScanResult(root, ["iac"], skips=[Skip("iac main.tf", "HCL syntax error")])),
    ]
    cases.extend(
        (kind.value, ScanResult(root, ["t"], notices=[Notice(kind, "not read", path="big.env")]))
        for kind in sorted(UNCHECKED_KINDS, key=lambda k: k.value)
    )
    return cases


@pytest.mark.parametrize("fail_on", [None, Severity.CRITICAL, Severity.INFO])
def test_strict_fails_whenever_anything_was_not_checked(fail_on: Severity | None) -> None:
    """The invariant behind ``--strict``: a run that left anything unchecked never passes it."""
    for name, scan in _every_unchecked_record():
        result = evaluate(scan, fail_on, read_text=lambda _: None)
        assert result.unchecked, name
        assert not result.failed, name  # without --strict a skip alone is shown, not fatal
        result.policy = GatePolicy(threshold=fail_on, strict=True)
        assert result.failed, name
        assert summary_counts(result)["failed"] is True


def test_notices_about_content_that_is_not_scanned_by_design_do_not_fail_strict() -> None:
    kinds = [k for k in NoticeKind if k not in UNCHECKED_KINDS]
    scan = ScanResult(Path("."), ["t"], notices=[Notice(k, "m", path="x") for k in kinds])
    result = evaluate(scan, GatePolicy(Severity.HIGH, strict=True), read_text=lambda _: None)
    assert result.unchecked == [] and not result.failed


def test_a_failed_scanner_never_passes_the_gate() -> None:
    scan = ScanResult(Path("."), ["crashing"], failures=[ScannerFailure("crashing", "boom")])
    result = evaluate(scan, None, read_text=lambda _: None)
    assert result.blocking == [] and result.errored
    assert result.failed and summary_counts(result)["failed"] is True


def test_one_policy_decides_for_every_command() -> None:
    """Rule levels win over the threshold, KEV blocks with fail_on_kev, and the label says so."""
    kev = Finding(
        rule_id="deps.CVE-1",
        scanner="deps",
        title="t",
        severity=Severity.LOW,
        location=Location(purl="pkg:pypi/a@1"),
        message="m",
        fingerprint="f1",
        metadata={"kev": True},
    )
    level = _finding("dast.csp-missing", 1, Severity.LOW)
    warned = _finding("dast.xss-reflected", 2, Severity.CRITICAL)
    levels = {level.rule_id: RuleLevel.FAIL, warned.rule_id: RuleLevel.WARN}
    policy = GatePolicy(threshold=None, fail_on_kev=True, levels=levels)
    assert [policy.blocks(f) for f in (kev, level, warned)] == [True, True, False]
    assert policy.fail_on_label == "kev" and GatePolicy(None).fail_on_label == "none"
    scan = ScanResult(Path("."), ["t"], findings=[kev, level, warned])
    result = evaluate(scan, policy, read_text=lambda _: None)
    assert result.failed and result.fail_on_kev and result.threshold is None
    assert [f.rule_id for f in result.blocking] == ["deps.CVE-1", "dast.csp-missing"]


def test_findings_the_run_set_aside_are_counted_as_suppressed() -> None:
    dropped = Suppressed(_finding("dast.csp-missing", 1), "rules file: IGNORE")
    scan = ScanResult(Path("."), ["dast"], suppressed=[dropped])
    result = evaluate(scan, Severity.HIGH, read_text=lambda _: None)
    assert result.suppressed == [dropped] and summary_counts(result)["suppressed"] == 1
