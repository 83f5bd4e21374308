"""GitLab, Azure Pipelines and Jenkins templates: valid against their published schemas and run
locally with each system's environment variables, producing the reports each system reads."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from gitlab_shapes import check_report
from pipeline_helpers import REPO, make_workspace, run_script, stripe_key

SCHEMAS = REPO / "tests" / "fixtures" / "schemas"
GITLAB = REPO / "ci" / "gitlab" / "bastion.gitlab-ci.yml"
AZURE = REPO / "ci" / "azure" / "azure-pipelines.yml"
JENKINS = REPO / "ci" / "jenkins" / "Jenkinsfile"
FAST = "--scanners secrets,deps,iac --concurrency thread"


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def test_gitlab_template_matches_gitlabs_schema() -> None:
    template = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(_schema("gitlab-ci.schema.json")).validate(template)
    reports = template["bastion"]["artifacts"]["reports"]
    assert reports == {
        "secret_detection": "gl-secret-detection-report.json",
        "dependency_scanning": "gl-dependency-scanning-report.json",
        "sast": "gl-sast-report.json",
    }
    assert template["bastion"]["artifacts"]["when"] == "always"


def _gitlab_job_script(template: dict[str, Any]) -> str:
    job = template["bastion"]
    return "\n".join([*job["before_script"], *job["script"]])


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_gitlab_job_produces_three_separate_reports(tmp_path: Path, advisory_db: Path) -> None:
    template = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    workspace = make_workspace(tmp_path / "project")
    variables = {k: str(v) for k, v in template["variables"].items()}
    variables |= {k: str(v) for k, v in template["bastion"]["variables"].items()}
    variables |= {"BASTION_INSTALL": "false", "BASTION_ARGS": FAST}
    env = {
        **variables,
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(workspace),
        "CI_JOB_NAME": "bastion",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "BASTION_ADVISORY_DB": str(advisory_db),
    }
    done = run_script(_gitlab_job_script(template), workspace, env)
    assert done.returncode == 1, done.stdout + done.stderr  # the gate fails the job
    secrets = json.loads((workspace / "gl-secret-detection-report.json").read_text(encoding="utf-8"))
    deps = json.loads((workspace / "gl-dependency-scanning-report.json").read_text(encoding="utf-8"))
    sast = json.loads((workspace / "gl-sast-report.json").read_text(encoding="utf-8"))
    check_report(secrets, "secret_detection")
    check_report(deps, "dependency_scanning")
    check_report(sast, "sast")
    assert [v["identifiers"][0]["value"] for v in secrets["vulnerabilities"]] == [
        "secrets.stripe-live-secret-key"
    ]
    assert all(
        v["location"]["dependency"]["package"]["name"].lower() == "django" for v in deps["vulnerabilities"]
    )
    assert all(v["identifiers"][0]["type"] == "cve" for v in deps["vulnerabilities"])
    assert deps["dependency_files"][0]["path"] == "requirements.txt"
    assert any(v["location"]["file"] == "main.tf" for v in sast["vulnerabilities"])
    assert not any("secrets." in v["identifiers"][0]["value"] for v in sast["vulnerabilities"])
    for name in ("gl-secret-detection-report.json", "bastion.json", "bastion-summary.md"):
        assert stripe_key() not in (workspace / name).read_text(encoding="utf-8")


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_azure_pipeline_matches_its_schema_and_runs(tmp_path: Path, advisory_db: Path) -> None:
    pipeline = yaml.safe_load(AZURE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(_schema("azure-pipelines.schema.json")).validate(pipeline)
    workspace = make_workspace(tmp_path / "s")
    staging, temp = tmp_path / "a", tmp_path / "t"
    staging.mkdir()
    temp.mkdir()
    env = {
        **{k: str(v) for k, v in pipeline["variables"].items()},
        "BASTION_INSTALL": "false",
        "BASTION_ARGS": FAST,
        "TF_BUILD": "True",
        "BUILD_SOURCESDIRECTORY": str(workspace),
        "BUILD_ARTIFACTSTAGINGDIRECTORY": str(staging),
        "AGENT_TEMPDIRECTORY": str(temp),
        "BASTION_ADVISORY_DB": str(advisory_db),
    }
    scripts = [step["bash"] for step in pipeline["steps"] if "bash" in step]
    install, scan, gate = scripts
    assert run_script(install, workspace, env).returncode == 0
    done = run_script(scan, workspace, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"##vso[task.uploadsummary]{temp}/bastion-summary.md" in done.stdout
    code = re.search(r"##vso\[task.setvariable variable=BASTION_EXIT_CODE\](\d)", done.stdout)
    assert code is not None and code.group(1) == "1"
    sarif = json.loads((staging / "CodeAnalysisLogs" / "bastion.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    gated = run_script(gate, workspace, {**env, "BASTION_EXIT_CODE": code.group(1)})
    assert gated.returncode == 1 and "##vso[task.logissue type=error]" in gated.stdout


def _jenkins_scripts() -> list[str]:
    text = JENKINS.read_text(encoding="utf-8")
    return re.findall(r"sh '''(.*?)'''", text, flags=re.DOTALL)


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_jenkinsfile_structure_and_its_shell_steps_run(tmp_path: Path, advisory_db: Path) -> None:
    text = JENKINS.read_text(encoding="utf-8")
    assert text.count("{") == text.count("}")
    for needed in ("pipeline {", "stage('Bastion')", "stage('Bastion gate')", "post {", "recordIssues"):
        assert needed in text
    scan, gate = _jenkins_scripts()
    workspace = make_workspace(tmp_path / "ws")
    env = {
        "WORKSPACE": str(workspace),
        "JENKINS_URL": "http://127.0.0.1:8080/",
        "BUILD_NUMBER": "7",
        "BASTION_PATH": ".",
        "BASTION_FAIL_ON": "high",
        "BASTION_ARGS": FAST,
        "BASTION_INSTALL": "false",
        "BASTION_ADVISORY_DB": str(advisory_db),
    }
    done = run_script(scan, workspace, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (workspace / "bastion.exit").read_text(encoding="utf-8").strip() == "1"
    for name in ("bastion.sarif", "bastion.html", "bastion-junit.xml"):
        assert (workspace / name).stat().st_size > 0
    gated = run_script(gate, workspace, env)
    assert gated.returncode == 1


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_clean_project_passes_the_gitlab_job(tmp_path: Path, advisory_db: Path) -> None:
    template = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    workspace = make_workspace(tmp_path / "project", secret=False, vulnerable=False)
    env = {
        **{k: str(v) for k, v in template["variables"].items()},
        "BASTION_INSTALL": "false",
        "BASTION_ARGS": FAST,
        "CI_PROJECT_DIR": str(workspace),
        "BASTION_ADVISORY_DB": str(advisory_db),
    }
    done = run_script(_gitlab_job_script(template), workspace, env)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in (
        "gl-secret-detection-report.json",
        "gl-dependency-scanning-report.json",
        "gl-sast-report.json",
    ):
        report = json.loads((workspace / name).read_text(encoding="utf-8"))
        check_report(report, report["scan"]["type"])
        assert report["vulnerabilities"] == []


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_gitlab_coverage_job_gates_on_new_code(tmp_path: Path) -> None:
    template = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    job = template[".bastion-coverage"]
    assert job["artifacts"]["reports"]["coverage_report"]["coverage_format"] == "cobertura"
    workspace = make_workspace(tmp_path / "project", secret=False, vulnerable=False)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=workspace, capture_output=True, text=True).stdout
    (workspace / "new.py").write_text("a = 1\nb = 2\n", encoding="utf-8")
    report = "<coverage><sources><source>.</source></sources><packages><package><classes>"
    report += '<class filename="new.py"><lines><line number="1" hits="1"/><line number="2" hits="0"/>'
    report += "</lines></class></classes></package></packages></coverage>"
    (workspace / "coverage.xml").write_text(report, encoding="utf-8")
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "add", "new.py"], cwd=workspace, check=True)
    subprocess.run([*git, "commit", "-qm", "new code"], cwd=workspace, check=True)
    env = {
        **{k: str(v) for k, v in template["variables"].items()},
        **{k: str(v) for k, v in job["variables"].items()},
        "BASTION_INSTALL": "false",
        "CI_PROJECT_DIR": str(workspace),
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base.strip(),
        "BASTION_COVERAGE_MIN": "0",
    }
    script = "\n".join([*job["before_script"], *job["script"]])
    done = run_script(script, workspace, env)
    assert done.returncode == 1, done.stdout + done.stderr  # 50 % of the new lines < 90 %
    assert "coverage.new-code-below-min" in (workspace / "bastion-coverage.md").read_text(encoding="utf-8")
    passing = run_script(script, workspace, {**env, "BASTION_COVERAGE_MIN_NEW": "50"})
    assert passing.returncode == 0, passing.stdout + passing.stderr
