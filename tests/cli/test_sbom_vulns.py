"""``bastion sbom --vulns``: CycloneDX 1.6 with the components' vulnerabilities (VEX), through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from bastion.cli.main import main
from bastion.sbom.validate import cyclonedx_problems

TESTS = Path(__file__).resolve().parents[1]
DEPS = TESTS / "fixtures" / "deps"
ADVISORIES = TESTS / "fixtures" / "advisories"
STRUTS = "pkg:maven/org.apache.struts/struts2-core@2.3.31"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """The fixture advisories and KEV catalog imported through the CLI, selected by $BASTION_ADVISORY_DB."""
    path = tmp_path / "cache" / "advisories.sqlite3"
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(path))
    assert main(["db", "import", str(ADVISORIES / "osv")]) == 0
    assert main(["db", "import", "--kev", str(ADVISORIES / "kev.json")]) == 0
    capsys.readouterr()
    return path


def _sbom(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str, str]:
    """Run ``bastion sbom ARGS --vulns`` to stdout; the exit code, the document, its text, stderr."""
    code = main(["sbom", *args, "--vulns"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else {}), out, err


def _valid(text: str) -> None:
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert cyclonedx_problems(text) == []


def _property(properties: list[dict[str, str]], name: str) -> str | None:
    return next((p["value"] for p in properties if p["name"] == name), None)


@pytest.mark.usefixtures("db")
def test_vulnerabilities_of_the_components(capsys: pytest.CaptureFixture[str]) -> None:
    code, bom, text, err = _sbom(capsys, str(DEPS / "java" / "multi"))
    assert code == 0
    _valid(text)
    assert bom["specVersion"] == "1.6"
    assert _property(bom["metadata"]["properties"], "bastion:vulnerabilities") == "checked"
    refs = {c["bom-ref"] for c in bom["components"]}
    struts = next(v for v in bom["vulnerabilities"] if v["id"] == "CVE-2017-5638")
    assert struts["affects"] == [{"ref": STRUTS, "versions": [{"version": "2.3.31", "status": "affected"}]}]
    assert struts["source"] == {"name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2017-5638"}
    assert {
        "id": "GHSA-j77q-2qqg-6989",
        "source": {"name": "GitHub", "url": "https://github.com/advisories/GHSA-j77q-2qqg-6989"},
    } in struts["references"]
    cvss = struts["ratings"][0]
    assert cvss["method"] == "CVSSv3" and cvss["vector"].startswith("CVSS:3.0/AV:N") and cvss["score"] == 10.0
    assert cvss["severity"] == "critical"
    assert struts["cwes"] == [20]
    assert "remote arbitrary command execution" in struts["description"]
    assert struts["advisories"] == [
        {"title": "GHSA-j77q-2qqg-6989", "url": "https://osv.dev/vulnerability/GHSA-j77q-2qqg-6989"}
    ]
    assert "2.3.32" in struts["recommendation"]
    assert struts["analysis"]["state"] == "in_triage"
    assert _property(struts["properties"], "bastion:kev") == "true"
    assert _property(struts["properties"], "bastion:kev-date-added") == "2021-11-03"
    for vulnerability in bom["vulnerabilities"]:
        assert vulnerability["analysis"]["state"] == "in_triage"  # never "exploitable": reachability unknown
        assert all(affected["ref"] in refs for affected in vulnerability["affects"])
        assert vulnerability["ratings"]
    assert {v["id"] for v in bom["vulnerabilities"]} >= {"CVE-2017-5638", "CVE-2021-45046"}
    assert f"vulnerabilities: {len(bom['vulnerabilities'])} found, each in triage" in err
    assert "WARNING" not in err


@pytest.mark.usefixtures("db")
def test_python_advisory_without_cvss(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A record without a CVSS vector is rated by Bastion, with the reason, never left unrated in silence."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("flask==0.12.2\nrequests==2.31.0\n", encoding="utf-8")
    out = tmp_path / "bom.json"
    assert main(["sbom", str(tmp_path / "app"), "--vulns", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    _valid(text)
    bom = json.loads(text)
    flask = [v for v in bom["vulnerabilities"] if v["affects"][0]["ref"] == "pkg:pypi/flask@0.12.2"]
    assert flask, bom["vulnerabilities"]
    for vulnerability in flask:
        bastion = [r for r in vulnerability["ratings"] if r["source"]["name"] == "Bastion"]
        if not any(r.get("vector") for r in vulnerability["ratings"]):
            assert bastion and bastion[0]["justification"]
        assert _property(vulnerability["properties"], "bastion:kev") == "false"
    assert not any(v["affects"][0]["ref"].startswith("pkg:pypi/requests@") for v in bom["vulnerabilities"])
    assert f"vulnerabilities: {len(bom['vulnerabilities'])} found, each in triage" in err


@pytest.mark.usefixtures("db")
def test_nothing_found_is_an_empty_list_and_says_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.31.0\n", encoding="utf-8")
    code, bom, text, _ = _sbom(capsys, str(tmp_path), "-q")
    assert code == 0
    _valid(text)
    assert bom["vulnerabilities"] == []
    assert _property(bom["metadata"]["properties"], "bastion:vulnerabilities") == "checked"


@pytest.mark.usefixtures("db")
def test_components_the_database_cannot_check_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, bom, text, _ = _sbom(capsys, str(DEPS / "php"), "-q")
    assert code == 0
    _valid(text)
    properties = bom["metadata"]["properties"]
    assert int(_property(properties, "bastion:vulnerabilities-unchecked-components") or 0) >= 1
    reasons = [
        p["value"] for c in bom["components"] for p in c["properties"] if p["name"] == "bastion:not-checked"
    ]
    assert "vulnerabilities not checked: the advisory database holds no Packagist advisories" in reasons
    assert "vulnerabilities" in bom  # the others were checked


def test_without_a_database_the_sbom_is_written_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / "missing" / "advisories.sqlite3"))
    out = tmp_path / "bom.json"
    assert main(["sbom", str(DEPS / "java" / "multi"), "--vulns", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("WARNING: no advisory database") == 1 and "vulnerabilities were NOT checked" in err
    text = out.read_text(encoding="utf-8")
    _valid(text)
    bom = json.loads(text)
    assert "vulnerabilities" not in bom  # an empty list would read as "none found"
    properties = bom["metadata"]["properties"]
    assert _property(properties, "bastion:vulnerabilities") == "not-checked"
    assert "bastion db update" in (_property(properties, "bastion:vulnerabilities:reason") or "")
    assert str(tmp_path) not in text  # no path of the scanning machine in the document
    assert any(c["purl"] == STRUTS for c in bom["components"])


def test_vulns_needs_cyclonedx(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sbom", str(DEPS / "go"), "--vulns", "--format", "spdx"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().count("\n") == 0 and "--vulns: only with --format cyclonedx" in captured.err


def test_a_file_that_is_no_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "advisories.sqlite3"
    broken.write_text("not a database", encoding="utf-8")
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(broken))
    assert main(["sbom", str(DEPS / "go"), "--vulns"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.strip().count("\n") == 0


def test_without_vulns_nothing_changes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sbom", str(DEPS / "go"), "-q"]) == 0
    bom = json.loads(capsys.readouterr().out)
    assert "vulnerabilities" not in bom and "properties" not in bom["metadata"]


def test_db_option_names_the_database(
    tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--db wins over $BASTION_ADVISORY_DB (here a broken file that would fail the run if read)."""
    broken = tmp_path / "broken.sqlite3"
    broken.write_text("not a database", encoding="utf-8")
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(broken))
    code, bom, text, err = _sbom(capsys, str(DEPS / "java" / "multi"), "--db", str(db))
    assert code == 0, err
    _valid(text)
    assert _property(bom["metadata"]["properties"], "bastion:vulnerabilities") == "checked"
    assert "CVE-2017-5638" in {v["id"] for v in bom["vulnerabilities"]}
    assert "WARNING" not in err


