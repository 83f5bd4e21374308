"""Usage examples rendered from a version's example inputs: what the catalog page shows, and what
``catalog scan`` must recognise as a use of exactly that product version."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bastion.catalog.consumers import CatalogIndex, scan_consumer
from bastion.catalog.lifecycle import find_version
from bastion.catalog.local import LocalCatalog
from bastion.catalog.model import ProductKind, latest_approved
from bastion.catalog.usage import usage_example

_FILES = {
    ProductKind.TERRAFORM: "main.tf",
    ProductKind.CLOUDFORMATION: "stack.yaml",
    ProductKind.DOCKERFILE: "Dockerfile",
}


def _write_example(kind: ProductKind, text: str, into: Path) -> None:
    into.mkdir()
    if kind is ProductKind.HELM:
        chart, _, values = text.partition("# values.yaml\n")
        (into / "Chart.yaml").write_text("apiVersion: v2\nname: consumer\nversion: 0.1.0\n" + chart)
        (into / "values.yaml").write_text(values)
    else:
        (into / _FILES[kind]).write_text(text)


def test_every_products_example_is_a_recognised_use_of_its_version(
    full_catalog: LocalCatalog, tmp_path: Path
) -> None:
    index = CatalogIndex.build(full_catalog)
    checked = []
    for spec in full_catalog.products():
        record = latest_approved(full_catalog.versions(spec.name))
        assert record is not None
        text = usage_example(spec, record)
        if spec.kind is ProductKind.KUBERNETES:
            assert text == ""  # manifests take no inputs: applied as they are
            continue
        repo = tmp_path / spec.name
        _write_example(spec.kind, text, repo)
        report = scan_consumer(repo, index, date(2026, 12, 7))
        assert report.skipped == []
        assert [(name, version) for _, name, version in report.uses] == [(spec.name, record.version)], text
        placeholders = {name for name, value in record.example_inputs.items() if str(value).startswith("<")}
        for finding in report.findings:  # only a placeholder may break a constraint, never a real example
            assert finding.rule_id == "catalog.input-not-allowed", (spec.name, finding.message)
            assert finding.message.split(" input ")[1].split(":")[0] in placeholders, finding.message
        checked.append(spec.kind)
    assert set(checked) == {
        ProductKind.TERRAFORM,
        ProductKind.CLOUDFORMATION,
        ProductKind.HELM,
        ProductKind.DOCKERFILE,
    }


def test_examples_read_as_written(full_catalog: LocalCatalog) -> None:
    specs = {spec.name: spec for spec in full_catalog.products()}
    rds = usage_example(specs["aws-rds-postgres"], find_version(full_catalog, "aws-rds-postgres", "2.0.0"))
    assert rds.splitlines()[:3] == [
        'module "aws_rds_postgres" {',
        '  source = "git::https://git.example.com/platform/terraform-aws-rds-postgres.git?ref=2.0.0"',
        "",
    ]
    assert "  backup_retention_days = 14\n" in rds and '  identifier            = "<string>"\n' in rds
    vpc = usage_example(specs["aws-vpc"], find_version(full_catalog, "aws-vpc", "2.0.0"))
    assert vpc.splitlines()[1:3] == ['  source  = "acme/vpc/aws"', '  version = "2.0.0"']
    chart = usage_example(specs["webapp-chart"], find_version(full_catalog, "webapp-chart", "1.3.0"))
    assert chart.startswith(
        "# Chart.yaml\ndependencies:\n- name: webapp\n  version: 1.3.0\n  repository: https://charts.example.com\n"
        "# values.yaml\nwebapp:\n  replicaCount: 3\n  image:\n"
    )
    image = usage_example(
        specs["python-base-image"], find_version(full_catalog, "python-base-image", "3.12.1")
    )
    assert image.splitlines() == [
        "FROM registry.example.com/base/python:3.12.1",
        "# built with: docker build --build-arg APP_USER=app .",
    ]
