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
    # insecure Python (bandit and semgrep agree where both have a rule)
    ("sast.bandit.B403", "app.py", 4),
    ("sast.bandit.B404", "app.py", 6),
    ("sast.bandit.B105", "app.py", 12),
    ("sast.bandit.B602", "app.py", 17),
    ("sast.semgrep.python-subprocess-shell-dynamic", "app.py", 17),
    ("sast.bandit.B608", "app.py", 23),
    ("sast.semgrep.python-sql-string-built-query", "app.py", 23),
    ("sast.bandit.B506", "app.py", 28),
    ("sast.semgrep.python-yaml-unsafe-load", "app.py", 28),
    ("sast.bandit.B301", "app.py", 32),
    ("sast.semgrep.python-pickle-load", "app.py", 32),
    ("sast.bandit.B324", "app.py", 36),
    ("sast.semgrep.python-weak-hash-password", "app.py", 36),
    ("sast.bandit.B307", "app.py", 46),
    ("sast.semgrep.python-eval-exec-dynamic", "app.py", 46),
    ("sast.bandit.B201", "app.py", 50),
    ("sast.bandit.B104", "app.py", 50),
    # insecure JavaScript
    ("sast.semgrep.js-inner-html-dynamic", "static/app.js", 5),
    ("sast.semgrep.js-eval-dynamic", "static/app.js", 9),
    ("sast.semgrep.js-math-random-for-secret", "static/app.js", 13),
    ("sast.semgrep.js-child-process-exec-dynamic", "static/app.js", 18),
    # secrets
    ("secrets.generic-password", "app.py", 12),
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
    assert found == EXPECTED


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
