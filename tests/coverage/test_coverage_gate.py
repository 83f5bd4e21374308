"""The coverage gate: thresholds, diff coverage against a base ref, findings in the one model,
and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from coverage_helpers import PROJECT, REPORTS, git

from bastion.cli.main import main
from bastion.coverage import Thresholds, changed_lines, check, read_report
from bastion.coverage.check import format_ranges
from bastion.coverage.diff import parse_unified_diff
from bastion.coverage.rules import coverage_rules
from bastion.errors import InputError
from bastion.findings import Severity

FRAMEWORKS = Path(__file__).resolve().parents[2] / "src" / "bastion" / "comply" / "data" / "frameworks.json"


def test_overall_and_per_file_thresholds() -> None:
    data = read_report(REPORTS / "py-coverage.json", PROJECT)
    outcome = check(data, Thresholds(total=80, per_file=70), "reports/py-coverage.json")
    by_rule = {f.rule_id: f for f in outcome.findings}
    assert set(by_rule) == {"coverage.overall-below-min", "coverage.file-below-min"}
    overall = by_rule["coverage.overall-below-min"]
    assert overall.location.path == "reports/py-coverage.json"
    assert overall.metadata["percent"] == 60.0
    assert overall.severity is Severity.HIGH
    per_file = by_rule["coverage.file-below-min"]
    assert (per_file.location.path, per_file.location.start_line) == ("src/calc/ops.py", 7)
    assert "never ran: 7, 14-16, 20-21" in per_file.message
    assert any(c.startswith("nist-800-53-r5:SA-11") for c in per_file.controls)


def test_thresholds_met_give_no_finding() -> None:
    data = read_report(REPORTS / "c-lcov.info", PROJECT)
    outcome = check(data, Thresholds(total=69, per_file=69), "c-lcov.info")
    assert outcome.findings == []
    assert outcome.summary().startswith("coverage 69.2% (9/13 lines, min 69%)")


def test_fingerprint_survives_a_changed_percentage(tmp_path: Path) -> None:
    first = check(read_report(REPORTS / "py.lcov", PROJECT), Thresholds(total=90), "r")
    report = tmp_path / "r.lcov"
    report.write_text("SF:src/calc/ops.py\nDA:1,1\nDA:2,0\nend_of_record\n", encoding="utf-8")
    second = check(read_report(report, PROJECT), Thresholds(total=90), "r")
    assert first.findings[0].fingerprint == second.findings[0].fingerprint
    assert first.findings[0].message != second.findings[0].message


def test_diff_coverage_matches_diff_cover_on_the_same_branch(branch_repo: Path) -> None:
    # diff-cover 11.0.1 on this branch: "src/calc/ops.py (44.4%): Missing lines 14-16,20-21".
    changed = changed_lines(branch_repo, "main")
    assert changed["src/calc/ops.py"] == frozenset(range(9, 22))
    data = read_report(branch_repo / "reports/py-cobertura.xml", branch_repo)
    outcome = check(data, Thresholds(new=90), "reports/py-cobertura.xml", changed, "main")
    assert outcome.new_code is not None
    assert (outcome.new_code.covered, outcome.new_code.total) == (4, 9)
    assert dict(outcome.new_code.uncovered) == {"src/calc/ops.py": (14, 15, 16, 20, 21)}
    rules = [f.rule_id for f in outcome.findings]
    assert rules == ["coverage.new-code-below-min", "coverage.new-lines-uncovered"]
    assert "44.4%" in outcome.findings[0].message


def test_changed_file_missing_from_the_report_is_a_visible_skip(branch_repo: Path) -> None:
    (branch_repo / "native/mathx.c").write_text("int x;\n", encoding="utf-8")
    (branch_repo / "NOTES.md").write_text("notes\n", encoding="utf-8")
    git(branch_repo, "add", "-A")
    changed = changed_lines(branch_repo, "main")
    data = read_report(branch_repo / "reports/py.lcov", branch_repo)
    outcome = check(data, Thresholds(new=0), "py.lcov", changed, "main")
    assert [s.component for s in outcome.skips] == ["coverage.new-code"] * 2
    assert any(
        "native/mathx.c: changed since main but not in the coverage report" in s.reason for s in outcome.skips
    )
    assert "2 changed files not in the report" in outcome.summary()


def test_unknown_base_and_not_a_repository(branch_repo: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="git merge-base"):
        changed_lines(branch_repo, "no-such-branch")
    with pytest.raises(InputError, match="git rev-parse"):
        changed_lines(tmp_path, "main")
    with pytest.raises(InputError, match="cannot start with"):
        changed_lines(branch_repo, "--output=out.txt")


def test_parse_unified_diff_new_side_only() -> None:
    diff = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,0 +2,3 @@\n+x\n@@ -9 +12 @@\n"
        "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n"
        '+++ "b/caf\\303\\251.py"\n@@ -0,0 +1 @@\n'
    )
    assert parse_unified_diff(diff) == {"a.py": frozenset({2, 3, 4, 12}), "café.py": frozenset({1})}


def test_format_ranges() -> None:
    assert format_ranges([1, 2, 3, 7, 9, 10]) == "1-3, 7, 9-10"
    assert format_ranges([]) == "-"
    assert format_ranges(list(range(0, 40, 2)), limit=3) == "0, 2, 4 ... (+17 more)"


def test_rules_map_to_controls_in_the_framework_catalogs() -> None:
    catalog = FRAMEWORKS.read_text(encoding="utf-8")
    for rule in coverage_rules().values():
        assert rule.scanner == "coverage" and rule.fix and rule.severity is not None
        frameworks = {ref.split(":", 1)[0] for ref in rule.controls}
        assert frameworks == {"nist-800-53-r5", "cis-v8", "iso27001-2022"}
        for ref in rule.controls:
            assert f'"{ref.split(":", 1)[1]}"' in catalog, ref


def test_cli_fails_below_minimum_and_passes_above(capsys: pytest.CaptureFixture[str]) -> None:
    report = str(REPORTS / "py-coverage.json")
    assert main(["coverage", report, "--root", str(PROJECT), "--min", "80"]) == 1
    captured = capsys.readouterr()
    assert "coverage.overall-below-min" in captured.out
    assert "coveragepy: coverage 60.0% (9/15 lines, min 80%)" in captured.err
    assert main(["coverage", report, "--root", str(PROJECT), "--min", "60"]) == 0


def test_cli_json_output_and_new_code(
    branch_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(branch_repo)
    out = tmp_path / "cov.json"
    code = main(
        [
            "coverage",
            "reports/py.lcov",
            "--min-new",
            "90",
            "--base",
            "main",
            "-f",
            "json",
            "-o",
            str(out),
            "-q",
        ]
    )
    assert code == 1
    document = json.loads(out.read_text(encoding="utf-8"))
    rules = sorted(f["rule_id"] for f in document["findings"])
    assert rules == ["coverage.new-code-below-min", "coverage.new-lines-uncovered"]
    assert str(branch_repo) not in out.read_text(encoding="utf-8").replace(str(out), "")


def test_cli_reads_thresholds_from_bastion_toml(branch_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(branch_repo)
    (branch_repo / "bastion.toml").write_text('[coverage]\nmin_new = 40\nbase = "main"\n', encoding="utf-8")
    assert main(["coverage", "reports/py.lcov", "-q"]) == 0
    (branch_repo / "bastion.toml").write_text('[coverage]\nmin_new = 50\nbase = "main"\n', encoding="utf-8")
    assert main(["coverage", "reports/py.lcov", "-q"]) == 1


def test_cli_strict_fails_on_unmeasured_changed_files(
    branch_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(branch_repo)
    (branch_repo / "native/mathx.c").write_text("int x;\n", encoding="utf-8")
    args = ["coverage", "reports/py.lcov", "--min-new", "0", "--base", "main", "-q"]
    assert main(args) == 0
    assert main([*args, "--strict"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "--format: choose from"),
        (["--report-format", "clover"], "--report-format: choose from"),
        (["--fail-on", "severe"], "--fail-on"),
        (["--min-new", "80"], "--min-new needs --base"),
        (["--root", "/nonexistent-dir"], "not a directory"),
    ],
)
def test_cli_usage_errors_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", str(REPORTS / "py.lcov"), *args]) == 2
    assert message in capsys.readouterr().err


def test_cli_bad_config_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bastion.toml").write_text("[coverage]\nmin = 120\n", encoding="utf-8")
    report = tmp_path / "r.lcov"
    report.write_text("SF:a\nDA:1,1\nend_of_record\n", encoding="utf-8")
    assert main(["coverage", str(report), "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bastion.toml: coverage.min" in err
    (tmp_path / "bastion.toml").write_text("coverage = 3\n", encoding="utf-8")
    assert main(["coverage", str(report), "--root", str(tmp_path)]) == 2
    assert "[coverage] must be a table" in capsys.readouterr().err


def test_untracked_files_count_when_the_report_measures_them(
    branch_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bastion.coverage.diff import untracked_lines

    (branch_repo / "src/calc/new.py").write_text("x = 1\ny = 2\n", encoding="utf-8")
    assert untracked_lines(branch_repo)["src/calc/new.py"] == frozenset({1, 2})
    report = branch_repo / "untracked.lcov"
    report.write_text("SF:src/calc/new.py\nDA:1,1\nDA:2,0\nend_of_record\n", encoding="utf-8")
    monkeypatch.chdir(branch_repo)
    assert main(["coverage", "untracked.lcov", "--min-new", "60", "--base", "main", "--strict"]) == 1
    out = capsys.readouterr()
    assert "new code since main 50.0% (1/2 lines" in out.err
    assert "untracked.lcov: changed since" not in out.out  # the untracked report is no code: no skip


def test_rules_list_and_show_include_the_coverage_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list", "--format", "json"]) == 0
    assert "coverage.overall-below-min" in capsys.readouterr().out
    assert main(["rules", "show", "coverage.new-code-below-min"]) == 0
    assert "cis-v8:16.12" in capsys.readouterr().out
