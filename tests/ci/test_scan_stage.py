"""``bastion scan --stage NAME`` end to end: stage settings under the flags, deploy inputs scanned."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bastion.cli.main import main

IAC = Path(__file__).resolve().parents[1] / "fixtures" / "iac"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text("print('hello')\n", encoding="utf-8")
    (root / "build").mkdir()
    shutil.copy(IAC / "plan" / "tfplan.json", root / "build" / "tfplan.json")
    shutil.copytree(IAC / "kubernetes", root / "rendered")
    (root / "bastion.toml").write_text(
        '[scan]\nexclude = ["build/", "rendered/"]\n'
        '[stages.deploy]\nscanners = ["iac"]\nfail_on = "medium"\nstrict = false\n'
        'terraform_plan = ["build/tfplan.json"]\nmanifests = ["rendered"]\n',
        encoding="utf-8",
    )
    return root


def _scan(root: Path, *args: str) -> tuple[int, dict[str, object]]:
    out = root.parent / "report.json"
    code = main(["scan", str(root), "--trust-repo-config", "-f", "json", "-o", str(out), "-q", *args])
    return code, json.loads(out.read_text(encoding="utf-8"))


def test_deploy_stage_scans_the_plan_and_the_rendered_manifests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    code, report = _scan(root, "--stage", "deploy")
    paths = {f["location"].get("path", "") for f in report["findings"]}  # type: ignore[union-attr]
    assert any(p.startswith("build/tfplan.json") for p in paths), paths
    assert any(p.startswith("rendered/") for p in paths), paths
    assert report["summary"]["fail_on"] == "medium"  # type: ignore[index]
    assert code == 1
    assert report["scanners"] == ["iac"]


def test_flags_win_over_the_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    code, report = _scan(root, "--stage", "deploy", "--fail-on", "none")
    assert report["summary"]["fail_on"] == "none"  # type: ignore[index]
    assert code == 0


def test_unknown_stage_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path)
    assert main(["scan", str(root), "--stage", "prod", "-q"]) == 2
    assert "no such stage" in capsys.readouterr().err


def test_untrusted_repository_stage_cannot_relax_the_gate(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text("print('x')\n", encoding="utf-8")
    stage = '[stages.build]\nfail_on = "none"\nscanners = ["iac"]\n'
    (root / "bastion.toml").write_text(stage, encoding="utf-8")
    out = tmp_path / "r.json"
    main(["scan", str(root), "--stage", "build", "-f", "json", "-o", str(out), "-s", "secrets"])
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["summary"]["fail_on"] == "high"
    assert any("stages.build.fail_on" in n["message"] for n in report["notices"])


SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"


def _sarif_category(path: Path) -> str:
    """The code-scanning category of a SARIF file written by the CLI, after checking the file
    against the vendored SARIF 2.1.0 schema."""
    import jsonschema

    log = json.loads(path.read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert not errors, errors
    (run,) = log["runs"]
    category: str = run["automationDetails"]["id"].rsplit("/", 1)[0]
    return category


def test_each_stage_files_its_sarif_under_its_own_category(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two stages scanning one folder upload two sets of code-scanning alerts, not one that each
    upload overwrites; without --stage the category stays the folder's."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    api = repo / "services" / "api"
    api.mkdir(parents=True)
    (api / "app.py").write_text("print('hello')\n", encoding="utf-8")
    monkeypatch.chdir(repo)
    categories: dict[str | None, str] = {}
    for stage in ("build", "deploy", None):
        out = tmp_path / f"{stage}.sarif"
        args = ["scan", "services/api", "-s", "secrets", "-f", "sarif", "-o", str(out), "-q"]
        code = main([*args, *(["--stage", stage] if stage else [])])
        assert code == 0
        categories[stage] = _sarif_category(out)
    assert categories == {
        "build": "bastion/stage:build/services/api",
        "deploy": "bastion/stage:deploy/services/api",
        None: "bastion/services/api",
    }


def test_stage_travels_through_the_json_report_to_ci_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GitHub action scans to JSON and renders SARIF from it: the stage must survive the trip."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "app.py").write_text("print('hello')\n", encoding="utf-8")
    monkeypatch.chdir(repo)
    report = tmp_path / "report.json"
    args = ["scan", ".", "--stage", "deploy", "-s", "secrets", "-x", "vendor/", "-f", "json"]
    assert main([*args, "-o", str(report), "-q"]) == 0
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["stage"] == "deploy"
    sarif_path = tmp_path / "rendered.sarif"
    assert main(["ci", "render", str(report), "--to", f"sarif={sarif_path}"]) == 0
    assert _sarif_category(sarif_path) == "bastion/stage:deploy"
    scope = json.loads(sarif_path.read_text(encoding="utf-8"))["runs"][0]["properties"]["bastionScope"]
    assert scope["excludes"] == ["vendor/"]  # the rendered report claims the scan's scope, no wider
    plain = tmp_path / "plain.json"
    assert main(["scan", ".", "-s", "secrets", "-f", "json", "-o", str(plain), "-q"]) == 0
    assert json.loads(plain.read_text(encoding="utf-8"))["stage"] is None
    assert main(["ci", "render", str(plain), "--to", f"sarif={sarif_path}"]) == 0
    assert _sarif_category(sarif_path) == "bastion"
