"""semgrep through the sast scanner: the curated rules against their annotated examples,
findings on the fixture project, user rules, offline isolation and file selection."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sast_helpers import ANNOTATED, PROJECT, SEMGREP_EXPECTED, keys, make_target, needs_semgrep, run_sast

from bastion.findings import Confidence, Severity
from bastion.scan.base import NoticeKind
from bastion.scan.sast import builtin_rules
from bastion.scan.sast.semgrep import load_rule_set, select_files

SEMGREP_ONLY = {"tools": ["semgrep"]}
_ANNOTATION = re.compile(r"(?:#|//)\s*(ruleid|ok):\s*([\w-]+)\s*$")

slow_semgrep = [pytest.mark.slow, needs_semgrep]


def _annotations() -> tuple[set[tuple[str, str, int]], set[tuple[str, str, int]]]:
    """(rule id, file, line) pairs that must and must not be reported, from the comments."""
    expected: set[tuple[str, str, int]] = set()
    forbidden: set[tuple[str, str, int]] = set()
    for path in sorted(ANNOTATED.iterdir()):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _ANNOTATION.search(line)
            if match:
                entry = (f"sast.semgrep.{match.group(2)}", path.name, number + 1)
                (expected if match.group(1) == "ruleid" else forbidden).add(entry)
    return expected, forbidden


def test_every_curated_rule_has_a_positive_and_a_negative_example() -> None:
    expected, forbidden = _annotations()
    rule_ids = {f"sast.semgrep.{r['id']}" for r in yaml.safe_load(builtin_rules().read_text())["rules"]}
    assert {rule for rule, _, _ in expected} == rule_ids
    assert {rule for rule, _, _ in forbidden} == rule_ids


@pytest.mark.slow
@needs_semgrep
def test_curated_rules_match_their_annotated_examples() -> None:
    findings, context = run_sast(ANNOTATED, SEMGREP_ONLY)
    got = keys(findings)
    expected, forbidden = _annotations()
    assert sorted(expected - got) == [], "rules missed their ruleid: examples"
    assert sorted(got - expected) == [], "rules reported lines without a ruleid: annotation"
    assert sorted(got & forbidden) == []
    duplicates = Counter((f.rule_id, f.location.path, f.location.start_line) for f in findings)
    assert [k for k, n in duplicates.items() if n > 1] == []
    assert context.notices == []


@pytest.mark.slow
@needs_semgrep
def test_project_findings_and_mapping() -> None:
    findings, context = run_sast(PROJECT, SEMGREP_ONLY)
    assert keys(findings) == SEMGREP_EXPECTED
    assert len(findings) == len(SEMGREP_EXPECTED)
    assert context.notices == [] and context.skips == []
    pickle = next(f for f in findings if f.rule_id == "sast.semgrep.python-pickle-load")
    assert pickle.scanner == "sast"
    assert pickle.severity is Severity.HIGH  # ERROR
    assert pickle.confidence is Confidence.HIGH
    assert pickle.cwe == (502,)
    assert pickle.title == "Deserialization with pickle"
    assert pickle.evidence == "return pickle.loads(blob)"
    assert pickle.fix.startswith("Exchange plain data")
    assert pickle.help_uri == "https://docs.python.org/3/library/pickle.html"
    assert (pickle.location.start_column, pickle.location.end_column) == (12, 30)
    inner_html = next(f for f in findings if f.rule_id == "sast.semgrep.js-inner-html-dynamic")
    assert inner_html.severity is Severity.MEDIUM  # WARNING
    assert inner_html.cwe == (79,)


@pytest.mark.slow
@needs_semgrep
def test_fingerprints_follow_the_code_not_the_line(tmp_path: Path) -> None:
    source = (PROJECT / "web" / "vulnerable.js").read_text(encoding="utf-8")
    (tmp_path / "app.js").write_text(source, encoding="utf-8")
    before = {f.rule_id: f.fingerprint for f in run_sast(tmp_path, SEMGREP_ONLY)[0]}
    moved = source.replace(
        'const crypto = require("crypto");\n', 'const crypto = require("crypto");\n\n\n// x\n'
    )
    edited = moved.replace("el.innerHTML = comment.body;", "el.innerHTML = comment.html;")
    (tmp_path / "app.js").write_text(edited, encoding="utf-8")
    after = {f.rule_id: f for f in run_sast(tmp_path, SEMGREP_ONLY)[0]}
    assert after["sast.semgrep.js-child-process-exec-dynamic"].location.start_line == 9
    assert (
        after["sast.semgrep.js-child-process-exec-dynamic"].fingerprint
        == before["sast.semgrep.js-child-process-exec-dynamic"]
    )
    assert (
        after["sast.semgrep.js-inner-html-dynamic"].fingerprint
        != before["sast.semgrep.js-inner-html-dynamic"]
    )


@pytest.mark.slow
@needs_semgrep
def test_user_rules_run_alongside_the_curated_ones(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "team.yml").write_text(
        "rules:\n"
        "  - id: no-print\n"
        "    pattern: print(...)\n"
        "    message: use logging\n"
        "    severity: INFO\n"
        "    languages: [python]\n"
        "    metadata: {cwe: ['CWE-532: Insertion of Sensitive Information into Log File']}\n",
        encoding="utf-8",
    )
    (tmp_path / "main.py").write_text("import pickle\n\nprint(pickle.loads(b''))\n", encoding="utf-8")
    findings, context = run_sast(tmp_path, {**SEMGREP_ONLY, "semgrep_rules": ["rules/team.yml"]})
    assert keys(findings) == {
        ("sast.semgrep.no-print", "main.py", 3),
        ("sast.semgrep.python-pickle-load", "main.py", 3),
    }
    custom = next(f for f in findings if f.rule_id == "sast.semgrep.no-print")
    assert (custom.severity, custom.cwe, custom.title, custom.fix) == (
        Severity.LOW,
        (532,),
        "use logging",
        "",
    )
    assert context.notices == []


@pytest.mark.slow
@needs_semgrep
def test_parse_error_is_a_notice_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.js").write_text("function f( {{{\n  eval(x)\n", encoding="utf-8")
    (tmp_path / "fine.js").write_text("eval(userInput);\n", encoding="utf-8")
    findings, context = run_sast(tmp_path, SEMGREP_ONLY)
    assert ("sast.semgrep.js-eval-dynamic", "fine.js", 1) in keys(findings)
    broken = [n for n in context.notices if n.path == "broken.js"]
    assert broken and all(n.kind is NoticeKind.SCANNER for n in context.notices)
    assert broken[0].message.startswith("semgrep ")
    assert "\n" not in broken[0].message


@pytest.mark.slow
@needs_semgrep
def test_semgrep_never_touches_the_users_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("SEMGREP_APP_TOKEN", "not-a-real-token")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("import pickle\npickle.loads(b'')\n", encoding="utf-8")
    findings, context = run_sast(tmp_path / "src", SEMGREP_ONLY)
    assert keys(findings) == {("sast.semgrep.python-pickle-load", "a.py", 2)}
    assert context.notices == []
    assert list(home.iterdir()) == []


def test_files_are_selected_by_rule_language(tmp_path: Path) -> None:
    for name in ("a.py", "b.JS", "c.tsx", "d.go", "notes.txt", "Dockerfile"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    target = make_target(tmp_path)
    curated = load_rule_set([builtin_rules()])
    assert [f.relpath for f in select_files(target.files, curated)] == ["a.py", "b.JS", "c.tsx"]

    go_rules = tmp_path / "go.yml"
    go_rules.write_text(
        "rules:\n  - {id: g, pattern: x, message: m, severity: INFO, languages: [golang]}\n"
        "  - {id: d, pattern: x, message: m, severity: INFO, languages: [dockerfile]}\n",
        encoding="utf-8",
    )
    mixed = load_rule_set([builtin_rules(), go_rules])
    assert [f.relpath for f in select_files(target.files, mixed)] == [
        "Dockerfile",
        "a.py",
        "b.JS",
        "c.tsx",
        "d.go",
    ]
    generic = tmp_path / "generic.yml"
    generic.write_text(
        "rules:\n  - {id: g, pattern: x, message: m, severity: INFO, languages: [generic]}\n",
        encoding="utf-8",
    )
    assert len(select_files(target.files, load_rule_set([generic]))) == len(target.files)


def test_rule_directory_and_bad_rule_files(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    (rules / "nested").mkdir(parents=True)
    (rules / "nested" / "java.yaml").write_text(
        "rules:\n  - {id: j, pattern: x, message: m, severity: INFO, languages: [java]}\n", encoding="utf-8"
    )
    assert load_rule_set([rules]).suffixes == frozenset({".java"})
    (rules / "bad.yml").write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match="is not valid YAML"):
        load_rule_set([rules])
    (rules / "bad.yml").write_text("just: text\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no 'rules' list"):
        load_rule_set([rules])
