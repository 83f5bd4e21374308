"""Artefacts in an S3-compatible store (moto's server on 127.0.0.1 speaks the S3 API): a publish
writes the artefact object before the version record, a re-check reads it back and checks its
digest, and every failure is one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bastion.catalog.artefacts import DirectoryArtefacts, S3Artefacts, open_artefacts
from bastion.catalog.lifecycle import approve, publish, recheck
from bastion.catalog.local import LocalCatalog
from bastion.catalog.model import VersionRecord, parse_product
from bastion.cli.catalog import register
from bastion.errors import InputError, UsageError
from bastion.structured import read_yaml_mapping
from conftest import PRODUCTS

boto3 = pytest.importorskip("boto3", reason="boto3 is not installed: the S3 artefact store is not tested")


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    server_mod = pytest.importorskip("moto.server", reason="moto (with flask) is not installed")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{server._server.server_port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="catalog-artefacts")
    yield endpoint, client
    client.close()
    server.stop()


def _catalog(root: Path, store: S3Artefacts) -> LocalCatalog:
    catalog = LocalCatalog(root, store)
    catalog.add_product(
        parse_product(read_yaml_mapping(PRODUCTS / "aws-kms-key" / "product.yml"), "kms"), "carol"
    )
    return catalog


def test_publish_and_recheck_through_s3(s3: tuple[str, Any], tmp_path: Path) -> None:
    endpoint, client = s3
    store = open_artefacts(f"s3://catalog-artefacts/prod/templates?endpoint={endpoint}", tmp_path / "unused")
    assert isinstance(store, S3Artefacts) and store.prefix == "prod/templates"
    catalog = _catalog(tmp_path / "catalog", store)
    record = publish(catalog, PRODUCTS / "aws-kms-key" / "1.0.1", "aws-kms-key", "1.0.1", "carol").record
    assert record is not None
    key = f"prod/templates/sha256/{record.digest.split(':')[1]}.tar.gz"
    assert [o["Key"] for o in client.list_objects_v2(Bucket="catalog-artefacts")["Contents"]] == [key]
    assert not (tmp_path / "catalog" / "artefacts").exists()
    store.put(record.digest, b"ignored: already there")  # content-addressed, never overwritten
    approve(catalog, "aws-kms-key", "1.0.1", "dave")
    assert [r.record.compliant for r in recheck(catalog, "scheduler")] == [True]
    client.put_object(Bucket="catalog-artefacts", Key=key, Body=b"tampered")
    with pytest.raises(
        InputError, match=r"^s3://catalog-artefacts/prod/templates/sha256/.*does not match its digest"
    ):
        recheck(catalog, "scheduler")
    client.delete_object(Bucket="catalog-artefacts", Key=key)
    with pytest.raises(InputError, match=r"cannot read artefact: NoSuchKey$"):
        catalog.artefact(record.digest)


def test_missing_bucket_and_unreachable_store_are_one_line(s3: tuple[str, Any], tmp_path: Path) -> None:
    _, client = s3
    catalog = _catalog(tmp_path / "catalog", S3Artefacts(client, "no-such-bucket"))
    with pytest.raises(InputError, match=r"^s3://no-such-bucket/sha256/[0-9a-f]{64}\.tar\.gz: cannot"):
        publish(catalog, PRODUCTS / "aws-kms-key" / "1.0.1", "aws-kms-key", "1.0.1", "carol")
    assert catalog.versions("aws-kms-key") == []  # the artefact failed: no version was recorded
    down = boto3.client("s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1")
    unreachable = _catalog(tmp_path / "other", S3Artefacts(down, "catalog-artefacts"))
    with pytest.raises(InputError, match="cannot reach the object store: EndpointConnectionError"):
        publish(unreachable, PRODUCTS / "aws-kms-key" / "1.0.1", "aws-kms-key", "1.0.1", "carol")
    down.close()


def test_locations() -> None:
    assert open_artefacts("", Path("cat/artefacts")) == DirectoryArtefacts(Path("cat/artefacts"))
    assert open_artefacts("shared/artefacts", Path("x")) == DirectoryArtefacts(Path("shared/artefacts"))
    with pytest.raises(UsageError, match="no credentials in it"):
        open_artefacts("s3://key:secret@bucket/x", Path("x"))
    with pytest.raises(InputError, match="not an artefact digest"):
        DirectoryArtefacts(Path("x")).get("sha1:abc")


def test_cli_publishes_to_s3(s3: tuple[str, Any], tmp_path: Path) -> None:
    endpoint, client = s3
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """The catalog group alone."""

    register(app)
    runner = CliRunner()
    catalog = str(tmp_path / "catalog")
    location = f"s3://catalog-artefacts?endpoint={endpoint}"
    env = {"BASTION_USER": "carol", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    added = runner.invoke(
        app,
        ["catalog", "product", "add", str(PRODUCTS / "aws-kms-key" / "product.yml"), "-c", catalog],
        env=env,
    )
    assert added.exit_code == 0
    args = ["catalog", "publish", str(PRODUCTS / "aws-kms-key" / "1.0.1"), "-p", "aws-kms-key", "-v", "1.0.1"]
    published = runner.invoke(app, [*args, "-c", catalog, "--artefacts", location], env=env)
    assert published.exit_code == 0, published.stderr
    assert client.list_objects_v2(Bucket="catalog-artefacts")["KeyCount"] == 1
    listing = runner.invoke(app, ["catalog", "list", "-c", catalog, "--format", "json"], env=env)
    assert json.loads(listing.stdout)["products"][0]["versions"][0]["version"] == "1.0.1"
    approved = runner.invoke(
        app, ["catalog", "approve", "aws-kms-key", "1.0.1", "-c", catalog, "--as", "dave"]
    )
    assert approved.exit_code == 0
    with_env = {**env, "BASTION_CATALOG_ARTEFACTS": location}
    checked = runner.invoke(app, ["catalog", "recheck", "-c", catalog], env=with_env)
    assert (checked.exit_code, checked.stdout) == (0, "aws-kms-key 1.0.1 approved: compliant\n")
    local = runner.invoke(app, ["catalog", "recheck", "-c", catalog], env=env)  # artefact not on disk
    assert local.exit_code == 2 and "cannot read artefact" in local.stderr


def test_the_servers_database_catalog_keeps_artefacts_in_s3(s3: tuple[str, Any], tmp_path: Path) -> None:
    from store_backends import open_store

    from bastion.store.catalog import CatalogArtefact, DatabaseCatalog

    endpoint, client = s3
    store = open_store("sqlite", tmp_path, None)
    bucket = open_artefacts(f"s3://catalog-artefacts/server?endpoint={endpoint}", tmp_path / "unused")
    catalog = DatabaseCatalog(store, artefacts=bucket)
    spec = parse_product(read_yaml_mapping(PRODUCTS / "aws-kms-key" / "product.yml"), "kms")
    catalog.add_product(spec, "root")
    with pytest.raises(InputError, match="no product aws-nope"):  # checked before anything is written
        catalog.publish(
            VersionRecord("aws-nope", "1.0.0", "sha256:" + "0" * 64, 1, "carol", datetime.now(UTC)), b"x", "c"
        )
    assert client.list_objects_v2(Bucket="catalog-artefacts", Prefix="server/")["KeyCount"] == 0
    record = publish(catalog, PRODUCTS / "aws-kms-key" / "1.0.1", "aws-kms-key", "1.0.1", "carol").record
    assert record is not None
    key = f"server/sha256/{record.digest.split(':')[1]}.tar.gz"
    listing = client.list_objects_v2(Bucket="catalog-artefacts", Prefix="server/")  # moto's state is shared
    assert [o["Key"] for o in listing["Contents"]] == [key]
    with store.read() as session:
        assert session.query(CatalogArtefact).count() == 0  # not in the database as well
    approve(catalog, "aws-kms-key", "1.0.1", "dave")
    assert [r.record.compliant for r in recheck(catalog, "scheduler")] == [True]  # read back from S3
    store.close()
