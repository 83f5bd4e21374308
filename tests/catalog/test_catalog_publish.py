"""Gated, atomic publishing into a catalog directory: every fixture product's current version
passes and its older version is refused with the reasons; bad input is one line and leaves
nothing behind."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from bastion.catalog.artefact import pack, unpack
from bastion.catalog.lifecycle import publish
from bastion.catalog.local import LocalCatalog
from bastion.catalog.model import ProductKind, State, parse_product
from bastion.catalog.templates import read_template
from bastion.errors import InputError
from bastion.structured import read_yaml_mapping
from conftest import PRODUCTS, product_versions

ALL = sorted(p.name for p in PRODUCTS.iterdir())


def _written(catalog: LocalCatalog) -> list[str]:
    """Every version record and artefact in the catalog directory."""
    return sorted(
        p.relative_to(catalog.root).as_posix()
        for p in catalog.root.rglob("*")
        if p.is_file() and (p.suffix == ".json" or p.name.endswith(".tar.gz") or p.name.endswith(".partial"))
    )


def test_a_dozen_products_cover_every_kind() -> None:
    kinds = {parse_product(read_yaml_mapping(PRODUCTS / n / "product.yml"), n).kind for n in ALL}
    assert len(ALL) >= 12
    assert kinds >= {
        ProductKind.TERRAFORM,
        ProductKind.CLOUDFORMATION,
        ProductKind.HELM,
        ProductKind.KUBERNETES,
        ProductKind.DOCKERFILE,
    }


@pytest.mark.parametrize("name", ALL)
def test_current_version_passes_and_older_is_refused(empty_catalog: LocalCatalog, name: str) -> None:
    old, current = product_versions(PRODUCTS / name)
    refused = publish(empty_catalog, old, name, old.name, "carol")
    assert refused.record is None
    assert refused.report.reasons, "an older version must fail today's policies"
    assert not (empty_catalog.root / "products" / name / "versions").exists()
    accepted = publish(empty_catalog, current, name, current.name, "carol")
    assert accepted.record is not None, accepted.report.reasons
    assert accepted.report.skipped == ()  # everything checked, or the version would be refused
    for line in accepted.report.deploy_time:  # only checks that wait for the consumer's inputs
        assert line.endswith("policy checks ended unknown (values known only at deploy time)"), line
    assert accepted.record.state is State.DRAFT  # the default catalog requires approval
    assert [r.version for r in empty_catalog.versions(name)] == [current.name]
    actions = [(e.action, e.version) for e in empty_catalog.audit() if e.product == name]
    assert actions == [("product-add", None), ("publish-refused", old.name), ("publish", current.name)]


def test_refusal_names_rule_location_policy_and_constraint(empty_catalog: LocalCatalog) -> None:
    vpc = publish(empty_catalog, PRODUCTS / "aws-vpc" / "1.4.0", "aws-vpc", "1.4.0", "carol").report
    assert (
        "iac.aws.security-group-open-ssh (high) at main.tf:12: "
        "Security group opens port 22 (ssh) to the internet" in vpc.reasons
    )
    assert any(
        r.startswith("policy vpc-flow-logs (high): The module must create VPC flow logs") for r in vpc.reasons
    )
    rds = publish(
        empty_catalog, PRODUCTS / "aws-rds-postgres" / "1.0.0", "aws-rds-postgres", "1.0.0", "carol"
    ).report
    assert (
        "constraint on instance_class: default 'db.t3.micro' is not one of "
        "db.t3.medium, db.r6g.large, db.r6g.xlarge" in rds.reasons
    )
    assert (
        "constraint on backup_retention_days: the template has no input backup_retention_days" in rds.reasons
    )
    namespace = PRODUCTS / "k8s-namespace-baseline" / "1.0.0"
    only_policy = publish(empty_catalog, namespace, "k8s-namespace-baseline", "1.0.0", "carol").report
    assert only_policy.reasons == (
        "policy restricted-pod-security (high): "
        "The namespace must enforce the restricted Pod Security Standard: nothing matches",
    )


def test_inputs_outputs_and_example_inputs_are_recorded(empty_catalog: LocalCatalog) -> None:
    record = publish(
        empty_catalog, PRODUCTS / "aws-rds-postgres" / "2.0.0", "aws-rds-postgres", "2.0.0", "carol"
    ).record
    assert record is not None
    inputs = {p.name: p for p in record.inputs}
    assert inputs["instance_class"].default == "db.t3.medium" and not inputs["instance_class"].required
    assert inputs["identifier"].required and inputs["identifier"].type == "string"
    assert [p.name for p in record.outputs] == ["endpoint"]
    assert record.example_inputs["backup_retention_days"] == 14
    assert record.example_inputs["kms_key_arn"] == "<string>"
    stored = json.loads((empty_catalog.root / "products/aws-rds-postgres/versions/2.0.0.json").read_text())
    assert stored["inputs"][0]["name"] == "identifier" and stored["state"] == "draft"


@pytest.mark.parametrize(
    ("directory", "kind", "inputs", "outputs"),
    [
        (
            "cfn-s3-bucket/2.0.0",
            ProductKind.CLOUDFORMATION,
            ["BucketName", "KmsKeyArn", "LogBucket"],
            ["BucketArn"],
        ),
        ("webapp-chart/1.3.0", ProductKind.HELM, ["replicaCount", "image.repository", "image.tag"], []),
        ("python-base-image/3.12.1", ProductKind.DOCKERFILE, ["APP_USER"], ["port 8080"]),
        ("k8s-namespace-baseline/1.1.0", ProductKind.KUBERNETES, [], []),
    ],
)
def test_reads_each_kind(directory: str, kind: ProductKind, inputs: list[str], outputs: list[str]) -> None:
    info = read_template(PRODUCTS / directory)
    assert info.kind is kind
    assert [p.name for p in info.inputs][: len(inputs)] == inputs
    assert [p.name for p in info.outputs] == outputs


def test_arm_template_parameters(tmp_path: Path) -> None:
    (tmp_path / "azuredeploy.json").write_text(
        json.dumps(
            {
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "parameters": {
                    "name": {"type": "string", "metadata": {"description": "Account"}},
                    "sku": {"type": "string", "defaultValue": "Standard_GRS"},
                },
                "resources": [{"type": "Microsoft.Storage/storageAccounts", "name": "[parameters('name')]"}],
                "outputs": {"id": {"type": "string", "value": "x"}},
            }
        )
    )
    info = read_template(tmp_path)
    assert info.kind is ProductKind.ARM
    assert [(p.name, p.required, p.description) for p in info.inputs] == [
        ("name", True, "Account"),
        ("sku", False, ""),
    ]
    assert [p.name for p in info.outputs] == ["id"]


def test_artefact_is_content_addressed_and_reproducible(empty_catalog: LocalCatalog, tmp_path: Path) -> None:
    template = PRODUCTS / "aws-kms-key" / "1.0.1"
    copy = tmp_path / "copy"
    shutil.copytree(template, copy)
    os.utime(copy / "main.tf", (0, 0))  # other times and another path: the same artefact
    assert pack(template, 10**6).digest == pack(copy, 10**6).digest
    record = publish(empty_catalog, template, "aws-kms-key", "1.0.1", "carol").record
    assert record is not None
    data = empty_catalog.artefact(record.digest)
    unpack(data, tmp_path / "out", 10**6)
    assert (tmp_path / "out" / "main.tf").read_bytes() == (template / "main.tf").read_bytes()
    blob = empty_catalog.root / "artefacts" / "sha256" / f"{record.digest.split(':')[1]}.tar.gz"
    blob.write_bytes(data[:-8] + b"tampered")
    with pytest.raises(InputError, match="does not match its digest"):
        empty_catalog.artefact(record.digest)
    with pytest.raises(InputError, match="not an artefact digest"):
        empty_catalog.artefact("md5:abc")


def test_unpack_refuses_escaping_or_damaged_archives(tmp_path: Path) -> None:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../evil.tf")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(InputError, match=r"unexpected entry '\.\./evil\.tf'"):
        unpack(buffer.getvalue(), tmp_path, 10**6)
    with pytest.raises(InputError, match="cannot be unpacked"):
        unpack(b"not a tarball", tmp_path, 10**6)
    assert not (tmp_path.parent / "evil.tf").exists()


def _one_line(exc: pytest.ExceptionInfo[InputError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_template_that_does_not_parse(empty_catalog: LocalCatalog, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "name" {\n  type = string\n\nresource "aws_s3_bucket" "x" {\n'
    )
    with pytest.raises(InputError) as caught:
        publish(empty_catalog, tmp_path, "aws-s3-bucket", "9.0.0", "carol")
    assert _one_line(caught).startswith(f"{tmp_path / 'main.tf'}: template does not parse: ")
    cfn = tmp_path / "cfn"
    cfn.mkdir()
    (cfn / "template.yaml").write_text('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  B: [unclosed\n')
    with pytest.raises(InputError) as caught:
        publish(empty_catalog, cfn, "cfn-s3-bucket", "9.0.0", "carol")
    assert "template.yaml: template does not parse: line" in _one_line(caught)
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nversion: 1.0.0\n")
    with pytest.raises(InputError, match="no chart name"):
        publish(empty_catalog, chart, "webapp-chart", "9.0.0", "carol")
    assert _written(empty_catalog) == []


def test_version_that_is_not_semver(empty_catalog: LocalCatalog) -> None:
    with pytest.raises(InputError) as caught:
        publish(empty_catalog, PRODUCTS / "aws-vpc" / "2.0.0", "aws-vpc", "2.0", "carol")
    assert _one_line(caught) == "'2.0': not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.0)"
    assert _written(empty_catalog) == []


def test_product_name_clash(empty_catalog: LocalCatalog) -> None:
    spec = parse_product(read_yaml_mapping(PRODUCTS / "aws-vpc" / "product.yml"), "vpc")
    with pytest.raises(InputError) as caught:
        empty_catalog.add_product(spec, "mallory")
    assert _one_line(caught) == "product aws-vpc: name clashes with existing product aws-vpc"
    with pytest.raises(InputError, match="invalid product: name: String should match pattern"):
        parse_product({**spec.model_dump(mode="json"), "name": "AWS_VPC"}, "vpc.yml")
    assert [e.actor for e in empty_catalog.audit()].count("mallory") == 0


def test_version_published_twice(empty_catalog: LocalCatalog) -> None:
    template = PRODUCTS / "aws-vpc" / "2.0.0"
    assert publish(empty_catalog, template, "aws-vpc", "2.0.0", "carol").record is not None
    with pytest.raises(InputError, match=r"aws-vpc 2\.0\.0: already published \(versions are immutable\)"):
        publish(empty_catalog, template, "aws-vpc", "v2.0.0", "carol")


def test_artefact_over_the_size_limit(empty_catalog: LocalCatalog, tmp_path: Path) -> None:
    (empty_catalog.root / "catalog.yml").write_text("version: 1\nmax_artefact_bytes: 1000\n")
    template = tmp_path / "big"
    shutil.copytree(PRODUCTS / "aws-vpc" / "2.0.0", template)
    (template / "README.md").write_text("x" * 2000)
    with pytest.raises(InputError) as caught:
        publish(empty_catalog, template, "aws-vpc", "2.0.1", "carol")
    size = 2000 + (template / "main.tf").stat().st_size
    assert (
        _one_line(caught)
        == f"{template}: artefact is {size:,} bytes, over the catalog's limit of 1,000 bytes"
    )
    assert _written(empty_catalog) == []


def test_unknown_product_kind_mismatch_and_missing_template(
    empty_catalog: LocalCatalog, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match=r"no product \.\./\.\./etc in the catalog"):
        empty_catalog.versions("../../etc")
    with pytest.raises(InputError, match="no product aws-nope in the catalog"):
        publish(empty_catalog, PRODUCTS / "aws-vpc" / "2.0.0", "aws-nope", "1.0.0", "carol")
    with pytest.raises(InputError, match="the template is terraform, the product is helm"):
        publish(empty_catalog, PRODUCTS / "aws-vpc" / "2.0.0", "webapp-chart", "1.0.0", "carol")
    with pytest.raises(InputError, match="template directory not found"):
        publish(empty_catalog, tmp_path / "missing", "aws-vpc", "3.0.0", "carol")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="no template found"):
        publish(empty_catalog, tmp_path, "aws-vpc", "3.0.0", "carol")


def test_crash_between_artefact_and_record_leaves_no_version(
    empty_catalog: LocalCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", fail)
    with pytest.raises(InputError, match="cannot write version record: No space left on device"):
        publish(empty_catalog, PRODUCTS / "aws-vpc" / "2.0.0", "aws-vpc", "2.0.0", "carol")
    assert empty_catalog.versions("aws-vpc") == []
    assert not list(empty_catalog.root.rglob("*.partial"))
    monkeypatch.undo()
    assert (
        publish(empty_catalog, PRODUCTS / "aws-vpc" / "2.0.0", "aws-vpc", "2.0.0", "carol").record is not None
    )


def test_damaged_settings_and_records_are_one_line(empty_catalog: LocalCatalog) -> None:
    (empty_catalog.root / "catalog.yml").write_text("fail_on: sometimes\n")
    with pytest.raises(InputError, match=r"catalog\.yml: invalid catalog settings: fail_on"):
        empty_catalog.settings()
    (empty_catalog.root / "catalog.yml").unlink()
    versions = empty_catalog.root / "products" / "aws-vpc" / "versions"
    versions.mkdir()
    (versions / "1.0.0.json").write_text('{"product": "aws-vpc"}')
    with pytest.raises(InputError, match=r"1\.0\.0\.json: damaged version record: KeyError"):
        empty_catalog.versions("aws-vpc")
    (empty_catalog.root / "audit.jsonl").write_text("{broken\n")
    with pytest.raises(InputError, match="line 1: damaged audit entry"):
        empty_catalog.audit()


def test_a_template_holding_a_secret_is_refused_and_the_secret_never_repeated(
    empty_catalog: LocalCatalog, tmp_path: Path
) -> None:
    template = tmp_path / "queue"
    shutil.copytree(PRODUCTS / "aws-sqs-queue" / "1.1.0", template)
    token = "ghp_" + "R8nQz4Lw2VkT9bXc7YpJ3mHs6DfA1uEo5GtK"
    lines = (template / "main.tf").read_text().count("\n")
    with (template / "main.tf").open("a") as handle:
        handle.write(f'\nlocals {{\n  deploy_token = "{token}"\n}}\n')
    refused = publish(empty_catalog, template, "aws-sqs-queue", "1.2.0", "carol")
    assert refused.record is None
    assert refused.report.reasons == (
        f"secrets.github-pat-classic (high) at main.tf:{lines + 3}: GitHub personal access token (classic)",
    )
    stored = "".join(p.read_text() for p in empty_catalog.root.rglob("*") if p.is_file())
    assert token not in stored and token[4:] not in stored  # the audit log says why, never the token
    assert _written(empty_catalog) == []
