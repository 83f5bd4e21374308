"""The iac scanner end to end: formats, suppressions, bad input, options, custom policies."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from iac_helpers import FIXTURES, index, run_iac

from bastion.cli.main import main
from bastion.errors import ConfigError, InputError
from bastion.scan.iac import IacScanner, portgen


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("iac") / "report.json"
    code = main(
        ["scan", str(FIXTURES), "-s", "iac", "-f", "json", "-o", str(out), "--fail-on", "critical", "-q"]
    )
    assert code == 1  # critical findings exist
    report: dict[Any, Any] = json.loads(out.read_text())
    return report


def _ids(report: dict) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["location"]["path"]) for f in report["findings"]}


def test_every_input_format_yields_findings(report: dict) -> None:
    found = _ids(report)
    for expected in [
        ("iac.aws.rds-encrypted", "terraform/main.tf"),
        ("iac.aws.kms-rotation", "terraform/extra.tf.json"),
        ("iac.aws.s3-bucket-public-acl", "plan/tfplan.json"),
        ("iac.aws.rds-encrypted", "plan/tfplan.json"),
        ("iac.cfn.s3-public-acl", "cloudformation/stack.yaml"),
        ("iac.cfn.rds-encrypted", "cloudformation/stack.yaml"),
        ("iac.cfn.lambda-url-auth", "cloudformation/stack.yaml"),
        ("iac.cfn.security-group-open-ssh", "cloudformation/stack.yaml"),
        ("iac.cfn.ebs-encrypted", "cloudformation/volume.json"),
        ("iac.arm.storage-https-only", "arm/storage.json"),
        ("iac.arm.storage-min-tls", "arm/storage.json"),
        ("iac.k8s.privileged", "kubernetes/workloads.yaml"),
        ("iac.k8s.docker-socket", "kubernetes/workloads.yaml"),
        ("iac.k8s.rbac-wildcard", "kubernetes/workloads.yaml"),
        ("iac.docker.curl-pipe-shell", "docker/Dockerfile"),
        ("iac.docker.secret-in-env", "docker/Dockerfile"),
        ("iac.compose.docker-socket", "docker/docker-compose.yml"),
        ("iac.compose.secret-in-environment", "docker/docker-compose.yml"),
    ]:
        assert expected in found, expected


def test_hardened_workload_passes(report: dict) -> None:
    web = [f for f in report["findings"] if f["metadata"].get("resource") == "shop/Deployment/web"]
    assert web == []


def test_findings_point_at_file_and_lines(report: dict) -> None:
    by = {(f["rule_id"], f["metadata"]["resource"]): f for f in report["findings"]}
    cron = by[("iac.k8s.privileged", "shop/CronJob/backup")]
    assert cron["location"]["start_line"] == 31 and cron["metadata"]["line"] == 46
    assert "spec.jobTemplate.spec.template.spec.containers.0.securityContext.privileged" in cron["message"]
    docker = by[("iac.docker.curl-pipe-shell", "docker/Dockerfile")]
    assert docker["location"] == {"path": "docker/Dockerfile", "start_line": 6, "end_line": 6}
    sg = by[("iac.cfn.security-group-open-ssh", "Web")]
    assert sg["location"]["start_line"] == 37
    assert any(c.startswith("nist-800-53-r5:SC-7") for c in sg["controls"])


def test_secrets_are_never_repeated(report: dict) -> None:
    text = json.dumps(report)
    assert "abcd1234efgh5678" not in text and "verysecretvalue123" not in text


def test_inline_suppression_on_resource_and_module_call(report: dict) -> None:
    suppressed = {
        (s["finding"]["rule_id"], s["finding"]["metadata"]["resource"]): s for s in report["suppressed"]
    }
    resource = suppressed[("iac.aws.s3-bucket-logging", "aws_s3_bucket.suppressed")]
    assert resource["reason"] == "the access log bucket cannot log to itself"
    module = suppressed[("iac.aws.s3-bucket-versioning", "module.assets.aws_s3_bucket.this")]
    assert module["reason"].startswith("assets are rebuilt from git")
    assert module["finding"]["location"]["path"] == "terraform/main.tf"
    assert module["finding"]["metadata"]["defined_at"] == "terraform/modules/bucket/main.tf:6"
    found = _ids(report)
    assert ("iac.aws.s3-bucket-versioning", "terraform/modules/bucket/main.tf") in found  # the other call


def test_bad_input_becomes_skips_and_the_scan_goes_on(report: dict) -> None:
    # A file that could not be read is a skip record (``--strict`` fails on it), not a notice.
    notices = {
        s["component"].removeprefix("iac "): s["reason"]
        for s in report["skipped"]
        if s["component"].startswith("iac bad/")
    }
    assert "alias bomb" in notices["bad/alias-bomb.yaml"]
    assert notices["bad/broken.yaml"].startswith("line 6")
    assert notices["bad/broken.tf"].startswith("line 2: HCL syntax error")
    assert report["failures"] == []


@pytest.mark.slow
def test_large_files_are_scanned(tmp_path: Path) -> None:
    docs = [
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n"
        "spec:\n  containers:\n    - name: c\n      image: x:1\n"
        for i in range(5_000)
    ]
    (tmp_path / "many.yaml").write_text("---\n".join(docs))
    padded = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"V": {"Type": "AWS::EC2::Volume"}}}
    padded["Metadata"] = {"pad": "x" * 21_000_000}
    (tmp_path / "padded.json").write_text(json.dumps(padded))
    assert (tmp_path / "padded.json").stat().st_size > 20_000_000
    findings, notices = run_iac(tmp_path, max_file_size=30_000_000)
    assert sum(1 for f in findings if f.rule_id == "iac.k8s.memory-limits") == 5_000
    assert any(f.rule_id == "iac.cfn.ebs-encrypted" and f.location.path == "padded.json" for f in findings)
    assert notices == []


def test_files_over_the_size_limit_are_noticed(tmp_path: Path) -> None:
    (tmp_path / "big.tf").write_text(
        'resource "aws_ebs_volume" "v" {\n  encrypted = false\n}\n' + "# pad\n" * 4_000_000
    )
    out = tmp_path / "r.json"
    main(["scan", str(tmp_path), "-s", "iac", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"])
    report = json.loads(out.read_text())
    assert report["notices"][0]["kind"] == "too-large"


def test_team_policies_from_config(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "team.yml").write_text(
        "policies:\n"
        "  - id: iac.team.bucket-tags\n    title: Buckets carry an owner tag\n    severity: low\n"
        "    resource: aws_s3_bucket\n    check: {attr: tags.owner, exists: true}\n    fix: Tag it.\n"
    )
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    findings, _ = run_iac(tmp_path, {"policies": [str(policies)], "builtin": False})
    assert index(findings) == {("iac.team.bucket-tags", "main.tf", "aws_s3_bucket.b")}
    findings, _ = run_iac(tmp_path, {"disable": ["iac.aws.s3-*"]})
    assert not any(f.rule_id.startswith("iac.aws.s3-") for f in findings)


def test_team_policies_from_the_command_line_and_config_relative_paths(tmp_path: Path) -> None:
    """``--policies DIR`` on the CLI, and ``[scanners.iac] policies`` relative to bastion.toml."""
    policies = tmp_path / "sec" / "policies"
    policies.mkdir(parents=True)
    (policies / "team.yml").write_text(
        "policies:\n"
        "  - id: iac.team.bucket-tags\n    title: Buckets carry an owner tag\n    severity: high\n"
        "    resource: aws_s3_bucket\n    check: {attr: tags.owner, exists: true}\n    fix: Tag it.\n"
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    out = tmp_path / "r.json"
    base = ["scan", str(project), "-s", "iac", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"]
    assert main([*base, "--policies", str(policies)]) == 0
    assert "iac.team.bucket-tags" in {f["rule_id"] for f in json.loads(out.read_text())["findings"]}
    config = tmp_path / "sec" / "bastion.toml"
    config.write_text('[scanners.iac]\npolicies = ["policies"]\n')
    assert main([*base, "--config", str(config)]) == 0
    assert "iac.team.bucket-tags" in {f["rule_id"] for f in json.loads(out.read_text())["findings"]}


def test_malformed_policy_file_names_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "policies:\n  - id: iac.team.x\n    title: t\n    severity: low\n    resource: r\n"
        "    check: {attr: a, regex: '('}\n"
    )
    with pytest.raises(
        InputError,
        match=r"bad\.yml: policies\[0\] \(iac\.team\.x\)\.check\.regex: invalid regular expression",
    ):
        IacScanner().check_options({"policies": [str(tmp_path)]})


P = "policies:\n  - {id: iac.a.b, title: t, severity: low, resource: r, "
OK = "check: {attr: a, exists: true}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[1]", "holds a 'policies' list"),
        ("policies: [1]", "must be a mapping"),
        ("policies:\n  - {id: x}", "missing required key 'title'"),
        (
            "policies:\n  - {id: Bad, title: t, severity: low, resource: r, " + OK + "}",
            "must look like",
        ),
        (
            P.replace("low", "huge") + OK + "}",
            "severity",
        ),
        (
            P.replace("resource: r", "resource: []") + OK + "}",
            "resource",
        ),
        (
            P + "check: {attr: a}}",
            "exactly one operator",
        ),
        (
            P + "check: {attr: a, in: 3}}",
            "must be a list",
        ),
        (
            P + "check: {attr: a, gt: x}}",
            "must be a number",
        ),
        (
            P + "check: {attr: a, exists: 1}}",
            "true or false",
        ),
        (
            P + "check: {attr: a, exists: true, missing: x}}",
            "pass or fail",
        ),
        (
            P + "check: {attr: a, exists: true, zz: 1}}",
            "unknown key 'zz'",
        ),
        (
            P + "check: {all: []}}",
            "non-empty list",
        ),
        (
            P + "check: {python: nope}}",
            "no Python policy",
        ),
        (
            P + "check: {connected: {type: x}}}",
            "needs 'type' and 'via'",
        ),
        (
            P + "check: {connected: {type: x, via: y, z: 1}}}",
            "unknown key",
        ),
        (
            P + "check: {foo: 1}}",
            "expected attr",
        ),
        (
            P + "check: []}",
            "non-empty mapping",
        ),
        (
            P + "check: {attr: 1, exists: true}}",
            "string path",
        ),
        (
            P + OK + ", cwe: x}",
            "cwe",
        ),
        (
            P + OK + ", examples: 1}",
            "examples",
        ),
        (
            P + OK + ", zz: 1}",
            "unknown key",
        ),
        ("policies: [\n", "line"),
    ],
)
def test_policy_schema_errors(tmp_path: Path, body: str, message: str) -> None:
    from bastion.scan.iac.policy import load_policy_file

    path = tmp_path / "p.yml"
    path.write_text(body)
    with pytest.raises(InputError, match=r"p\.yml") as info:
        load_policy_file(path)
    assert message in str(info.value)


def test_options_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"scanners\.iac\.nope: unknown key"):
        IacScanner().check_options({"nope": 1})
    with pytest.raises(InputError, match="policy directory not found"):
        IacScanner().check_options({"policies": [str(tmp_path / "missing")]})


def test_helm_templates_are_skipped_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / "chart" / "templates").mkdir(parents=True)
    (tmp_path / "chart" / "templates" / "d.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n"
    )
    _, notices = run_iac(tmp_path)
    assert notices[0].message.startswith("Helm template not rendered")


def test_cli_lists_the_scanner() -> None:
    from typer.testing import CliRunner

    from bastion.cli.main import app

    result = CliRunner().invoke(app, ["scanners"])
    assert "iac" in result.output and "Terraform" in result.output


def test_plan_values_known_after_apply_are_unknown() -> None:
    findings, notices = run_iac(FIXTURES / "plan")
    assert not any(f.rule_id == "iac.aws.ebs-volume-kms" for f in findings)
    assert any(
        n.message.startswith("unknown: iac.aws.ebs-volume-kms on aws_ebs_volume.data")
        and "kms_key_id is known after apply" in n.message
        for n in notices
    )
    assert any(f.metadata["resource"] == "module.db.aws_db_instance.this" for f in findings)


def test_inline_suppressions_in_manifests_and_dockerfiles(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\nspec:\n"
        "  hostNetwork: true  # bastion: ignore[iac.k8s.host-network] node debugging pod, deleted after use\n"
        "  containers:\n    - name: c\n      image: busybox:1.36\n"
    )
    (tmp_path / "Dockerfile").write_text(
        "FROM alpine:3.20\n"
        "# bastion: ignore[iac.docker.expose-ssh] sshd is the product being tested\n"
        "EXPOSE 22\n"
    )
    out = tmp_path / "r.json"
    main(["scan", str(tmp_path), "-s", "iac", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"])
    report = json.loads(out.read_text())
    suppressed = {s["finding"]["rule_id"]: s["reason"] for s in report["suppressed"]}
    assert suppressed["iac.k8s.host-network"] == "node debugging pod, deleted after use"
    assert suppressed["iac.docker.expose-ssh"] == "sshd is the product being tested"
    reported = {f["rule_id"] for f in report["findings"]}
    assert "iac.k8s.host-network" not in reported and "iac.k8s.privileged" not in reported
    assert "iac.docker.user-root" in reported


def test_unknowns_from_one_value_are_one_notice_and_odd_documents_do_not_crash(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(
        "AWSTemplateFormatVersion: x\nParameters:\n  Rules: {Type: String}\nResources:\n"
        "  A: {Type: AWS::S3::Bucket, Properties: [1]}\n  B: null\n  C: {Type: 5}\n"
        "  D: {Type: AWS::EC2::SecurityGroup, Properties: {SecurityGroupIngress: !Ref Rules}}\n"
    )
    (tmp_path / "k.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: null\nspec: null\n---\n- a\n---\n42\n---\n"
        "kind: List\napiVersion: v1\nitems: [null, {kind: Pod, apiVersion: v1, spec: {containers: {}}}]\n"
    )
    (tmp_path / "arm.json").write_text(
        json.dumps(
            {
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "resources": [None, {"type": "Microsoft.Web/sites", "properties": None, "resources": "x"}],
            }
        )
    )
    (tmp_path / "compose.yaml").write_text("version: '3'\nservices:\n  a: null\n  b: {cap_add: ALL}\n")
    findings, notices = run_iac(tmp_path)
    messages = [n.message for n in notices]
    count = 1 + len(portgen.PORTS)  # rule description, and one per port-table entry (all ports too)
    grouped = [
        m
        for m in messages
        if m.startswith(f"unknown: {count} policies on D (line 8): !Ref Rules has no default")
    ]
    assert len(grouped) == 1 and f"and {count - 3} more" in grouped[0]
    assert any(f.rule_id == "iac.arm.app-https-only" for f in findings)
    assert not any(f.rule_id == "iac.compose.privileged" for f in findings)


@pytest.mark.parametrize("enabled", [True, False])
def test_cycle_collector_is_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        findings, _ = run_iac(FIXTURES / "terraform")
        assert findings
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
