"""``bastion fix`` end to end over a small project and the fixture advisory database."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.findings import Finding, Location, Severity
from bastion.fix import plan_upgrades

DEPS = Path(__file__).resolve().parents[1] / "fixtures" / "deps"

PACKAGE_JSON = """{
  "name": "orders-frontend",
  "version": "1.0.0",
  "dependencies": {
    "express": "^4.17.1",
    "lodash": "4.17.11"
  },
  "devDependencies": {
    "minimist": "1.2.0"
  }
}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """requirements.txt (Django, requests), package.json + package-lock.json (lodash, minimist
    direct; qs transitive), and the Struts pom of the deps fixtures (KEV)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.txt").write_text("Django==2.2.0\nrequests==2.19.0  # http\n", encoding="utf-8")
    web = root / "web"
    web.mkdir()
    shutil.copy(DEPS / "npm" / "v3" / "package-lock.json", web / "package-lock.json")
    (web / "package.json").write_text(PACKAGE_JSON, encoding="utf-8")
    shutil.copytree(DEPS / "java" / "multi", root / "java")
    return root


def _fix(project: Path, db: Path, *args: str) -> int:
    return main(["fix", str(project), "--db", str(db), *args])


def test_dry_run_prints_a_diff_and_writes_nothing(
    project: Path, advisory_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project / "requirements.txt").read_text(encoding="utf-8")
    code = _fix(project, advisory_db)
    out, err = capsys.readouterr()
    assert "-Django==2.2.0\n" in out and "+Django==2.2.28\n" in out
    assert '-    "lodash": "4.17.11"\n+    "lodash": "4.17.20"' in out
    assert "-    <struts2.version>2.3.31</struts2.version>" in out
    assert (project / "requirements.txt").read_text(encoding="utf-8") == before
    assert "dry run: nothing written" in err
    assert "web/package-lock.json: lockfile not refreshed: dry run; --write runs `npm install" in err
    assert '+  "overrides": {\n+    "qs": "6.7.3"\n' in out  # qs is transitive: pinned the npm way
    assert "+    <log4j2.version>2.16.0</log4j2.version>" in out  # managed in the parent pom
    assert code == 0  # every vulnerable dependency is fixed by the change


def test_patch_applies_with_git_and_pr_text_puts_kev_first(
    project: Path, advisory_db: Path, tmp_path: Path
) -> None:
    patch, body = tmp_path / "fix.patch", tmp_path / "pr.md"
    _fix(project, advisory_db, "-o", str(patch), "--pr-body", str(body), "-q")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "apply", "--check", str(patch)], cwd=project, check=True)
    text = body.read_text(encoding="utf-8")
    assert text.startswith("# Security: upgrade")
    assert "merge first" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "Package" not in line]
    kev_rows = [i for i, row in enumerate(rows) if "KEV" in row]
    assert kev_rows == list(range(len(kev_rows))) and kev_rows  # known exploited first
    assert any("struts2-core" in rows[i] for i in kev_rows)
    assert "[CVE-2017-5638](https://osv.dev/vulnerability/" in text
    assert "## Not fixed by this change" not in text
    assert "java/web/pom.xml → java/pom.xml" in text
    assert "## Lockfiles" in text and "npm install --package-lock-only" in text


def _fake_tool(bin_dir: Path, name: str, log: Path, exit_code: int = 0) -> None:
    script = bin_dir / name
    script.write_text(
        f'#!/bin/sh\necho "{name} $*" >> "{log}"\necho "resolver said no" >&2\nexit {exit_code}\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_write_rewrites_manifests_and_runs_the_lockfile_tool(
    project: Path,
    advisory_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "npm", log)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    _fix(project, advisory_db, "--write")
    err = capsys.readouterr().err
    assert "Django==2.2.28" in (project / "requirements.txt").read_text(encoding="utf-8")
    assert "requests==2.31.0  # http" in (project / "requirements.txt").read_text(encoding="utf-8")
    assert "wrote web/package.json" in err
    assert (
        log.read_text(encoding="utf-8").strip()
        == "npm install --package-lock-only --ignore-scripts --no-audit --no-fund"
    )
    assert "web/package-lock.json: refreshed with `npm install" in err
    # A second run finds the manifests already fixed: no diff for them.
    capsys.readouterr()
    _fix(project, advisory_db, "-q")
    assert "requirements.txt" not in capsys.readouterr().out


def test_a_failing_lockfile_tool_is_reported(
    project: Path,
    advisory_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "npm", log, exit_code=1)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    _fix(project, advisory_db, "--write")
    assert "failed: resolver said no" in capsys.readouterr().err


def test_without_an_advisory_database_nothing_passes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fix", str(project)]) == 2
    assert "no advisory database" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--write", "--dry-run"], "exclude each other")],
)
def test_usage_errors(
    project: Path, advisory_db: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _fix(project, advisory_db, *args) == 2
    assert message in capsys.readouterr().err


def test_not_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fix", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_nothing_vulnerable_exits_0(
    tmp_path: Path, advisory_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("Django==4.2.16\n", encoding="utf-8")
    assert main(["fix", str(tmp_path), "--db", str(advisory_db)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "0 upgrades in 0 manifests" in err


def _dep(package: str, advisory: str, smallest: str | None, fixed: list[str], kev: bool = False) -> Finding:
    return Finding(
        rule_id=f"deps.{advisory}",
        scanner="deps",
        title="t",
        severity=Severity.HIGH,
        location=Location(path="requirements.txt", start_line=1),
        message="m",
        fingerprint=advisory,
        metadata={
            "advisory": advisory,
            "ecosystem": "PyPI",
            "package": package,
            "installed_version": "1.0",
            "smallest_fix": smallest,
            "fixed_versions": fixed,
            "kev": kev,
        },
    )


def test_plan_groups_by_package_and_orders_kev_first() -> None:
    findings = [
        _dep("a", "CVE-1", "1.2", ["1.1"]),
        _dep("a", "CVE-2", "1.2", ["1.2"]),
        _dep("b", "CVE-3", None, [], kev=True),
        Finding(
            rule_id="sast.x",
            scanner="sast",
            title="t",
            severity=Severity.LOW,
            location=Location(),
            message="m",
            fingerprint="f",
        ),
    ]
    plan = plan_upgrades(findings)
    assert [(u.package, u.target, len(u.advisories)) for u in plan] == [("b", None, 1), ("a", "1.2", 2)]
    assert plan[0].kev and not plan[1].kev


def test_a_manifest_linked_outside_the_tree_is_left_alone(
    tmp_path: Path, advisory_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "package.json").write_text(PACKAGE_JSON, encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(DEPS / "npm" / "v3" / "package-lock.json", project / "package-lock.json")
    (project / "package.json").symlink_to(outside / "package.json")
    assert main(["fix", str(project), "--db", str(advisory_db), "--write"]) == 1
    assert (outside / "package.json").read_text(encoding="utf-8") == PACKAGE_JSON
    assert "package.json not found next to package-lock.json" in capsys.readouterr().err


def test_nuget_lockfile_fixes_the_project_file_beside_it(
    tmp_path: Path, advisory_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    shutil.copy(DEPS / "dotnet" / "packages.lock.json", project / "packages.lock.json")
    csproj = '<Project>\n  <ItemGroup>\n    <PackageReference Include="Newtonsoft.Json" Version="12.0.3" />\n'
    (project / "Svc.csproj").write_text(csproj + "  </ItemGroup>\n</Project>\n", encoding="utf-8")
    assert main(["fix", str(project), "--db", str(advisory_db), "-q"]) == 0
    out = capsys.readouterr().out
    assert '-    <PackageReference Include="Newtonsoft.Json" Version="12.0.3" />' in out
    assert '+    <PackageReference Include="Newtonsoft.Json" Version="13.0.1" />' in out