def _no_database(path: Path) -> Path:
    return path / "absent.sqlite3"


def _directory(path: Path) -> Path:
    (path / "dir.sqlite3").mkdir()
    return path / "dir.sqlite3"


def _text(path: Path) -> Path:
    (path / "text.sqlite3").write_text("not a database", encoding="utf-8")
    return path / "text.sqlite3"


def _empty(path: Path) -> Path:
    (path / "empty.sqlite3").write_bytes(b"")  # SQLite opens an empty file as an empty database
    return path / "empty.sqlite3"


def _foreign(path: Path) -> Path:
    import sqlite3

    connection = sqlite3.connect(path / "foreign.sqlite3")
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.commit()
    connection.close()
    return path / "foreign.sqlite3"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_no_database, "advisory database not found (no such file)"),
        (_directory, "advisory database not found (a directory, not a database file)"),
        (_text, "not a usable advisory database"),
        (_empty, "not a usable advisory database (no Bastion schema)"),
        (_foreign, "not a usable advisory database (no Bastion schema)"),
    ],
)
def test_a_named_database_that_is_missing_or_broken_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    """An explicit --db is never silently replaced by "not checked": exit 2, one line naming it,
    and no SBOM written (an old one is left as it was)."""
    database = make(tmp_path)
    out = tmp_path / "bom.json"
    out.write_text("previous", encoding="utf-8")
    code = main(["sbom", str(DEPS / "go"), "--vulns", "--db", str(database), "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.strip().count("\n") == 0, captured.err
    assert captured.err.startswith(f"error: {database}") and message in captured.err
    assert out.read_text(encoding="utf-8") == "previous"


def test_db_needs_vulns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sbom", str(DEPS / "go"), "--db", str(tmp_path / "a.sqlite3")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--db: only with --vulns" in captured.err


def test_the_database_named_by_a_config(
    tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """[scanners.deps] database of --config (relative to the config), or of PATH's own config only
    with --trust-repo-config; a database a config names but that is missing is an error."""
    monkeypatch.delenv("BASTION_ADVISORY_DB")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    config = tmp_path / "team" / "bastion.toml"
    config.parent.mkdir()
    config.write_text(f'[scanners.deps]\ndatabase = "../{db.relative_to(tmp_path)}"\n', encoding="utf-8")
    code, bom, _, _ = _sbom(capsys, str(DEPS / "java" / "multi"), "--config", str(config))
    assert code == 0
    assert "CVE-2017-5638" in {v["id"] for v in bom["vulnerabilities"]}
    project = tmp_path / "project"
    shutil.copytree(DEPS / "java" / "multi", project)
    (project / "bastion.toml").write_text(f'[scanners.deps]\ndatabase = "{db}"\n', encoding="utf-8")
    code, bom, _, err = _sbom(capsys, str(project))
    assert code == 0 and "vulnerabilities" not in bom
    assert "not applied: scanners.deps.database" in err and "vulnerabilities were NOT checked" in err
    code, bom, _, _ = _sbom(capsys, str(project), "--trust-repo-config")
    assert code == 0 and bom["vulnerabilities"]
    config.write_text('[scanners.deps]\ndatabase = "missing.sqlite3"\n', encoding="utf-8")
    code, _, _, err = _sbom(capsys, str(project), "--config", str(config))
    assert code == 2 and "missing.sqlite3: advisory database not found" in err
    assert main(["sbom", str(project), "--config", str(config)]) == 2
    assert "only with --vulns" in capsys.readouterr().err
