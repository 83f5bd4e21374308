"""Benchmark of ``bastion catalog scan``: N generated consumer repositories scanned for catalog
product use against the fixture catalog (tests/fixtures/catalog), with the uses found checked
against what the generator wrote (recall and precision) and, side by side on the same Terraform
files, a python-hcl2 full parse that extracts the same module sources (the peer).

Usage (from the repository root; everything is written under --out):

    .venv/bin/python bench/catalog/bench_catalog.py --repos 1000 --seed 2 --out build/catalog-bench

Seed 1 was used while writing the scanner (tuning data); seed 2 and 3 are reported (held-out).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import hcl2

from bastion.catalog.artefact import pack
from bastion.catalog.consumers import CatalogIndex, scan_consumer
from bastion.catalog.lifecycle import approve, deprecate, publish, recheck, retire
from bastion.catalog.local import LocalCatalog
from bastion.catalog.model import State, VersionRecord, parse_product
from bastion.catalog.semver import parse_semver
from bastion.catalog.templates import read_template
from bastion.structured import read_yaml_mapping

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "catalog" / "products"
TODAY = date(2026, 12, 7)
HISTORY = datetime(2025, 3, 1, tzinfo=UTC)

# How each product is referenced: (key in module blocks, form). Registry sources take version = "...".
TERRAFORM = {
    "aws-s3-bucket": "git::https://git.example.com/platform/terraform-aws-s3-bucket.git?ref=v{v}",
    "aws-vpc": "acme/vpc/aws",
    "aws-rds-postgres": "git::https://git.example.com/platform/terraform-aws-rds-postgres.git?ref={v}",
    "aws-eks-cluster": "git::https://git.example.com/platform/terraform-aws-eks.git?ref=v{v}",
    "azure-aks-cluster": "app.terraform.io/acme/aks/azurerm",
    "aws-sqs-queue": "acme/sqs-queue/aws",
    "aws-kms-key": "git::ssh://git@git.example.com/platform/terraform-aws-kms-key.git?ref={v}",
    "azure-storage-account": "app.terraform.io/acme/storage-account/azurerm",
}
FOREIGN = [  # public modules the catalog does not hold: never a finding
    ("terraform-aws-modules/iam/aws", "5.30.0"),
    ("git::https://github.com/cloudposse/terraform-null-label.git?ref=0.25.0", None),
    ("hashicorp/consul/aws", "0.11.0"),
]
HAND = [
    "aws_s3_bucket",
    "aws_sqs_queue",
    "aws_kms_key",
    "aws_db_instance",
    "aws_iam_role",
    "aws_lambda_function",
]


@dataclass(frozen=True)
class Truth:
    """What the generator wrote into one repository."""

    uses: frozenset[tuple[str, str, str | None]]
    """(path, product, exact version or None)."""


def build_catalog(root: Path) -> LocalCatalog:
    """The fixture catalog: history (older versions) seeded, current versions gated and approved,
    a few versions deprecated and retired, then re-checked (older ones become non-compliant)."""
    if root.exists():
        shutil.rmtree(root)
    catalog = LocalCatalog(root)
    (root).mkdir(parents=True)
    for product in sorted(FIXTURES.iterdir()):
        spec = parse_product(read_yaml_mapping(product / "product.yml"), str(product))
        catalog.add_product(spec, "bench")
        old, current = sorted(
            (p for p in product.iterdir() if p.is_dir()), key=lambda p: parse_semver(p.name)
        )
        info = read_template(old, spec.kind)
        artefact = pack(old, 5_000_000)
        catalog.publish(
            VersionRecord(spec.name, old.name, artefact.digest, artefact.size, "bench", HISTORY,
                          State.APPROVED, info.inputs, info.outputs, approved_by="ccoe"),
            artefact.data,
            "bench",
        )  # fmt: skip
        result = publish(catalog, current, spec.name, current.name, "bench")
        if result.record is None:
            raise SystemExit(f"{spec.name} {current.name} refused: {result.report.reasons}")
        approve(catalog, spec.name, current.name, "ccoe")
    deprecate(catalog, "aws-vpc", "1.4.0", "ccoe", date(2027, 3, 31), "2.0.0")
    deprecate(catalog, "aws-kms-key", "1.0.0", "ccoe", date(2026, 6, 30), "1.0.1")
    retire(catalog, "aws-kms-key", "1.0.0", "ccoe")
    recheck(catalog, "bench")
    return catalog


def _versions() -> dict[str, list[str]]:
    return {
        p.name: sorted((d.name for d in p.iterdir() if d.is_dir()), key=parse_semver)
        for p in FIXTURES.iterdir()
    }


_CFN_URLS = [  # every way a nested stack may name the same S3 object ({v}: the version)
    "      TemplateURL: https://acme-catalog.s3.amazonaws.com/cfn-s3-bucket/{v}/template.yaml\n",
    "      TemplateURL: https://acme-catalog.s3.eu-west-1.amazonaws.com/cfn-s3-bucket/{v}/template.yaml\n",
    "      TemplateURL: https://s3.amazonaws.com/acme-catalog/cfn-s3-bucket/{v}/template.yaml\n",
    '      TemplateURL: !Sub "https://acme-catalog.s3.${{AWS::Region}}.amazonaws.com/cfn-s3-bucket/{v}/t.yaml"\n',
    '      TemplateURL: !Join ["", ["https://s3.", !Ref "AWS::Region",'
    ' ".amazonaws.com/acme-catalog/cfn-s3-bucket/{v}/t.yaml"]]\n',
]


def _odd_terraform(m: int, product: str, version: str) -> str:
    """One real use of ``product`` written the odd ways real repositories write them: ``for_each``,
    a trailing comment holding a brace, a nested object with its own ``source``, the public
    registry's full address, a heredoc holding a decoy module block."""
    template = TERRAFORM[product]
    if "{v}" in template:
        source, pin = template.format(v=version), ""
    else:
        source = (
            f"registry.terraform.io/{template}" if "/" in template and template.count("/") == 2 else template
        )
        pin = f'  version = "{version}" // pinned {{ by the platform team\n'
    return (
        f'module "odd{m}" {{\n  for_each = toset(["a", "b"])\n'
        f'  source   = "{source}" # the "catalog" one\n{pin}'
        f'  name     = "${{each.key == "a" ? "{{" : "}}"}}-x"\n'
        '  tags = {\n    source  = "evil/x/aws"\n    version = "9.9.9"\n  }\n'
        '  policy = <<-EOT\n    }\n    module "decoy" {\n      source = "acme/vpc/aws"\n    EOT\n}\n'
    )


