"""``[stages.NAME]``: built-in and configured stages, trust of a scanned repository's stages,
and deploy-stage inputs (a Terraform plan JSON, rendered Kubernetes manifests) scanned by iac."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bastion.ci import builtin_stages, resolve_stage
from bastion.ci.deploy import display_path, scan_stage_inputs
from bastion.config import ScanConfig
from bastion.errors import ConfigError, UsageError
from bastion.findings import Severity
from bastion.gate import GatePolicy, GateResult
from bastion.results import ScanResult
from bastion.scan.registry import Registry

IAC = Path(__file__).resolve().parents[1] / "fixtures" / "iac"


def test_builtin_stages() -> None:
    stages = builtin_stages()
    assert set(stages) >= {"commit", "build", "deploy"}
    assert stages["commit"].staged is True and stages["commit"].scanners == ["secrets"]
    assert stages["deploy"].fail_on == "medium"


def test_configured_stage_overrides_builtin_keys(tmp_path: Path) -> None:
    config = tmp_path / "bastion.toml"
    table = {"stages": {"build": {"fail_on": "critical", "scanners": ["deps"]}}}
    stage = resolve_stage("build", table, config, trusted=True, target=tmp_path)
    assert stage.settings == {"scanners": ["deps"], "fail_on": "critical"}
    stage = resolve_stage("commit", table, config, trusted=True, target=tmp_path)
    assert stage.settings["staged"] is True


def test_new_stage_with_deploy_inputs_and_policies(tmp_path: Path) -> None:
    shutil.copy(IAC / "plan" / "tfplan.json", tmp_path / "tfplan.json")
    (tmp_path / "rendered").mkdir()
    (tmp_path / "policies").mkdir()
    table = {
        "stages": {
            "release": {
                "scanners": ["iac"],
                "terraform_plan": ["tfplan.json"],
                "manifests": ["rendered"],
                "policies": ["policies"],
            }
        }
    }
    stage = resolve_stage("release", table, tmp_path / "bastion.toml", trusted=True, target=tmp_path)
    assert stage.inputs == (tmp_path / "tfplan.json", tmp_path / "rendered")
    assert stage.policies == (tmp_path / "policies",)


def test_unknown_stage_and_bad_tables(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no such stage \(known: build, commit, deploy"):
        resolve_stage("prod", {}, None, trusted=True, target=tmp_path)
    config = tmp_path / "bastion.toml"
    with pytest.raises(ConfigError, match=r"stages\.build\.fail_on"):
        resolve_stage(
            "build", {"stages": {"build": {"fail_on": "severe"}}}, config, trusted=True, target=tmp_path
        )
    with pytest.raises(ConfigError, match=r"stages\.build\.colour: unknown key"):
        resolve_stage("build", {"stages": {"build": {"colour": 1}}}, config, trusted=True, target=tmp_path)
    with pytest.raises(ConfigError, match=r"\[stages\] must be a table"):
        resolve_stage("build", {"stages": 3}, config, trusted=True, target=tmp_path)
    with pytest.raises(ConfigError, match=r"stages\.build must be a table"):
        resolve_stage("build", {"stages": {"build": 3}}, config, trusted=True, target=tmp_path)
    with pytest.raises(ConfigError, match=r"input .* not found"):
        resolve_stage(
            "build", {"stages": {"build": {"manifests": ["gone"]}}}, config, trusted=True, target=tmp_path
        )


def test_untrusted_stage_cannot_relax_the_gate(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text("{}", encoding="utf-8")
    table = {
        "stages": {
            "build": {
                "fail_on": "none",
                "scanners": ["secrets"],
                "exclude": ["src/"],
                "strict": False,
                "policies": ["p"],
                "terraform_plan": ["plan.json"],
            },
            "deploy": {"fail_on": "low", "strict": True, "manifests": ["../outside"]},
        }
    }
    config = tmp_path / "bastion.toml"
    build = resolve_stage("build", table, config, trusted=False, target=tmp_path)
    assert build.settings == {"scanners": ["secrets", "deps", "sast", "iac"], "fail_on": "high"}
    assert set(build.not_applied) == {
        "stages.build.fail_on",
        "stages.build.scanners",
        "stages.build.exclude",
        "stages.build.strict",
    }
    assert build.inputs == (tmp_path / "plan.json",)
    deploy = resolve_stage("deploy", table, config, trusted=False, target=tmp_path)
    assert deploy.settings["fail_on"] == "low" and deploy.settings["strict"] is True
    assert deploy.not_applied == ("stages.deploy.manifests",)


def test_deploy_inputs_are_scanned_by_iac_and_merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    (work / "build").mkdir(parents=True)
    shutil.copy(IAC / "plan" / "tfplan.json", work / "build" / "tfplan.json")
    shutil.copytree(IAC / "kubernetes", work / "rendered")
    monkeypatch.chdir(work)
    table = {"stages": {"deploy": {"terraform_plan": ["build/tfplan.json"], "manifests": ["rendered"]}}}
    stage = resolve_stage("deploy", table, work / "bastion.toml", trusted=True, target=work)
    base = GateResult(
        scan=ScanResult(root=Path("."), scanners=["secrets"]), findings=[], policy=GatePolicy(Severity.MEDIUM)
    )
    config = ScanConfig(scanners=["iac"])
    result = scan_stage_inputs(base, stage, config, Registry.from_entry_points(), {})
    paths = {f.location.path for f in result.findings}
    assert any(p and p.startswith("build/tfplan.json") for p in paths), paths
    assert any(p and p.startswith("rendered/") for p in paths), paths
    assert "iac" in result.scan.scanners
    assert result.blocking
    assert not any(str(tmp_path) in (p or "") for p in paths)


def test_display_path(tmp_path: Path) -> None:
    assert display_path(tmp_path / "a" / "b.json", tmp_path) == "a/b.json"
    assert display_path(Path("/elsewhere/plan.json"), tmp_path) == "plan.json"


def test_config_file_with_stages_and_coverage_tables_loads(tmp_path: Path) -> None:
    from bastion.config import load_config

    config = tmp_path / "bastion.toml"
    config.write_text(
        '[scan]\nfail_on = "high"\n[stages.deploy]\nfail_on = "low"\n[coverage]\nmin = 80\n', encoding="utf-8"
    )
    loaded = load_config(config)
    assert loaded.stages == {"deploy": {"fail_on": "low"}}
    assert loaded.coverage == {"min": 80}


def test_stage_settings_sit_under_the_flags_and_read_the_config_file(tmp_path: Path) -> None:
    from bastion.ci import stage_for_scan

    config = tmp_path / "bastion.toml"
    config.write_text('[stages.build]\nfail_on = "critical"\nscanners = ["deps"]\n', encoding="utf-8")
    stage = stage_for_scan("build", config, trusted=True, target=tmp_path)
    merged = stage.under({"fail_on": "low", "scanners": None, "quiet": None})
    assert merged == {"fail_on": "low", "scanners": ["deps"], "quiet": None}
    assert stage_for_scan("commit", None, trusted=True, target=tmp_path).settings["staged"] is True
