"""``bastion scan`` end to end through the CLI: exit codes, baseline and suppression flows,
formats, config twins and every kind of bad input as a one-line error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bastion.cli.main import main

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text("import os\ntoken = 'INSECURE-HIGH'\nlevel = 'INSECURE-MEDIUM'\n")
    (root / "web").mkdir()
    (root / "web" / "page.html").write_text("<p>INSECURE-LOW</p>\n")
    return root


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes_follow_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path)
    code, out, _ = _scan(capsys, str(root), "--scanners", "marker")
    assert code == 1
    assert "app.py:2" in out and "gate FAILED (fail-on high)" in out
    assert _scan(capsys, str(root), "--scanners", "marker", "--fail-on", "critical")[0] == 0
    assert _scan(capsys, str(root), "--scanners", "marker", "--fail-on", "none")[0] == 0
    assert _scan(capsys, str(root), "-s", "marker", "--fail-on", "low")[0] == 1


def test_baseline_flow_reports_only_new_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "repo")
    baseline = tmp_path / "baseline.json"
    code, out, err = _scan(capsys, str(root), "-s", "marker", "--write-baseline", str(baseline))
    assert code == 0 and out == ""
    assert f"wrote baseline with 3 findings to {baseline}" in err
    assert _scan(capsys, str(root), "-s", "marker", "--baseline", str(baseline))[0] == 0
    # Unrelated lines above keep fingerprints; a new finding is reported and fails the gate.
    (root / "app.py").write_text(
        "import os\nimport sys\n\ntoken = 'INSECURE-HIGH'\n"
        "level = 'INSECURE-MEDIUM'\nnew = 'INSECURE-CRITICAL'\n"
    )
    code, out, _ = _scan(capsys, str(root), "-s", "marker", "--baseline", str(baseline), "-f", "json")
    document = json.loads(out)
    assert code == 1
    assert [f["rule_id"] for f in document["findings"]] == ["marker.critical"]
    assert document["summary"]["baselined"] == 3
    # Changing the offending content makes it a new finding again.
    (root / "app.py").write_text("token = 'INSECURE-HIGH' + suffix\n")
    code, out, _ = _scan(capsys, str(root), "-s", "marker", "--baseline", str(baseline), "-f", "json")
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["marker.high"]


def test_suppression_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path
    (root / "app.py").write_text(
        "token = 'INSECURE-HIGH'  # bastion: ignore[marker.high] test token, not a credential\n"
        "# bastion: ignore[marker.*]\n"
        "level = 'INSECURE-MEDIUM'\n"
    )
    (root / "page.html").write_text("<!-- bastion: ignore[marker.low] demo markup -->\n<p>INSECURE-LOW</p>\n")
    (root / "q.sql").write_text("SELECT 'INSECURE-CRITICAL'; -- bastion: ignore[marker.critical] fixture\n")
    (root / "a.js").write_text("f('INSECURE-HIGH'); // bastion: ignore[marker.high] vetted\n")
    code, out, _ = _scan(capsys, str(root), "-s", "marker", "-f", "json", "--fail-on", "low")
    document = json.loads(out)
    assert document["summary"]["suppressed"] == 5
    assert [(f["rule_id"], f["location"]["start_line"]) for f in document["findings"]] == [
        ("bastion.suppression-without-reason", 2)
    ]
    assert code == 1  # the reasonless suppression is itself a low finding
    code, out, _ = _scan(capsys, str(root), "-s", "marker")
    assert code == 0
    assert "1 finding (1 low) · 5 suppressed · 0 baselined" in out


def test_config_twins_and_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "repo")
    (root / "bastion.toml").write_text(
        '[scan]\nscanners = ["marker"]\nfail_on = "critical"\nformat = "sarif"\n'
        'output = "out/report.sarif"\nexclude = ["web/"]\n'
    )
    (root / "out").mkdir()
    code, out, err = _scan(capsys, str(root), "--trust-repo-config")
    assert code == 0
    assert out == ""
    sarif = json.loads((root / "out" / "report.sarif").read_text())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
    }
    assert uris == {"app.py"}
    assert "report written to" in err
    # The command line wins over the file.
    code, out, _ = _scan(
        capsys,
        str(root),
        "--trust-repo-config",
        "--fail-on",
        "medium",
        "-o",
        str(tmp_path / "r.json"),
        "-f",
        "json",
    )
    assert code == 1
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["fail_on"] == "medium"


@pytest.mark.parametrize(
    "table",
    [
        'fail_on = "none"',
        'fail_on = "critical"',
        'fail_on = "kev"',
        'output = "../outside/pwned.json"',
        'ignore = [{paths = ["*"], rules = ["*"], reason = "hide everything"}]',
        'exclude = ["app.py"]',
        'min_confidence = "high"',
        'baseline = "accepted.json"',
        'write_baseline = "../outside/baseline.json"',
    ],
)
@pytest.mark.parametrize("name", ["bastion.toml", "pyproject.toml"])
def test_scanned_repository_config_cannot_relax_the_gate_or_choose_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, name: str
) -> None:
    root = _project(tmp_path / "repo")
    (tmp_path / "outside").mkdir()
    header = "[tool.bastion.scan]" if name == "pyproject.toml" else "[scan]"
    (root / name).write_text(f"{header}\n{table}\n")
    code, out, err = _scan(capsys, str(root), "-s", "marker", "-f", "json")
    key = table.split(" ", 1)[0]
    assert code == 1, err
    document = json.loads(out)
    assert document["summary"]["fail_on"] == "high"
    assert document["summary"]["blocking"] == 1
    assert list((tmp_path / "outside").iterdir()) == []
    notice = f"not applied: scan.{key} (pass --trust-repo-config or --config {root / name} to apply them)"
    assert notice in err
    # reports name files relative to the scanned root (no machine paths in a shared report)
    relative = notice.replace(str(root / name), name)
    assert any(relative in n["message"] for n in document["notices"])


def test_repository_config_may_make_the_gate_stricter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path / "repo")
    (root / "bastion.toml").write_text('[scan]\nfail_on = "low"\nstrict = true\nformat = "json"\n')
    code, out, err = _scan(capsys, str(root), "-s", "marker")
    assert code == 1
    assert json.loads(out)["summary"]["fail_on"] == "low"
    assert "not applied" not in err


@pytest.mark.parametrize("trust", [["--trust-repo-config"], ["--config", "{root}/bastion.toml"]])
def test_trusted_repository_config_relaxes_and_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], trust: list[str]
) -> None:
    root = _project(tmp_path / "repo")
    (tmp_path / "outside").mkdir()
    (root / "bastion.toml").write_text('[scan]\nfail_on = "none"\noutput = "../outside/r.json"\n')
    code, _, err = _scan(capsys, str(root), "-s", "marker", *[t.format(root=root) for t in trust])
    assert code == 0, err
    assert (tmp_path / "outside" / "r.json").is_file()
    assert "not applied" not in err


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "gitlab", "junit"])
def test_every_format_renders(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    root = _project(tmp_path)
    code, out, _ = _scan(capsys, str(root), "-s", "marker", "--format", fmt, "--quiet")
    assert code == 1
    assert "app.py" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "error: {missing}: no such file or directory"),
        (["{root}", "-s", "nope"], "error: unknown scanner 'nope' (available:"),
        (["{root}", "--fail-on", "severe"], "error: command line: --fail-on: choose from"),
        (["{root}", "--format", "xml"], "error: command line: --format: Input should be"),
        (["{root}", "--baseline", "{missing}"], "baseline file not found"),
        (["{root}", "--config", "{root}/bad.toml"], "bad.toml: scan.fail_on: choose from"),
        (["{root}", "--max-file-size", "lots"], "error: command line: --max-file-size:"),
        (["{root}", "-o", "{missing}/x/report.json"], "cannot write report"),
        (["{root}", "--git-history"], "error: --git-history needs a scanner that reads git history"),
        (["{root}", "--since", "HEAD~3"], "error: --since needs a scanner that reads git history"),
        (["{root}", "--staged"], "error: --staged needs a scanner that reads git history"),
        (["{root}", "-c", "{root}/unknown-scanner.toml"], "scanners.nope: no such scanner is installed"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    root = _project(tmp_path / "repo")
    (root / "bad.toml").write_text('[scan]\nfail_on = "hgh"\n')
    (root / "unknown-scanner.toml").write_text("[scanners.nope]\nx = 1\n")
    filled = [a.format(root=root, missing=tmp_path / "missing") for a in args]
    code, _, err = _scan(capsys, *filled, "-s", "marker") if "-s" not in filled else _scan(capsys, *filled)
    assert code == 2
    assert message.format(missing=tmp_path / "missing") in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_empty_directory_and_binary_files_are_notices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _scan(capsys, str(tmp_path), "-s", "marker")
    assert code == 0
    assert "no files to scan" in out
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2INSECURE-HIGH")
    (tmp_path / "bad.py").write_bytes(b"\xff INSECURE-HIGH\n")
    code, out, _ = _scan(capsys, str(tmp_path), "-s", "marker")
    assert code == 1
    assert "notice: 1 binary files skipped" in out
    assert "bad.py: not valid UTF-8" in out


def test_scanner_failure_exits_2_but_reports_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS / "broken"))
    root = _project(tmp_path)
    code, out, err = _scan(capsys, str(root), "-s", "marker,crashing", "-f", "json")
    assert code == 2
    document = json.loads(out)
    assert len(document["findings"]) == 3
    assert document["failures"] == [{"scanner": "crashing", "error": "RuntimeError: boom"}]
    assert "scanner crashing failed: RuntimeError: boom" in err


def test_help_version_and_scanner_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("bastion ")
    assert main(["--help"]) == 0
    help_text = capsys.readouterr().out
    assert "scan" in help_text and "scanners" in help_text
    assert main(["scan", "--help"]) == 0
    assert "Example: bastion scan" in capsys.readouterr().out
    assert main(["scanners"]) == 0
    listing = capsys.readouterr().out
    assert "sast" in listing and "marker" in listing
    assert main(["scna"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_installed_console_script_end_to_end(tmp_path: Path) -> None:
    root = _project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(PLUGINS)}
    bastion = Path(sys.executable).with_name("bastion")
    done = subprocess.run(
        [str(bastion), "scan", str(root), "-s", "marker", "-f", "json", "--concurrency", "process"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert len(json.loads(done.stdout)["findings"]) == 3
    assert done.stderr == ""
    missing = subprocess.run(
        [str(bastion), "scan", str(tmp_path / "nope")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"error: {tmp_path / 'nope'}: no such file or directory"


def test_rules_flag_adds_a_teams_own_secret_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.toml").write_text(
        "[[rules]]\n"
        'id = "secrets.acme-internal-token"\n'
        'description = "Acme internal service token"\n'
        "regex = '(?P<secret>acme_[a-z0-9]{24})'\n"
        'keywords = ["acme_"]\n'
        'severity = "high"\n'
        'confidence = "high"\n'
        'examples.positive = ["t = \\"acme_q8w7e6r5t4y3u2i1o0p9a8s7\\""]\n'
        'examples.negative = ["t = \\"acme_short\\""]\n'
    )
    root = tmp_path / "repo"
    root.mkdir()
    (root / "svc.py").write_text('TOKEN = "acme_q8w7e6r5t4y3u2i1o0p9a8s7"\n')
    code, out, _ = _scan(capsys, str(root), "-s", "secrets", "--rules", str(rules), "-f", "json")
    assert code == 1
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["secrets.acme-internal-token"]
    assert "q8w7e6r5t4y3u2i1o0p9a8s7" not in out
    code, _, err = _scan(capsys, str(root), "-s", "secrets", "--rules", str(tmp_path / "nope"))
    assert code == 2
    assert "nope" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("table", "flags", "message"),
    [
        ("verify = true", [], "scanners.secrets.verify: not accepted from the scanned directory's config"),
        (
            'verify_base_urls = {github = "https://evil.test"}',
            [],
            "scanners.secrets.verify_base_urls: not accepted",
        ),
        (
            'rules = ["rules"]',
            ["--verify"],
            "rule files from the scanned directory cannot be used with --verify",
        ),
    ],
)
def test_scanned_repository_cannot_redirect_verification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, flags: list[str], message: str
) -> None:
    root = _project(tmp_path / "repo")
    (root / "rules").mkdir()
    (root / "bastion.toml").write_text(f"[scanners.secrets]\n{table}\n")
    code, _, err = _scan(capsys, str(root), "-s", "secrets", *flags)
    assert code == 2
    assert message in err
    # The same settings from an operator's explicit --config are accepted.
    if "verify_base_urls" not in table:
        code, _, err = _scan(
            capsys, str(root), "-s", "secrets", "--config", str(root / "bastion.toml"), *flags
        )
        assert code in (0, 1), err


def _unchecked_case(root: Path, case: str) -> tuple[str, str]:
    """Write one file a scanner cannot check into ``root``; returns (scanner, what the skip names)."""
    iac_bad = Path(__file__).resolve().parents[1] / "fixtures" / "iac" / "bad"
    if case == "hcl-syntax-error":
        (root / "main.tf").write_text((iac_bad / "broken.tf").read_text())
        return "iac", "main.tf"
    if case == "alias-bomb":
        (root / "bomb.yaml").write_text((iac_bad / "alias-bomb.yaml").read_text())
        return "iac", "bomb.yaml"
    if case == "deep-nesting":
        (root / "deep.json").write_text('{"Resources": ' + "[" * 5000 + "]" * 5000 + "}")
        return "iac", "deep.json"
    if case == "broken-lockfile":
        (root / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {')
        return "deps", "package-lock.json"
    (root / "big.env").write_text("AWS_SECRET_ACCESS_KEY=" + "x" * 2_000 + "\n")
    return "marker", "big.env"


@pytest.mark.parametrize(
    "case", ["hcl-syntax-error", "alias-bomb", "deep-nesting", "broken-lockfile", "over-size-limit"]
)
def test_strict_exits_1_whenever_the_summary_has_a_skip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "ok.txt").write_text("nothing to see\n")
    scanner, name = _unchecked_case(root, case)
    base = [str(root), "-s", scanner, "--max-file-size", "1000", "-f", "json"]
    code, out, err = _scan(capsys, *base)
    assert code == 0, err
    document = json.loads(out)
    skipped = [s["component"] for s in document["skipped"]] + [
        n["path"] for n in document["notices"] if n["kind"] in ("too-large", "unreadable")
    ]
    assert any(name in entry for entry in skipped), document
    code, out, err = _scan(capsys, *base, "--strict")
    assert code == 1, err
    assert json.loads(out)["summary"]["failed"] is True
    code, out, _ = _scan(capsys, *base[:-2], "--strict")
    assert code == 1 and "gate FAILED" in out and "gate passed" not in out


def test_a_scan_that_exits_2_never_says_the_gate_passed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS / "broken"))
    root = tmp_path / "repo"
    root.mkdir()
    (root / "ok.txt").write_text("nothing to see\n")
    code, out, err = _scan(capsys, str(root), "-s", "crashing")
    assert code == 2
    assert "gate passed" not in out + err and "gate FAILED" in out
    code, out, _ = _scan(capsys, str(root), "-s", "crashing", "-f", "json")
    assert code == 2 and json.loads(out)["summary"]["failed"] is True


def test_help_documents_trust_strict_and_unrated(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--trust-repo-config" in text and "belongs to the scanned code" in text
    assert "With --strict, anything not checked fails the run" in text
    assert '"unrated" and counted as high' in text and "[scanners.deps]" in text
    assert "[tool.bastion.scan] in pyproject.toml" in text  # brackets are text, not markup