def generate(root: Path, count: int, seed: int, odd: bool = False) -> dict[str, Truth]:
    """``count`` repositories under ``root``; returns what each one uses. With ``odd`` a share of
    the uses is written the odd ways (``_odd_terraform``, every S3 URL form, OCI chart
    repositories, JSON stacks indented with tabs, ``.tf.json`` modules) and decoys are added."""
    rng = random.Random(seed)  # bastion: ignore[sast.bandit.B311] reproducible test data, not a secret
    versions = _versions()
    if root.exists():
        shutil.rmtree(root)
    truth: dict[str, Truth] = {}
    for n in range(count):
        repo = root / f"repo-{n:04d}"
        uses: set[tuple[str, str, str | None]] = set()
        for f in range(rng.randint(1, 4)):
            rel = f"infra/{['network', 'data', 'compute', 'edge'][f]}/main.tf"
            blocks = []
            for m in range(rng.randint(2, 7)):
                pick = rng.random()
                if odd and pick < 0.25:
                    product = rng.choice(sorted(TERRAFORM))
                    version = rng.choice(versions[product])
                    blocks.append(_odd_terraform(m, product, version))
                    uses.add((rel, product, version))
                elif pick < 0.75:
                    product = rng.choice(sorted(TERRAFORM))
                    version = rng.choice(versions[product])
                    template = TERRAFORM[product]
                    if "{v}" in template:
                        blocks.append(
                            f'module "m{m}" {{\n  source = "{template.format(v=version)}"\n'
                            f'  name   = "x{m}"\n}}\n'
                        )
                        uses.add((rel, product, version))
                    elif rng.random() < 0.8:
                        blocks.append(
                            f'module "m{m}" {{\n  source  = "{template}"\n  version = "{version}"\n}}\n'
                        )
                        uses.add((rel, product, version))
                    else:
                        blocks.append(
                            f'module "m{m}" {{\n  source  = "{template}"\n'
                            f'  version = "~> {version[:3]}"\n}}\n'
                        )
                        uses.add((rel, product, None))
                elif pick < 0.85:
                    source, version = rng.choice(FOREIGN)
                    pin = f'\n  version = "{version}"' if version else ""
                    blocks.append(f'module "f{m}" {{\n  source = "{source}"{pin}\n}}\n')
                elif pick < 0.92:
                    blocks.append(
                        f'module "l{m}" {{\n  source = "../modules/local{m}"\n'
                        "  # uses { and } in a comment\n}\n"
                    )
                else:
                    blocks.append(
                        f'# module "old{m}" {{\n#   source = "acme/vpc/aws"\n#   version = "1.4.0"\n# }}\n'
                    )
            for r in range(rng.randint(0, 3)):
                kind = rng.choice(HAND)
                blocks.append(
                    f'resource "{kind}" "r{r}" {{\n  name = "res-{r}"\n'
                    f'  tags = {{ team = "t{n % 17}", note = "}}{{" }}\n}}\n'
                )
            path = repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(blocks))
        if odd and rng.random() < 0.3:
            product = rng.choice(sorted(p for p, t in TERRAFORM.items() if "{v}" not in t))
            version = rng.choice(versions[product])
            module = {"module": {"j": {"source": TERRAFORM[product], "version": version}}}
            (repo / "infra" / "json").mkdir(parents=True, exist_ok=True)
            (repo / "infra" / "json" / "main.tf.json").write_text(json.dumps(module, indent="\t"))
            uses.add(("infra/json/main.tf.json", product, version))
        if rng.random() < 0.4:
            version = rng.choice(versions["webapp-chart"])
            chart = repo / "deploy" / "chart" / "Chart.yaml"
            chart.parent.mkdir(parents=True)
            repository = (
                "oci://charts.example.com" if odd and rng.random() < 0.5 else "https://charts.example.com"
            )
            chart.write_text(
                "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
                f"  - name: webapp\n    version: {version}\n    repository: {repository}\n"
                "  - name: redis\n    version: 19.0.1\n    repository: oci://registry-1.docker.io/bitnamicharts\n"
            )
            uses.add(("deploy/chart/Chart.yaml", "webapp-chart", version))
        if rng.random() < 0.3:
            version = rng.choice(versions["cfn-s3-bucket"])
            stack = repo / "cfn" / "storage.yaml"
            stack.parent.mkdir(parents=True)
            url = (rng.choice(_CFN_URLS) if odd else _CFN_URLS[0]).format(v=version)
            if odd and rng.random() < 0.2:  # JSON indented with tabs (YAML refuses tabs)
                stack = stack.with_suffix(".json")
                document = {"Resources": {"Data": {"Type": "AWS::CloudFormation::Stack", "Properties": {
                    "TemplateURL": f"s3://acme-catalog/cfn-s3-bucket/{version}/template.yaml"}}}}  # fmt: skip
                stack.write_text(json.dumps(document, indent="\t"))
            else:
                stack.write_text(
                    'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'
                    "  Data:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                    f"{url}"
                    "  Queue:\n    Type: AWS::SQS::Queue\n"
                )
            uses.add((f"cfn/{stack.name}", "cfn-s3-bucket", version))
        if rng.random() < 0.5:
            version = rng.choice(versions["python-base-image"])
            (repo / "Dockerfile").write_text(
                f"FROM registry.example.com/base/python:{version}\nCOPY . /app\n"
            )
            uses.add(("Dockerfile", "python-base-image", version))
        (repo / "README.md").write_text(f"# service {n}\n")
        (repo / "src").mkdir(exist_ok=True)
        (repo / "src" / "app.py").write_text("print('hello')\n" * 20)
        truth[repo.name] = Truth(frozenset(uses))
    return truth


