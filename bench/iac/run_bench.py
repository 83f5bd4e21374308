"""Bastion's iac scanner vs checkov on the generated corpus: wall time and per-concept agreement.

Usage (from the repository root):
    .venv/bin/python bench/iac/make_corpus.py --scale 1
    .venv/bin/python bench/iac/run_bench.py --repeat 3
checkov runs from bench/iac/.venv with --skip-download (no calls to its vendor's service).

``--baseline-src DIR`` also times an older Bastion in the same rounds: DIR is a ``src`` folder
(e.g. ``git archive <commit> src | tar -x -C build/baseline``), put first on PYTHONPATH, so the old
and the new code run with the same interpreter, dependencies and machine load. ``--jobs N`` sets
Bastion's ``--jobs`` (default 1; 0 leaves the flag out, so the engine picks its default).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess  # nosec B404 - runs the two tools being compared, fixed argument lists
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BASTION = ROOT / ".venv" / "bin" / "bastion"
CHECKOV = HERE / ".venv" / "bin" / "checkov"

# Checks both tools have, as (checkov ids, Bastion rule ids): one concept per row.
CONCEPTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "S3 ACL public read/write": (("CKV_AWS_20", "CKV_AWS_57"), ("iac.aws.s3-bucket-public-acl",)),
    "S3 versioning": (("CKV_AWS_21",), ("iac.aws.s3-bucket-versioning", "iac.cfn.s3-bucket-versioning")),
    "S3 access logging": (("CKV_AWS_18",), ("iac.aws.s3-bucket-logging", "iac.cfn.s3-bucket-logging")),
    "S3 public access block exists": (("CKV2_AWS_6",), ("iac.aws.s3-bucket-public-access-block",)),
    "S3 public access block settings": (
        ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
        ("iac.aws.s3-public-access-block-settings", "iac.cfn.s3-public-access-block"),
    ),
    "SG port 22 open": (
        ("CKV_AWS_24",),
        ("iac.aws.security-group-open-ssh", "iac.cfn.security-group-open-ssh"),
    ),
    "SG port 3389 open": (
        ("CKV_AWS_25",),
        ("iac.aws.security-group-open-rdp", "iac.cfn.security-group-open-rdp"),
    ),
    "SG rule description": (
        ("CKV_AWS_23",),
        ("iac.aws.security-group-rule-description", "iac.cfn.security-group-rule-description"),
    ),
    "RDS encrypted": (("CKV_AWS_16",), ("iac.aws.rds-encrypted", "iac.cfn.rds-encrypted")),
    "RDS public": (("CKV_AWS_17",), ("iac.aws.rds-public", "iac.cfn.rds-public")),
    "RDS multi-AZ": (("CKV_AWS_157",), ("iac.aws.rds-multi-az", "iac.cfn.rds-multi-az")),
    "RDS IAM auth": (("CKV_AWS_161",), ("iac.aws.rds-iam-auth", "iac.cfn.rds-iam-auth")),
    "RDS enhanced monitoring": (
        ("CKV_AWS_118",),
        ("iac.aws.rds-enhanced-monitoring", "iac.cfn.rds-enhanced-monitoring"),
    ),
    "RDS log exports": (("CKV_AWS_129",), ("iac.aws.rds-log-exports",)),
    "RDS deletion protection": (("CKV_AWS_293",), ("iac.aws.rds-deletion-protection",)),
    "RDS backup retention": (("CKV_AWS_133",), ("iac.aws.rds-backup-retention",)),
    "RDS copy tags": (("CKV2_AWS_60",), ("iac.aws.rds-copy-tags",)),
    "RDS minor upgrades": (("CKV_AWS_226",), ("iac.aws.rds-minor-upgrades",)),
    "EBS volume encrypted": (("CKV_AWS_3",), ("iac.aws.ebs-volume-encrypted", "iac.cfn.ebs-encrypted")),
    "EBS volume CMK": (("CKV_AWS_189",), ("iac.aws.ebs-volume-kms",)),
    "EC2 root volume encrypted": (("CKV_AWS_8",), ("iac.aws.ec2-root-volume-encrypted",)),
    "EC2 IMDSv2": (("CKV_AWS_79",), ("iac.aws.ec2-imdsv2",)),
    "EC2 detailed monitoring": (("CKV_AWS_126",), ("iac.aws.ec2-detailed-monitoring",)),
    "KMS rotation": (("CKV_AWS_7",), ("iac.aws.kms-rotation", "iac.cfn.kms-rotation")),
    "CloudTrail multi-region": (("CKV_AWS_67",), ("iac.aws.cloudtrail-multi-region",)),
    "CloudTrail log validation": (("CKV_AWS_36",), ("iac.aws.cloudtrail-log-validation",)),
    "CloudTrail KMS": (("CKV_AWS_35",), ("iac.aws.cloudtrail-kms",)),
    "CloudTrail to CloudWatch": (("CKV2_AWS_10",), ("iac.aws.cloudtrail-cloudwatch",)),
    "SQS encrypted": (("CKV_AWS_27",), ("iac.aws.sqs-encrypted",)),
    "SNS encrypted": (("CKV_AWS_26",), ("iac.aws.sns-encrypted",)),
    "K8s privileged": (("CKV_K8S_16",), ("iac.k8s.privileged",)),
    "K8s hostPID": (("CKV_K8S_17",), ("iac.k8s.host-pid",)),
    "K8s hostNetwork": (("CKV_K8S_19",), ("iac.k8s.host-network",)),
    "K8s allowPrivilegeEscalation": (("CKV_K8S_20",), ("iac.k8s.privilege-escalation",)),
    "K8s read-only root fs": (("CKV_K8S_22",), ("iac.k8s.read-only-root-filesystem",)),
    "K8s root containers": (("CKV_K8S_23",), ("iac.k8s.run-as-non-root",)),
    "K8s docker socket": (("CKV_K8S_27",), ("iac.k8s.docker-socket",)),
    "K8s CPU limits": (("CKV_K8S_11",), ("iac.k8s.cpu-limits",)),
    "K8s memory limits": (("CKV_K8S_13",), ("iac.k8s.memory-limits",)),
    "K8s CPU requests": (("CKV_K8S_10",), ("iac.k8s.cpu-requests",)),
    "K8s memory requests": (("CKV_K8S_12",), ("iac.k8s.memory-requests",)),
    "K8s image tag fixed": (("CKV_K8S_14",), ("iac.k8s.image-tag-pinned",)),
    "K8s image digest": (("CKV_K8S_43",), ("iac.k8s.image-digest",)),
    "K8s pull policy Always": (("CKV_K8S_15",), ("iac.k8s.image-pull-policy",)),
    "K8s liveness probe": (("CKV_K8S_8",), ("iac.k8s.liveness-probe",)),
    "K8s readiness probe": (("CKV_K8S_9",), ("iac.k8s.readiness-probe",)),
    "K8s seccomp": (("CKV_K8S_31",), ("iac.k8s.seccomp",)),
    "K8s service account token": (("CKV_K8S_38",), ("iac.k8s.service-account-token",)),
    "K8s NetworkPolicy": (("CKV2_K8S_6",), ("iac.k8s.network-policy",)),
}


def _key(concept: str, hit: tuple[str, str], tool: str) -> tuple[str, str]:
    """Where two tools anchor the same problem differently, compare on what both name."""
    path, name = hit
    if concept == "S3 ACL public read/write" and tool == "bastion":
        return path, name.replace("aws_s3_bucket_acl.", "aws_s3_bucket.")  # checkov reports the bucket
    if concept == "K8s NetworkPolicy":  # checkov names every workload Pod.<namespace>.<name>[.<label>]
        parts = name.split(".")
        return path, ".".join(parts[1:3])
    return hit


def _time(command: list[str], repeat: int) -> tuple[float, list[float]]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # nosec B603
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), runs


def _bastion_hits(path: Path) -> dict[str, set[tuple[str, str]]]:
    hits: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for finding in json.loads(path.read_text())["findings"]:
        name = str(finding["metadata"]["resource"])
        if name.count("/") == 2:  # kubernetes: namespace/Kind/name
            namespace, kind, short = name.split("/")
            name = f"{kind}.{namespace}.{short}"
        hits[finding["rule_id"]].add((finding["location"]["path"], name))
    return hits


def _checkov_hits(path: Path) -> dict[str, set[tuple[str, str]]]:
    data = json.loads(path.read_text())
    blocks = data if isinstance(data, list) else [data]
    hits: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for block in blocks:
        for failed in block.get("results", {}).get("failed_checks", []):
            resource = str(failed["resource"])
            if block.get("check_type") == "cloudformation":
                resource = resource.split(".", 1)[1]
            hits[failed["check_id"]].add((str(failed["file_path"]).lstrip("/"), resource))
    return hits


def _resources(corpus: Path) -> dict[str, int]:
    sys.path.insert(0, str(ROOT / "src"))
    from bastion.scan.base import ScanContext, ScanTarget
    from bastion.scan.iac.scanner import collect_resources
    from bastion.scan.walk import WalkOptions, walk

    walked = walk(corpus, WalkOptions())
    resources = collect_resources(ScanTarget(walked.root, tuple(walked.files)), ScanContext("iac"))
    counts: dict[str, int] = defaultdict(int)
    for resource in resources:
        counts[resource.source] += 1
    return dict(counts)


def main() -> None:
    """Run both tools, print the tables, write out/compare.json."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=HERE / "corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--checkov", type=Path, default=CHECKOV, help="checkov executable (a separate venv)")
    args = parser.parse_args()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    bastion_cmd = [
        str(BASTION),
        "scan",
        str(args.corpus),
        "-s",
        "iac",
        "-f",
        "json",
        "-o",
        str(out / "bastion.json"),
        "-q",
        "--fail-on",
        "none",
        *(["--jobs", str(args.jobs)] if args.jobs else []),
    ]
    checkov_cmd = [
        str(args.checkov),
        "-d",
        str(args.corpus),
        "--skip-download",
        "--framework",
        "terraform",
        "cloudformation",
        "kubernetes",
        "-o",
        "json",
        "--quiet",
        "--compact",
    ]
    bastion_runs: list[float] = []
    checkov_runs: list[float] = []
    baseline_runs: list[float] = []
    baseline_env = None
    if args.baseline_src is not None:
        baseline_env = {**os.environ, "PYTHONPATH": str(args.baseline_src.resolve())}
        baseline_cmd = [*bastion_cmd]
        baseline_cmd[bastion_cmd.index("-o") + 1] = str(out / "bastion-baseline.json")
    for _ in range(args.repeat):  # interleaved, so a change in machine load hits every tool alike
        if baseline_env is not None:
            started = time.perf_counter()
            quiet = subprocess.DEVNULL
            subprocess.run(baseline_cmd, check=False, env=baseline_env, stdout=quiet, stderr=quiet)  # nosec B603
            baseline_runs.append(time.perf_counter() - started)
        bastion_runs.append(_time(bastion_cmd, 1)[0])
        with (out / "checkov.json").open("w") as sink:
            started = time.perf_counter()
            subprocess.run(checkov_cmd, check=False, stdout=sink, stderr=subprocess.DEVNULL)  # nosec B603
            checkov_runs.append(time.perf_counter() - started)
    bastion_s, checkov_s = statistics.median(bastion_runs), statistics.median(checkov_runs)
    counts = _resources(args.corpus)
    print(f"resources: {sum(counts.values())} {dict(sorted(counts.items()))}")
    print(f"bastion wall s (median of {args.repeat}): {bastion_s:.2f} {[round(r, 2) for r in bastion_runs]}")
    print(
        f"checkov wall s (median of {len(checkov_runs)}): {checkov_s:.2f} "
        f"{[round(r, 2) for r in checkov_runs]}"
    )
    print(f"speed-up: {checkov_s / bastion_s:.1f}x")
    if baseline_runs:
        baseline_s = statistics.median(baseline_runs)
        print(
            f"baseline bastion ({args.baseline_src}) wall s (median of {len(baseline_runs)}): "
            f"{baseline_s:.2f} "
            f"{[round(r, 2) for r in baseline_runs]}; checkov / baseline {checkov_s / baseline_s:.1f}x; "
            f"baseline / bastion {baseline_s / bastion_s:.2f}x"
        )
    ours, theirs = _bastion_hits(out / "bastion.json"), _checkov_hits(out / "checkov.json")
    rows = []
    print("\n| concept | checkov ids | Bastion rules | both | only checkov | only Bastion |")
    print("|---|---|---|---:|---:|---:|")
    for concept, (ck_ids, our_ids) in CONCEPTS.items():
        a = {_key(concept, hit, "checkov") for c in ck_ids for hit in theirs.get(c, set())}
        b = {_key(concept, hit, "bastion") for r in our_ids for hit in ours.get(r, set())}
        rows.append(
            {
                "concept": concept,
                "both": len(a & b),
                "only_checkov": sorted(a - b),
                "only_bastion": sorted(b - a),
            }
        )
        print(
            f"| {concept} | {', '.join(ck_ids)} | {', '.join(our_ids)} "
            f"| {len(a & b)} | {len(a - b)} | {len(b - a)} |"
        )
    document = {
        "resources": counts,
        "bastion_s": bastion_runs,
        "checkov_s": checkov_runs,
        "baseline_s": baseline_runs,
        "concepts": rows,
    }
    (out / "compare.json").write_text(json.dumps(document, indent=1))


if __name__ == "__main__":
    main()
