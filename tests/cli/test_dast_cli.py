"""``bastion dast`` through the CLI: report formats, gate and exit codes, rule files, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dast_app import SEEDED, make_app
from dast_servers import serve

from bastion.cli.main import main


@pytest.fixture(scope="module")
def vuln() -> Iterator[str]:
    with serve(make_app(), tls=True) as url:
        yield url


@pytest.fixture(scope="module")
def hardened() -> Iterator[str]:
    with serve(make_app(hardened=True), tls=True) as url:
        yield url


def run(*args: str) -> int:
    return main(["dast", "--rate", "0", *args])


def test_json_report_and_exit_code(vuln: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dast.json"
    assert run(vuln, "--insecure", "-f", "json", "-o", str(out)) == 1
    report = json.loads(out.read_text())
    rules = {f["rule_id"] for f in report["findings"]}
    assert rules == set(SEEDED.values())
    err = capsys.readouterr().err
    assert "report written to" in err and "requests in" in err


def test_sarif_has_url_locations(vuln: str, tmp_path: Path) -> None:
    out = tmp_path / "dast.sarif"
    assert run(vuln, "--insecure", "-f", "sarif", "-o", str(out), "--fail-on", "critical") == 0
    document = json.loads(out.read_text())
    results = document["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert all(uri.startswith(vuln) for uri in uris)
    rule = next(r for r in document["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "dast.csp-missing")
    assert "external/cwe/cwe-693" in rule["properties"]["tags"]


def test_gitlab_and_junit_formats(vuln: str, tmp_path: Path) -> None:
    gitlab = tmp_path / "gl.json"
    assert run(vuln, "--insecure", "-f", "gitlab", "-o", str(gitlab), "-q") == 1
    assert json.loads(gitlab.read_text())["vulnerabilities"]
    junit = tmp_path / "junit.xml"
    assert run(vuln, "--insecure", "-f", "junit", "-o", str(junit), "-q") == 1
    assert junit.read_text().count("<testcase ") == len(SEEDED)


def test_table_on_stdout(
    vuln: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    assert run(vuln, "--insecure", "--fail-on", "none") == 0
    out = capsys.readouterr().out
    assert "dast.csp-missing" in out and "not checked for vulnerabilities" in out


def test_hardened_twin_passes_with_fail_on_info(hardened: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(hardened, "--insecure", "--active", "--allow-unsafe", "--fail-on", "info", "-f", "json") == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_zap_baseline_rules_file(vuln: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "zap.conf"
    rules.write_text(
        "# zap-baseline.py -g style\n"
        "10038\tFAIL\t(Content Security Policy (CSP) Header Not Set)\n"
        "10021\tIGNORE\t(X-Content-Type-Options Header Missing)\n"
        "10096\tIGNORE\t(Timestamp Disclosure)\n"
        "*\tOUTOFSCOPE\t.*/admin-panel$\n"
        "dast.secret-in-response\tWARN\n"
        "dast.debug-page\tWARN\n"
        "dast.cors-reflected-origin\tWARN\n"
    )
    # Everything high is WARN, so only the FAIL rule (a medium) blocks
    assert run(vuln, "--insecure", "--rules", str(rules), "-f", "json") == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    rules_found = {f["rule_id"] for f in report["findings"]}
    assert "dast.content-type-options" not in rules_found
    assert "dast.suspicious-comment" not in rules_found
    assert report["summary"]["blocking"] == 1
    assert "Timestamp Disclosure" in captured.err
    rules.write_text("10038\tWARN\n")
    assert run(vuln, "--insecure", "--rules", str(rules), "--fail-on", "critical", "-q") == 0


def test_baseline_round_trip(vuln: str, tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    assert run(vuln, "--insecure", "--write-baseline", str(base), "-q") == 0
    assert run(vuln, "--insecure", "--baseline", str(base), "--fail-on", "info", "-q", "-f", "json") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com/"], "not an http(s) URL"),
        (["http://"], "no host"),
        (["http://127.0.0.1:99999/"], "invalid port"),
        (["http://127.0.0.1:9/", "--format", "pdf"], "unknown format"),
        (["http://127.0.0.1:9/", "--fail-on", "severe"], "unknown severity"),
        (["http://127.0.0.1:9/", "--rate", "fast"], "--rate"),
        (["http://127.0.0.1:9/", "--rate", "-1"], "--rate"),
        (["http://127.0.0.1:9/", "--max-response-size", "huge"], "--max-response-size"),
        (["http://127.0.0.1:9/", "--max-response-size", "10"], "at least 1KB"),
        (["http://127.0.0.1:9/", "--auth-header", "Bearer sekrit-value"], "value given is not shown"),
        (["http://127.0.0.1:9/", "--cookie", "novalue"], "name=value"),
        (["http://127.0.0.1:9/", "--scope", "["], "invalid regular expression"),
        (["http://127.0.0.1:9/", "--scope", "^https://other"], "outside --scope"),
        (["http://127.0.0.1:9/", "--allow-unsafe"], "only makes sense with --active"),
        (["http://127.0.0.1:9/", "--zap", "http://127.0.0.1:9"], "--zap-key"),
        (["http://127.0.0.1:9/"], "cannot connect"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(*args, "--timeout", "2") == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and "sekrit" not in err


def test_tls_error_is_explained(vuln: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(vuln) == 2
    err = capsys.readouterr().err
    assert "TLS certificate verification failed" in err and "--insecure" in err


def test_bad_rules_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules.conf"
    rules.write_text("10020\tSOMETIMES\n")
    assert run("http://127.0.0.1:9/", "--rules", str(rules)) == 2
    assert f"{rules}:1" in capsys.readouterr().err


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dast", "--help"]) == 0
    assert "Example: bastion dast" in capsys.readouterr().out


def test_write_rules_round_trips(vuln: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.conf"
    assert (
        run(vuln, "--insecure", "--fail-on", "medium", "--write-rules", str(rules), "-q", "-f", "json") == 1
    )
    text = rules.read_text()
    assert "dast.csp-missing\tFAIL\t(Content-Security-Policy header missing) [ZAP 10038]" in text
    assert "dast.hsts-missing\tWARN\t" in text
    # the generated file is a valid rules file: with it, --fail-on critical still fails on the FAIL rules
    assert run(vuln, "--insecure", "--rules", str(rules), "--fail-on", "critical", "-q", "-f", "json") == 1
    edited = tmp_path / "edited.conf"
    edited.write_text(text.replace("FAIL", "WARN"))
    assert (
        run(vuln, "--insecure", "--rules", str(edited), "--write-rules", str(rules), "-q", "-f", "json") == 0
    )
    assert "FAIL" not in rules.read_text().split("\n", 2)[2]
    assert (
        run(vuln, "--insecure", "--write-rules", str(tmp_path / "no" / "dir.conf"), "-q", "-f", "json") == 2
    )
