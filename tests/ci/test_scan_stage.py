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