def peer_hcl2(root: Path) -> tuple[float, int]:
    """python-hcl2's full parse of every .tf file, extracting module sources: seconds and modules."""
    start = time.perf_counter()
    modules = 0
    for path in sorted(root.rglob("*.tf")):
        with path.open(encoding="utf-8") as stream:
            document = hcl2.load(stream)
        for block in document.get("module", []):
            for body in block.values():
                modules += 1 if isinstance(body, dict) and "source" in body else 0
    return time.perf_counter() - start, modules


def run(repos: Path, catalog: LocalCatalog, truth: dict[str, Truth]) -> dict[str, object]:
    """Scan every repository once (the index built once, as ``catalog scan`` over many repos would)."""
    start = time.perf_counter()
    index = CatalogIndex.build(catalog)
    found: dict[str, set[tuple[str, str, str | None]]] = {}
    findings = 0
    per_rule: dict[str, int] = {}
    for repo in sorted(repos.iterdir()):
        report = scan_consumer(repo, index, TODAY)
        found[repo.name] = {(use.path, name, version) for use, name, version in report.uses}
        findings += len(report.findings)
        for finding in report.findings:
            per_rule[finding.rule_id] = per_rule.get(finding.rule_id, 0) + 1
    elapsed = time.perf_counter() - start
    expected = sum(len(t.uses) for t in truth.values())
    hits = sum(len(found[name] & truth[name].uses) for name in truth)
    reported = sum(len(v) for v in found.values())
    return {
        "seconds": round(elapsed, 3),
        "repos": len(found),
        "uses_expected": expected,
        "uses_found": reported,
        "recall": round(hits / expected, 4) if expected else 1.0,
        "precision": round(hits / reported, 4) if reported else 1.0,
        "findings": findings,
        "per_rule": dict(sorted(per_rule.items())),
    }


