"""``bastion db import|status|update`` and the deps gate flags of ``bastion scan`` through the CLI."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from bastion.cli.main import main

TESTS = Path(__file__).resolve().parents[1]
ADVISORIES = TESTS / "fixtures" / "advisories"
DEPS = TESTS / "fixtures" / "deps"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A database imported through the CLI, selected by $BASTION_ADVISORY_DB."""
    path = tmp_path / "cache" / "advisories.sqlite3"
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(path))
    monkeypatch.chdir(tmp_path)
    assert main(["db", "import", str(ADVISORIES / "osv")]) == 0
    assert main(["db", "import", "--kev", str(ADVISORIES / "kev.json")]) == 0
    capsys.readouterr()
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_and_status(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "db", "status")
    assert code == 0
    assert f"database: {db}" in out
    assert "PyPI" in out and "Maven" in out and "(0 days ago)" in out
    assert "KEV: " in out and "known exploited vulnerabilities" in out
    code, out, _ = _run(capsys, "db", "import", str(ADVISORIES / "osv"))
    assert code == 0 and "0 records written" in out and "unchanged" in out


@pytest.mark.usefixtures("db")
def test_struts_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "scan",
        str(DEPS / "java" / "multi"),
        "-s",
        "deps",
        "-f",
        "json",
        "--concurrency",
        "thread",
        "--fail-on",
        "kev",
    )
    report = json.loads(out)
    struts = next(f for f in report["findings"] if f["rule_id"] == "deps.CVE-2017-5638")
    assert struts["severity"] == "critical"
    assert "known exploited (CISA KEV, added 2021-11-03, ransomware use: Known)" in struts["message"]
    assert struts["location"]["purl"] == "pkg:maven/org.apache.struts/struts2-core@2.3.31"
    assert report["summary"]["fail_on"] == "kev"
    assert code == 1  # a KEV finding fails --fail-on kev


@pytest.mark.usefixtures("db")
def test_fail_on_kev_passes_without_kev(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("flask==0.12.2\n")
    code, out, _ = _run(
        capsys, "scan", str(tmp_path / "app"), "-s", "deps", "--concurrency", "thread", "--fail-on", "kev"
    )
    assert code == 0, out
    assert "gate passed (fail-on kev)" in out
    assert (
        _run(
            capsys, "scan", str(tmp_path / "app"), "-s", "deps", "--concurrency", "thread", "--fail-on", "low"
        )[0]
        == 1
    )


@pytest.mark.usefixtures("db")
def test_strict_fails_on_skipped_packages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("six>=1.0\n")
    code, out, _ = _run(capsys, "scan", str(tmp_path / "app"), "-s", "deps", "--concurrency", "thread")
    assert code == 0 and "skipped deps PyPI/six (requirements.txt:1): version not pinned (>=1.0)" in out
    code, _, _ = _run(
        capsys, "scan", str(tmp_path / "app"), "-s", "deps", "--concurrency", "thread", "--strict"
    )
    assert code == 1


def test_missing_database_is_skipped_visibly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / "none.sqlite3"))
    (tmp_path / "requirements.txt").write_text("flask==0.12.2\n")
    code, out, _ = _run(capsys, "scan", str(tmp_path), "-s", "deps", "--concurrency", "thread")
    assert code == 0 and "no advisory database" in out and "bastion db update" in out
    assert _run(capsys, "scan", str(tmp_path), "-s", "deps", "--concurrency", "thread", "--strict")[0] == 1
    code, _, err = _run(capsys, "db", "status")
    assert code == 2 and "no advisory database; create it with `bastion db update`" in err


def test_corrupted_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"\x00garbage" * 500)
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(bad))
    (tmp_path / "requirements.txt").write_text("flask==0.12.2\n")
    code, out, err = _run(capsys, "scan", str(tmp_path), "-s", "deps", "--concurrency", "thread")
    text = " ".join((out + err).split())
    assert code == 2 and "scanner deps failed:" in text and "not a usable advisory database" in text
    assert "bastion db update" in text and "Traceback" not in text
    code, _, err = _run(capsys, "db", "status")
    assert code == 2 and err.count("\n") == 1


def test_update_from_file_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "npm").mkdir(parents=True)
    with zipfile.ZipFile(mirror / "npm" / "all.zip", "w") as archive:
        archive.write(ADVISORIES / "osv" / "ghsa" / "GHSA-jf85-cpcp-j695.json", "GHSA-jf85-cpcp-j695.json")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "bastion.toml").write_text(
        f'[scanners.deps]\ndatabase = "db/adv.sqlite3"\nosv_url = "{mirror.as_uri()}"\n'
        f'kev_url = "{(ADVISORIES / "kev.json").as_uri()}"\n'
    )
    monkeypatch.chdir(tmp_path / "proj")
    trust = "--trust-repo-config"
    code, out, err = _run(capsys, "db", "update", "--ecosystem", "npm", trust)
    assert code == 0, err
    assert "npm: 1 records written" in out and "KEV: " in out
    assert (tmp_path / "proj" / "db" / "adv.sqlite3").is_file()
    code, out, _ = _run(capsys, "db", "update", "-e", "npm", "--no-kev", trust)
    assert "npm: archive unchanged since the last update" in out
    code, _, err = _run(capsys, "db", "update", "-e", "PyPI", "--no-kev", trust)
    assert code == 2 and "PyPI/all.zip: cannot read" in err
    code, out, _ = _run(capsys, "db", "status", "--stale-days", "0", trust)
    assert "npm" in out


