"""The demo project through `bastion scan --scanners iac`: what the policy engine finds."""

from __future__ import annotations

import json
from pathlib import Path

from bastion.cli.main import main

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-app"

EXPECTED = {
    ("iac.aws.s3-bucket-public-acl", "infra/main.tf", 9),
    ("iac.aws.s3-bucket-encryption", "infra/main.tf", 5),
    ("iac.aws.security-group-open-ssh", "infra/main.tf", 14),
    ("iac.aws.rds-encrypted", "infra/main.tf", 26),
    ("iac.aws.rds-public", "infra/main.tf", 26),
    ("iac.aws.rds-hardcoded-password", "infra/main.tf", 26),
    ("iac.aws.kms-rotation", "infra/storage.tf", 13),
    ("iac.aws.ebs-volume-encrypted", "infra/storage.tf", 18),
    ("iac.aws.lb-listener-https", "infra/storage.tf", 29),
    ("iac.k8s.host-network", "k8s/deployment.yaml", 1),
    ("iac.k8s.privileged", "k8s/deployment.yaml", 1),
    ("iac.k8s.image-tag-pinned", "k8s/deployment.yaml", 1),
    ("iac.k8s.host-pid", "infra/worker.yaml", 1),
    ("iac.k8s.docker-socket", "infra/worker.yaml", 1),
    ("iac.docker.base-image-pinned", "Dockerfile", 1),
    ("iac.docker.secret-in-env", "Dockerfile", 2),
    ("iac.docker.add-from-url", "Dockerfile", 3),
    ("iac.docker.user-root", "Dockerfile", 1),
    ("iac.docker.base-image-pinned", "infra/Dockerfile.worker", 1),
    ("iac.docker.curl-pipe-shell", "infra/Dockerfile.worker", 3),
    ("iac.docker.expose-ssh", "infra/Dockerfile.worker", 4),
}


def test_demo_app_iac_findings(tmp_path: Path) -> None:
    out = tmp_path / "iac.json"
    code = main(["scan", str(DEMO), "--scanners", "iac", "-f", "json", "-o", str(out), "-q"])
    assert code == 1
    report = json.loads(out.read_text())
    found = {(f["rule_id"], f["location"]["path"], f["location"]["start_line"]) for f in report["findings"]}
    assert found >= EXPECTED, sorted(EXPECTED - found)
    assert all(f["controls"] for f in report["findings"])
    unknown = [n["message"] for n in report["notices"] if n["message"].startswith("unknown:")]
    assert any("iac.aws.cloudwatch-log-retention" in m and "var.log_retention_days" in m for m in unknown)
    assert "Sup3rS3cret" not in out.read_text()