def main() -> int:
    """Build the catalog, generate the repositories, scan them and the peer, print and save results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("build/catalog-bench"))
    parser.add_argument(
        "--odd",
        action="store_true",
        help="write a share of the uses the odd ways, with decoys (see generate)",
    )
    args = parser.parse_args()
    catalog = build_catalog(args.out / "catalog")
    repos = args.out / "repos"
    truth = generate(repos, args.repos, args.seed, args.odd)
    files = sum(1 for p in repos.rglob("*") if p.is_file())
    runs = [run(repos, catalog, truth) for _ in range(args.reps)]
    peer = [peer_hcl2(repos) for _ in range(max(1, args.reps))]
    median = statistics.median(float(str(r["seconds"])) for r in runs)
    peer_median = statistics.median(p[0] for p in peer)
    tf_files = sum(1 for _ in repos.rglob("*.tf"))
    # The same Terraform-only extraction with Bastion's block scanner, for the ratio to the peer.
    from bastion.catalog.sources import find_usage

    start = time.perf_counter()
    for path in sorted(repos.rglob("*.tf")):
        find_usage(path)
    ours_tf = time.perf_counter() - start
    result = {
        "seed": args.seed,
        "odd": args.odd,
        "repos": args.repos,
        "files": files,
        "terraform_files": tf_files,
        "scan_median_s": round(median, 3),
        "scan_runs_s": [r["seconds"] for r in runs],
        "target_s": 60,
        "recall": runs[0]["recall"],
        "precision": runs[0]["precision"],
        "uses_expected": runs[0]["uses_expected"],
        "findings": runs[0]["findings"],
        "per_rule": runs[0]["per_rule"],
        "terraform_only": {
            "bastion_block_scanner_s": round(ours_tf, 3),
            "peer_python_hcl2_s": round(peer_median, 3),
            "peer_modules": peer[0][1],
            "ratio_peer_over_bastion": round(peer_median / ours_tf, 1) if ours_tf else None,
        },
    }
    text = json.dumps(result, indent=2)
    (args.out / f"results-seed{args.seed}{'-odd' if args.odd else ''}.json").write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
