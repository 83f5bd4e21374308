"""``catalog scan``: which products and versions a repository uses, and the catalog.* findings
for deprecated, retired, non-compliant, unapproved, unknown and unpinned uses and hand-written
resources a product covers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bastion.catalog.consumers import CatalogIndex, scan_consumer
from bastion.catalog.lifecycle import deprecate, recheck, retire
from bastion.catalog.local import LocalCatalog
from bastion.catalog.sources import UseKind, exact_version, find_usage, normalise_source
from bastion.errors import InputError
from conftest import CONSUMER

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("source", "key", "ref"),
    [
        (
            "git::https://git.example.com/platform/vpc.git?ref=v1.2.0",
            "git.example.com/platform/vpc",
            "v1.2.0",
        ),
        (
            "git::ssh://git@git.example.com/platform/vpc.git?ref=1.2.0",
            "git.example.com/platform/vpc",
            "1.2.0",
        ),
        ("git@github.com:Acme/VPC.git?ref=main", "github.com/acme/vpc", "main"),
        (
            "https://user:tok@git.example.com/mono.git//modules/vpc?ref=2.0.0",
            "git.example.com/mono//modules/vpc",
            "2.0.0",
        ),
        ("acme/vpc/aws", "acme/vpc/aws", ""),
        ("registry.example.com:5000/base/python", "registry.example.com:5000/base/python", ""),
        ("oci://charts.example.com/webapp/", "charts.example.com/webapp", ""),
    ],
)
def test_normalise_source(source: str, key: str, ref: str) -> None:
    assert normalise_source(source) == (key, ref)


@pytest.mark.parametrize(
    ("text", "version"),
    [("1.2.0", "1.2.0"), ("v1.2.0", "1.2.0"), ("= 1.2.0", "1.2.0"), ("1.2.0-rc.1", "1.2.0-rc.1"),
     ("~> 1.2", None), (">= 1.0.0", None), ("^1.2.0", None), ("main", None), ("", None), (None, None),
     ("1.2", None)],
)  # fmt: skip
def test_exact_version(text: str | None, version: str | None) -> None:
    assert exact_version(text) == version


def test_finds_every_reference_kind_and_skips_local_and_commented_modules() -> None:
    uses, resources, skipped, files = find_usage(CONSUMER)
    assert skipped == [] and files == 4  # main.tf, Chart.yaml, storage.yaml, Dockerfile
    seen = {(u.kind, u.path, u.line, u.version) for u in uses}
    assert seen == {
        (UseKind.TERRAFORM_MODULE, "network/main.tf", 2, "1.4.0"),
        (UseKind.TERRAFORM_MODULE, "network/main.tf", 9, "1.1.0"),
        (UseKind.TERRAFORM_MODULE, "network/main.tf", 16, "1.0.0"),
        (UseKind.TERRAFORM_MODULE, "network/main.tf", 22, None),
        (UseKind.TERRAFORM_MODULE, "network/main.tf", 47, "2.0.0"),
        (UseKind.HELM_DEPENDENCY, "charts/payments/Chart.yaml", 5, "0.9.0"),
        (UseKind.HELM_DEPENDENCY, "charts/payments/Chart.yaml", 8, "19.0.1"),
        (UseKind.CFN_NESTED_STACK, "stacks/storage.yaml", 5, None),
        (UseKind.DOCKER_IMAGE, "image/Dockerfile", 1, "3.11.0"),
    }
    assert {(r.path, r.line, r.type) for r in resources} == {
        ("network/main.tf", 38, "aws_db_instance"),
        ("stacks/storage.yaml", 11, "AWS::S3::Bucket"),
    }


def test_consumer_findings_follow_the_lifecycle(full_catalog: LocalCatalog) -> None:
    before = scan_consumer(CONSUMER, CatalogIndex.build(full_catalog), TODAY)
    assert {(f.rule_id, f.location.path, f.location.start_line) for f in before.findings} == {
        ("catalog.version-unpinned", "network/main.tf", 22),
        ("catalog.use-product", "network/main.tf", 38),
        ("catalog.use-product", "stacks/storage.yaml", 11),
        ("catalog.input-not-allowed", "network/main.tf", 51),
        ("catalog.input-not-allowed", "network/main.tf", 52),
    }  # history not re-checked yet: every used version is still approved and compliant
    deprecate(full_catalog, "aws-vpc", "1.4.0", "erin", date(2027, 3, 31), "2.0.0")
    deprecate(full_catalog, "aws-kms-key", "1.0.0", "erin", date(2026, 6, 30), "1.0.1")
    retire(full_catalog, "aws-kms-key", "1.0.0", "erin")
    recheck(full_catalog, "scheduler")
    after = scan_consumer(CONSUMER, CatalogIndex.build(full_catalog), TODAY)
    got = {(f.rule_id, f.severity.value, f.location.path, f.location.start_line): f for f in after.findings}
    assert set(got) == {
        ("catalog.version-deprecated", "medium", "network/main.tf", 2),
        ("catalog.version-non-compliant", "high", "network/main.tf", 2),
        ("catalog.version-retired", "high", "network/main.tf", 16),
        ("catalog.version-unpinned", "low", "network/main.tf", 22),
        ("catalog.use-product", "low", "network/main.tf", 38),
        ("catalog.version-non-compliant", "high", "charts/payments/Chart.yaml", 5),
        ("catalog.version-non-compliant", "high", "stacks/storage.yaml", 5),
        ("catalog.use-product", "low", "stacks/storage.yaml", 11),
        ("catalog.version-non-compliant", "high", "image/Dockerfile", 1),
        ("catalog.input-not-allowed", "medium", "network/main.tf", 51),
        ("catalog.input-not-allowed", "medium", "network/main.tf", 52),
    }
    size = got[("catalog.input-not-allowed", "medium", "network/main.tf", 51)]
    assert size.message == (
        "aws-rds-postgres input instance_class: 'db.t3.micro' is not one of "
        "db.t3.medium, db.r6g.large, db.r6g.xlarge"
    )
    backups = got[("catalog.input-not-allowed", "medium", "network/main.tf", 52)]
    assert backups.message == "aws-rds-postgres input backup_retention_days: '3' is below 7"
    deprecated = got[("catalog.version-deprecated", "medium", "network/main.tf", 2)]
    assert (
        deprecated.message
        == "aws-vpc 1.4.0 is deprecated, supported until 2027-03-31; upgrade to aws-vpc 2.0.0"
    )
    assert deprecated.fix == "upgrade to aws-vpc 2.0.0"
    assert {"nist-800-53-r5:SA-22", "cis-v8:2.2", "iso27001-2022:A.8.9"} <= set(deprecated.controls)
    assert deprecated.metadata["product"] == "aws-vpc" and deprecated.metadata["version"] == "1.4.0"
    retired = got[("catalog.version-retired", "high", "network/main.tf", 16)]
    assert retired.message == "aws-kms-key 1.0.0 is retired; upgrade to aws-kms-key 1.0.1"
    hand = got[("catalog.use-product", "low", "network/main.tf", 38)]
    assert (
        "aws_db_instance.ledger is written by hand; the catalog's approved product aws-rds-postgres 2.0.0"
        in hand.message
    )
    late = scan_consumer(CONSUMER, CatalogIndex.build(full_catalog), date(2027, 4, 1))
    assert any("support ended 2027-03-31" in f.message for f in late.findings)
    assert {(u.source, name, version) for u, name, version in after.uses} >= {
        ("https://acme-catalog.s3.amazonaws.com/cfn-s3-bucket/1.0.0/template.yaml", "cfn-s3-bucket", "1.0.0"),
        ("registry.example.com/base/python:3.11.0", "python-base-image", "3.11.0"),
    }
    assert len({f.fingerprint for f in after.findings}) == len(after.findings)


def test_unknown_draft_and_unpinned_uses(full_catalog: LocalCatalog, tmp_path: Path) -> None:
    from bastion.catalog.lifecycle import publish

    (full_catalog.root / "catalog.yml").write_text("require_approval: true\n")
    publish(
        full_catalog,
        CONSUMER.parents[1] / "products" / "aws-s3-bucket" / "1.1.0",
        "aws-s3-bucket",
        "1.2.0",
        "carol",
    )
    (tmp_path / "main.tf").write_text(
        'module "a" {\n  source = "git::https://git.example.com/platform/terraform-aws-s3-bucket.git?ref=v9.9.9"\n}\n'
        'module "b" {\n  source = "git::https://git.example.com/platform/terraform-aws-s3-bucket.git?ref=1.2.0"\n}\n'
        'module "c" {\n  source = "git::https://git.example.com/platform/terraform-aws-s3-bucket.git"\n}\n'
        'module "d" {\n  source = "git::https://git.example.com/other/thing.git?ref=1.0.0"\n}\n'
        '# module "e" {\n#   source = "acme/vpc/aws"\n# }\n'
    )
    report = scan_consumer(tmp_path, CatalogIndex.build(full_catalog), TODAY)
    assert [(f.rule_id, f.location.start_line) for f in report.findings] == [
        ("catalog.version-unknown", 1),
        ("catalog.version-unapproved", 4),
        ("catalog.version-unpinned", 7),
    ]
    assert (
        report.findings[0].message
        == "aws-s3-bucket 9.9.9 is not in the catalog; upgrade to aws-s3-bucket 1.1.0"
    )


def test_unreadable_files_are_skipped_visibly(full_catalog: LocalCatalog, tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("dependencies: [unclosed\n")
    (tmp_path / "ok.tf").write_text('resource "aws_s3_bucket" "logs" {\n}\n')
    report = scan_consumer(tmp_path, CatalogIndex.build(full_catalog), TODAY)
    assert len(report.skipped) == 1 and report.skipped[0].startswith("Chart.yaml: ")
    assert [(f.rule_id, f.location.path) for f in report.findings] == [("catalog.use-product", "ok.tf")]
    with pytest.raises(InputError, match="not found"):
        scan_consumer(tmp_path / "missing", CatalogIndex.build(full_catalog), TODAY)
    single = scan_consumer(tmp_path / "ok.tf", CatalogIndex.build(full_catalog), TODAY)
    assert [f.location.path for f in single.findings] == ["ok.tf"]


def test_products_without_versions_and_an_empty_catalog(empty_catalog: LocalCatalog, tmp_path: Path) -> None:
    report = scan_consumer(CONSUMER, CatalogIndex.build(empty_catalog), TODAY)
    assert {f.rule_id for f in report.findings} == {
        "catalog.version-unknown",
        "catalog.version-unpinned",
        "catalog.input-not-allowed",  # constraints hold whatever the version
    }
    assert "no approved, compliant version exists yet; ask the owner network-team@example.com" in next(
        f.message for f in report.findings if f.location.start_line == 2
    )
    nothing = scan_consumer(CONSUMER, CatalogIndex.build(LocalCatalog(tmp_path / "none")), TODAY)
    assert nothing.findings == [] and nothing.uses == []
