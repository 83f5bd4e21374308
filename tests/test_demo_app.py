"""The demo project: what today's scanners find on it, through the real CLI.

Each later issue (deps, iac, ...) extends EXPECTED with what its scanner finds here.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bastion.cli.main import main

pytestmark = pytest.mark.slow  # a whole scan of the demo app, semgrep included

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-app"
SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "schemas" / "sarif-schema-2.1.0.json").read_text()
)
FAKE_TOKEN = "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"  # generated, grants nothing

EXPECTED = {
    # insecure Python: one finding per line and weakness, the taint finding (with its trace from the
    # request) where there is one, else bandit's; the others are listed in its metadata "tools"
    ("sast.bandit.B105", "app.py", 12),  # + secrets generic-password (same line, CWE-259/798)
    ("sast.taint.subprocess", "app.py", 17),  # + bandit B602, semgrep subprocess-shell-dynamic
    ("sast.bandit.B608", "app.py", 23),  # + semgrep sql-string-built-query
    ("sast.bandit.B506", "app.py", 28),  # + semgrep yaml-unsafe-load
    ("sast.bandit.B301", "app.py", 32),  # + semgrep pickle-load
    ("sast.taint.weak-hash", "app.py", 36),  # + bandit B324
    ("sast.semgrep.python-weak-hash-password", "app.py", 36),
    ("sast.taint.code-eval", "app.py", 46),  # + bandit B307, semgrep eval-exec-dynamic
    ("sast.taint.xss-return", "app.py", 46),  # eval's result, chosen by the request, is the page
    ("sast.bandit.B201", "app.py", 50),  # debug=True: dangerous as written, constant or not
    ("sast.bandit.B104", "app.py", 50),
    # import subprocess / pickle (bandit B403, B404) are dropped: every use was analysed.
    # ping_view returns str(exit status): an int, so line 41 is no XSS.
    # insecure JavaScript
    ("sast.semgrep.js-inner-html-dynamic", "static/app.js", 5),
    ("sast.semgrep.js-eval-dynamic", "static/app.js", 9),
    ("sast.semgrep.js-math-random-for-secret", "static/app.js", 13),
    ("sast.semgrep.js-child-process-exec-dynamic", "static/app.js", 18),
    # secrets
    ("secrets.generic-password", "Dockerfile", 2),
    ("secrets.github-pat-classic", "config/settings.yaml", 7),
    ("secrets.postgres-uri-password", "config/settings.yaml", 9),
    ("secrets.generic-password", "infra/main.tf", 32),
}


@pytest.fixture(scope="module")
def sarif_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, object]]:
    out = tmp_path_factory.mktemp("demo") / "out.sarif"
    code = main(["scan", str(DEMO), "--scanners", "sast,secrets", "--format", "sarif", "-o", str(out), "-q"])
    return code, json.loads(out.read_text())


def test_demo_sarif_validates_and_fails_the_gate(sarif_run: tuple[int, dict[str, object]]) -> None:
    code, document = sarif_run
    assert code == 1
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)


def test_demo_findings_are_exactly_the_known_problems(sarif_run: tuple[int, dict[str, object]]) -> None:
    _, document = sarif_run
    run = document["runs"][0]
    found = {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    }
    # SARIF URIs are relative to the repository root (the demo is a subfolder of Bastion's)
    assert found == {(rule, f"examples/demo-app/{path}", line) for rule, path, line in EXPECTED}


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "gitlab", "junit"])
def test_demo_token_never_appears_in_full(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    main(["scan", str(DEMO), "--scanners", "secrets", "--format", fmt, "--verbose"])
    out, err = capsys.readouterr()
    assert "ghp_" in out or fmt == "junit"
    assert FAKE_TOKEN not in out and FAKE_TOKEN not in err
    assert FAKE_TOKEN[4:] not in out and "Sup3rS3cret" not in out


def test_every_rule_id_is_namespaced_by_its_scanner(capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", str(DEMO), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    for finding in document["findings"]:
        assert finding["rule_id"].startswith(finding["scanner"] + ".")