def test_import_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / "db.sqlite3"))
    code, _, err = _run(capsys, "db", "import", str(tmp_path / "missing"))
    assert code == 2 and "no such file or directory" in err
    (tmp_path / "kev.json").write_text("{}")
    code, _, err = _run(capsys, "db", "import", "--kev", str(tmp_path / "kev.json"))
    assert code == 2 and "not a CISA KEV catalog" in err
    recs = tmp_path / "recs"
    recs.mkdir()
    (recs / "bad.json").write_text('{"id": ')
    code, out, err = _run(capsys, "db", "import", str(recs))
    assert code == 0 and "1 skipped" in out and "bad.json: invalid JSON" in err


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (
        ["db", "--help"],
        ["db", "update", "--help"],
        ["db", "import", "--help"],
        ["db", "status", "--help"],
    ):
        code, out, _ = _run(capsys, *command)
        assert code == 0 and "Example: bastion db" in out


def test_scanned_config_cannot_run_programs_or_swap_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("flask==0.12.2\n")
    for key, value in (("python_env", "./evil.sh"), ("sbom", "clean.json")):
        (tmp_path / "bastion.toml").write_text(f'[scanners.deps]\n{key} = "{value}"\n')
        code, _, err = _run(capsys, "scan", str(tmp_path), "-s", "deps", "--concurrency", "thread")
        assert code == 2 and f"scanners.deps.{key}: not accepted from the scanned directory's config" in err


def test_config_database_path_is_relative_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BASTION_ADVISORY_DB", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "bastion.toml").write_text('[scanners.deps]\ndatabase = "cache/adv.sqlite3"\n')
    (project / "pom.xml").write_text(
        (DEPS.parent.parent.parent / "examples" / "demo-app" / "pom.xml").read_text()
    )
    monkeypatch.chdir(project)
    assert _run(capsys, "db", "import", str(ADVISORIES / "osv"), "--trust-repo-config")[0] == 0
    assert _run(capsys, "db", "import", "--kev", str(ADVISORIES / "kev.json"), "-c", "bastion.toml")[0] == 0
    monkeypatch.chdir(tmp_path)
    args = ["scan", str(project), "-s", "deps", "-f", "json", "--concurrency", "thread"]
    code, out, _ = _run(capsys, *args, "--trust-repo-config")
    assert code == 1
    assert any(f["rule_id"] == "deps.CVE-2017-5638" for f in json.loads(out)["findings"])
    # Untrusted, the scanned directory does not choose the advisory data it is checked against.
    code, out, err = _run(capsys, *args)
    assert "not applied: scanners.deps.database" in err
    assert not any(f["rule_id"] == "deps.CVE-2017-5638" for f in json.loads(out)["findings"])


def test_database_damaged_past_its_schema_is_one_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Pages after the schema damaged: the first queries work, the counts do not."""
    data = bytearray(db.read_bytes())
    for offset in range(len(data) // 2, len(data), 1500):
        data[offset] ^= 0x5A
    db.write_bytes(bytes(data))
    code, out, err = _run(capsys, "db", "status")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "not a usable advisory database" in err and "Traceback" not in err
    (db.parent / "requirements.txt").write_text("flask==0.12.2\n")
    args = ["scan", str(db.parent), "-s", "deps", "--concurrency", "thread", "-f", "json"]
    code, out, err = _run(capsys, *args)
    assert code == 2 and "Traceback" not in err
    assert json.loads(out)["summary"]["failed"] is True


def test_ecosystem_without_data_is_shown_and_fails_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "pypi.sqlite3"
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(db))
    assert _run(capsys, "db", "import", str(ADVISORIES / "osv" / "pypa"))[0] == 0
    code, out, _ = _run(capsys, "db", "status")
    assert code == 0 and "PyPI" in out
    [line] = [line for line in out.splitlines() if line.startswith("no advisories for:")]
    assert "npm" in line and "Maven" in line and "PyPI" not in line
    project = tmp_path / "project"
    shutil.copytree(DEPS / "npm" / "v3", project)
    args = ["scan", str(project), "-s", "deps", "--concurrency", "thread"]
    code, out, _ = _run(capsys, *args)
    assert code == 0 and "skipped deps npm: advisory database" in " ".join(out.split())
    assert _run(capsys, *args, "--strict")[0] == 1


def test_current_directory_config_cannot_choose_where_db_writes_or_downloads_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checked-out repository's config names the database path and the mirror: not applied."""
    default = tmp_path / "cache" / "advisories.sqlite3"
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(default))
    (tmp_path / "outside").mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "bastion.toml").write_text(
        '[scanners.deps]\ndatabase = "../outside/pwned.sqlite3"\n'
        'osv_url = "file:///nowhere"\nstale_days = 3\n'
    )
    monkeypatch.chdir(repo)
    code, out, err = _run(capsys, "db", "import", str(ADVISORIES / "osv"))
    assert code == 0 and f"database: {default}" in out
    assert "not applied: scanners.deps.database, scanners.deps.osv_url" in err
    assert list((tmp_path / "outside").iterdir()) == []
    code, out, _ = _run(capsys, "db", "status")
    assert code == 0 and f"database: {default}" in out
