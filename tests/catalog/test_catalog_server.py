"""The catalog in the platform store (SQLite and PostgreSQL, migration 0006_catalog), its API and
page in the server, and the command line against a live server (``--server URL --token``)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from server_world import Live, bearer, build_world, login
from sqlalchemy import create_engine, inspect, select
from typer.testing import CliRunner

from bastion.catalog.artefact import pack
from bastion.catalog.consumers import CatalogIndex, scan_consumer
from bastion.catalog.gate import GateOptions
from bastion.catalog.lifecycle import approve, deprecate, publish, recheck, retire
from bastion.catalog.model import CatalogSettings, State, parse_product
from bastion.cli.catalog import register
from bastion.errors import InputError
from bastion.store.catalog import CatalogArtefact, DatabaseCatalog
from bastion.store.db import Store
from bastion.store.models import AuditEvent
from bastion.structured import read_yaml_mapping
from conftest import CONSUMER, NEW_POLICIES, PRODUCTS, Hooks, product_versions, seed_history


def _spec(name: str) -> dict[str, object]:
    return read_yaml_mapping(PRODUCTS / name / "product.yml")


def test_database_catalog_lifecycle_on_both_back_ends(store: Store) -> None:
    catalog = DatabaseCatalog(store)
    for name in ("aws-vpc", "aws-kms-key"):
        catalog.add_product(parse_product(_spec(name), name), "carol")
    with pytest.raises(InputError, match="name clashes with existing product aws-vpc"):
        catalog.add_product(parse_product(_spec("aws-vpc"), "vpc"), "mallory")
    old, current = product_versions(PRODUCTS / "aws-kms-key")
    refused = publish(catalog, old, "aws-kms-key", old.name, "carol")
    assert refused.record is None and refused.report.reasons
    record = publish(catalog, current, "aws-kms-key", current.name, "carol").record
    assert record is not None and record.state is State.DRAFT
    with pytest.raises(InputError, match=r"aws-kms-key 1\.0\.1: already published"):
        publish(catalog, current, "aws-kms-key", "1.0.1", "carol")
    with pytest.raises(InputError, match=r"aws-kms-key 1\.0\.1: already published"):
        catalog.publish(record, pack(current, 10**6).data, "carol")  # the unique constraint holds too
    assert publish(catalog, current, "aws-kms-key", "1.1.0", "carol").record is not None  # same artefact
    with store.read() as session:
        assert len(session.scalars(select(CatalogArtefact)).all()) == 1  # stored once, by digest
    approve(catalog, "aws-kms-key", "1.0.1", "dave")
    approve(catalog, "aws-kms-key", "1.1.0", "dave")
    deprecate(catalog, "aws-kms-key", "1.0.1", "erin", date(2027, 1, 31), "1.1.0")
    results = recheck(catalog, "scheduler", GateOptions(extra_iac_policies=(NEW_POLICIES,)))
    assert [(r.record.version, r.record.compliant, r.changed) for r in results] == [
        ("1.0.1", False, True),
        ("1.1.0", False, True),
    ]
    retire(catalog, "aws-kms-key", "1.0.1", "erin")
    assert {r.version: r.state for r in catalog.versions("aws-kms-key")} == {
        "1.0.1": State.RETIRED,
        "1.1.0": State.APPROVED,
    }
    assert catalog.artefact(record.digest) == pack(current, 10**6).data
    with pytest.raises(InputError, match="not in the catalog"):
        catalog.artefact("sha256:" + "0" * 64)
    actions = [(e.action, e.actor, e.version) for e in catalog.audit()]
    assert actions[:4] == [
        ("product-add", "carol", None),
        ("product-add", "carol", None),
        ("publish-refused", "carol", "1.0.0"),
        ("publish", "carol", "1.0.1"),
    ]
    assert actions[-1] == ("retire", "erin", "1.0.1")
    with store.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "catalog.non-compliant")).all()
        assert [e.reason.split(":")[0] for e in events] == ["aws-kms-key@1.0.1", "aws-kms-key@1.1.0"]
    report = scan_consumer(CONSUMER, CatalogIndex.build(catalog), date(2026, 12, 7))
    assert [(f.rule_id, f.location.start_line) for f in report.findings] == [
        ("catalog.version-unknown", 2),
        ("catalog.version-unknown", 16),
    ]
    with pytest.raises(InputError, match="no such version"):
        catalog.update(record.with_changes(version="9.9.9"), catalog.audit()[0])
    with pytest.raises(InputError, match="no product aws-nope"):
        catalog.publish(record.with_changes(product="aws-nope"), b"", "carol")


def test_migration_upgrades_and_downgrades_on_its_own(tmp_path: Path) -> None:
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    revision = importlib.import_module("bastion.store.migrations.versions.0006_catalog")
    assert (revision.revision, revision.down_revision) == ("0006", "0005")
    engine = create_engine(f"sqlite:///{tmp_path / 'direct.db'}")
    with engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            revision.upgrade()
            assert {"catalog_products", "catalog_versions", "catalog_artefacts"} <= set(
                inspect(connection).get_table_names()
            )
            revision.downgrade()
        assert inspect(connection).get_table_names() == []
    engine.dispose()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TestClient]:
    from store_backends import open_store

    store = open_store("sqlite", tmp_path, None)
    world = build_world(store)
    world.app.state.catalog_settings = CatalogSettings(require_approval=True)
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        client.headers.update(bearer(world.demo_token))
        yield client
    store.close()


def test_api_and_page(server: TestClient) -> None:
    assert TestClient(server.app).get("/api/catalog").status_code == 401
    assert (
        server.post("/api/catalog/products", json=_spec("aws-vpc")).status_code == 403
    )  # a token is no admin
    admin = TestClient(server.app, base_url="http://testserver", follow_redirects=False)
    csrf = login(admin, "root")
    headers = {"X-CSRF-Token": csrf}
    assert admin.post("/api/catalog/products", json=_spec("aws-vpc")).status_code == 403  # no CSRF token
    created = admin.post("/api/catalog/products", json=_spec("aws-vpc"), headers=headers)
    assert created.status_code == 201 and created.json()["name"] == "aws-vpc"
    clash = admin.post("/api/catalog/products", json=_spec("aws-vpc"), headers=headers)
    assert clash.status_code == 409 and "name clashes" in clash.json()["detail"]
    bad = admin.post("/api/catalog/products", json={"name": "X"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["detail"].startswith("request body: invalid product: ")

    old = pack(PRODUCTS / "aws-vpc" / "1.4.0", 10**6).data
    refused = server.post("/api/catalog/products/aws-vpc/versions", params={"version": "1.4.0"}, content=old)
    assert refused.status_code == 422
    assert "iac.aws.vpc-flow-logs (medium) at main.tf:7: VPC has flow logs" in refused.json()["reasons"]
    current = pack(PRODUCTS / "aws-vpc" / "2.0.0", 10**6).data
    for version in ("2.0.0", "2.1.0"):
        ok = server.post(
            "/api/catalog/products/aws-vpc/versions", params={"version": version}, content=current
        )
        assert ok.status_code == 201 and ok.json()["state"] == "draft"
    again = server.post(
        "/api/catalog/products/aws-vpc/versions", params={"version": "2.0.0"}, content=current
    )
    assert (
        again.status_code == 400
        and again.json()["detail"] == "aws-vpc 2.0.0: already published (versions are immutable)"
    )
    junk = server.post("/api/catalog/products/aws-vpc/versions", params={"version": "3.0.0"}, content=b"junk")
    assert junk.status_code == 400 and junk.json()["detail"].startswith("artefact cannot be unpacked")
    semver = server.post("/api/catalog/products/aws-vpc/versions", params={"version": "3"}, content=current)
    assert semver.status_code == 400 and "not a semantic version" in semver.json()["detail"]

    assert server.post("/api/catalog/products/aws-vpc/versions/2.0.0/approve").status_code == 403
    for version in ("2.0.0", "2.1.0"):
        approved = admin.post(f"/api/catalog/products/aws-vpc/versions/{version}/approve", headers=headers)
        assert approved.status_code == 200 and approved.json()["approved_by"] == "root"
    twice = admin.post("/api/catalog/products/aws-vpc/versions/2.0.0/approve", headers=headers)
    assert twice.status_code == 409
    body = {"until": "2027-03-31", "successor": "2.1.0"}
    deprecated = admin.post(
        "/api/catalog/products/aws-vpc/versions/2.0.0/deprecate", json=body, headers=headers
    )
    assert deprecated.status_code == 200 and deprecated.json()["successor"] == "2.1.0"
    retired = admin.post("/api/catalog/products/aws-vpc/versions/2.0.0/retire", headers=headers)
    assert retired.status_code == 200 and retired.json()["state"] == "retired"
    assert (
        admin.post("/api/catalog/products/aws-vpc/versions/2.0.0/retire", headers=headers).status_code == 409
    )
    checked = admin.post("/api/catalog/recheck", headers=headers)
    assert checked.status_code == 200
    assert [(c["version"], c["compliant"]) for c in checked.json()] == [("2.1.0", True)]

    document = server.get("/api/catalog").json()
    assert [v["state"] for v in document["products"][0]["versions"]] == ["retired", "approved"]
    actions = [e["action"] for e in server.get("/api/catalog/audit").json()]
    assert actions == [
        "product-add", "publish-refused", "publish", "publish", "approve", "approve",
        "deprecate", "retire", "recheck",
    ]  # fmt: skip
    page = admin.get("/catalog")
    assert page.status_code == 200
    assert 'id="product-aws-vpc"' in page.text and "2.1.0" in page.text and "retired" in page.text
    assert '<a href="/catalog" class="active">Catalog</a>' in page.text
    assert "<summary>Use aws-vpc 2.1.0</summary>" in page.text  # the latest approved: inputs, example
    assert "  source  = &#34;acme/vpc/aws&#34;\n  version = &#34;2.1.0&#34;" in page.text
    assert "<td><code>cidr_block</code>" in page.text
    assert '<td class="small">{"pattern": "10\\\\.\\\\d+\\\\.0\\\\.0/16"}</td>' in page.text  # its constraint


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """The catalog group alone."""

    register(app)
    return app


def test_cli_against_a_live_server(live_sqlite: Live, tmp_path: Path) -> None:
    world = live_sqlite.world
    DatabaseCatalog(world.store).add_product(parse_product(_spec("aws-s3-bucket"), "s3"), "root")
    runner = CliRunner()
    env = {"BASTION_TOKEN": world.demo_token}

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(_cli(), ["catalog", *args, "--server", live_sqlite.url], env=env)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run(
        "publish", str(PRODUCTS / "aws-s3-bucket" / "1.1.0"), "-p", "aws-s3-bucket", "-v", "1.1.0"
    )
    assert code == 0 and out.startswith("published aws-s3-bucket 1.1.0 (draft) sha256:")
    code, _, err = run(
        "publish", str(PRODUCTS / "aws-s3-bucket" / "1.0.0"), "-p", "aws-s3-bucket", "-v", "1.0.0"
    )
    assert code == 1 and "  - iac.aws.s3-bucket-encryption (high) at main.tf:6:" in err
    code, _, err = run("approve", "aws-s3-bucket", "1.1.0")
    assert code == 2 and err.startswith("error: catalog server http://127.0.0.1:") and "HTTP 403" in err
    assert world.demo_token not in err
    approve(DatabaseCatalog(world.store), "aws-s3-bucket", "1.1.0", "root")
    code, out, _ = run("list")
    assert code == 0 and "  1.1.0        approved" in out
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.tf").write_text(
        'module "b" {\n  source = "git::https://git.example.com/platform/terraform-aws-s3-bucket.git?ref=1.0.0"\n}\n'
    )
    code, out, _ = run("scan", str(repo), "--format", "json")
    assert code == 1 and '"catalog.version-unknown"' in out
    code, out, _ = run("audit")
    assert code == 0 and "token:ci" in out
    code, _, err = run("product", "add", str(PRODUCTS / "aws-vpc" / "product.yml"))
    assert code == 2 and "HTTP 403" in err
    # a scheduler holding a project token re-checks (approving stays with the approver role)
    assert run("recheck")[:2] == (0, "aws-s3-bucket 1.1.0 approved: compliant\n")
    assert DatabaseCatalog(world.store).audit()[-1].actor.startswith("token:")
    no_token = runner.invoke(
        _cli(), ["catalog", "list", "--server", live_sqlite.url], env={"BASTION_TOKEN": ""}
    )
    assert no_token.exit_code == 2 and "no API token" in no_token.stderr
    wrong = runner.invoke(_cli(), ["catalog", "list", "--server", "ftp://x"], env=env)
    assert wrong.exit_code == 2 and "expected an http:// or https:// URL" in wrong.stderr
    down = runner.invoke(_cli(), ["catalog", "list", "--server", "http://127.0.0.1:9"], env=env)
    assert down.exit_code == 2 and down.stderr == "error: catalog server http://127.0.0.1:9: ConnectError\n"


def _flatten(routes: list[Any]) -> list[Any]:
    """Every route, also those of included routers (FastAPI keeps them nested)."""
    flat: list[Any] = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        flat.extend(_flatten(nested.routes) if nested is not None else [route])
    return flat


def test_every_catalog_route_needs_authentication(server: TestClient) -> None:
    from fastapi.routing import APIRoute

    anonymous = TestClient(server.app, base_url="http://testserver", follow_redirects=False)
    routes = [
        (
            method,
            route.path.replace("{product}", "aws-vpc")
            .replace("{version}", "1.0.0")
            .replace("{action}", "approve"),
        )
        for route in _flatten(server.app.routes)
        if isinstance(route, APIRoute) and "catalog" in route.path
        for method in route.methods
    ]
    assert len(routes) == 11
    for method, path in routes:
        for headers in ({}, bearer("bst_000000000000_wrong"), {"Cookie": "bastion_session=forged"}):
            response = anonymous.request(method, path, headers=headers)
            if response.status_code == 303:
                assert method == "GET" and response.headers["location"].startswith("/login"), (method, path)
            else:
                assert response.status_code == 401, (method, path, headers, response.status_code)


def test_server_recheck_and_deprecation_tell_owner_and_consumers(
    tmp_path: Path, hooks: str, mailbox: tuple[int, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from store_backends import open_store

    port, mails = mailbox
    monkeypatch.setenv("BASTION_CATALOG_SMTP", f"127.0.0.1:{port}")
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store)
    catalog = DatabaseCatalog(store, CatalogSettings(require_approval=False))
    spec = {**_spec("aws-kms-key"), "owner_webhook": f"{hooks}/owner"}
    catalog.add_product(parse_product(spec, "kms"), "root")
    for version in ("1.0.1", "1.1.0"):
        publish(catalog, PRODUCTS / "aws-kms-key" / "1.0.1", "aws-kms-key", version, "carol")
    seed_history(catalog, PRODUCTS / "aws-kms-key" / "1.0.0", "aws-kms-key", "1.0.0")  # fails today
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as admin:
        headers = {"X-CSRF-Token": login(admin, "root")}
        body = {"until": "2027-01-31", "successor": "1.1.0"}
        assert (
            admin.post(
                "/api/catalog/products/aws-kms-key/versions/1.0.1/deprecate", json=body, headers=headers
            ).status_code
            == 200
        )
        checked = admin.post("/api/catalog/recheck", headers=headers).json()
    assert [(c["version"], c["compliant"], c["changed"], c["undelivered"]) for c in checked] == [
        ("1.0.0", False, True, []),
        ("1.0.1", True, False, []),
        ("1.1.0", True, False, []),
    ]
    assert [(path, body["event"], body["version"]) for path, body in Hooks.posts] == [
        ("/owner", "deprecated", "1.0.1"),
        ("/owner", "non-compliant", "1.0.0"),
    ]
    assert [m["Subject"] for m in mails] == [
        "[bastion catalog] aws-kms-key 1.0.1 is deprecated",
        "[bastion catalog] aws-kms-key 1.0.0 is non-compliant",
    ]
    assert "iac.aws.kms-rotation (medium)" in mails[1].get_payload()
    assert mails[0]["To"] == "security-team@example.com"
    store.close()


def _archive(files: dict[str, bytes]) -> bytes:
    """A tar.gz holding ``files`` (what an honest or a hostile client may upload)."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_uploads_over_the_size_limit_are_refused_before_anything_is_stored(server: TestClient) -> None:
    import os

    from bastion.server.catalog import upload_limit

    server.app.state.catalog_settings = CatalogSettings(require_approval=True, max_artefact_bytes=4000)
    DatabaseCatalog(server.app.state.store).add_product(parse_product(_spec("aws-vpc"), "vpc"), "root")
    url = "/api/catalog/products/aws-vpc/versions"
    assert server.get("/api/catalog").json()["settings"] == {
        "max_artefact_bytes": 4000,
        "require_approval": True,
    }
    noise = os.urandom(upload_limit(4000) + 1)  # does not compress: over the limit as sent
    big = server.post(url, params={"version": "2.0.0"}, content=noise)
    assert big.status_code == 413
    assert (
        big.json()["detail"] == f"artefact upload is over the catalog's limit of {upload_limit(4000):,} bytes"
    )
    main_tf = (PRODUCTS / "aws-vpc" / "2.0.0" / "main.tf").read_bytes()
    bomb = _archive({"main.tf": main_tf, "padding.txt": b"\0" * 50_000_000})  # 50 MB in about 50 KB
    assert len(bomb) <= upload_limit(4000)  # within the upload limit: stopped by the unpacker
    refused = server.post(url, params={"version": "2.0.0"}, content=bomb)
    assert (refused.status_code, refused.json()["detail"]) == (
        400,
        "artefact unpacks to more than 4,000 bytes, over the catalog's limit",
    )
    small_bomb = _archive({"main.tf": main_tf, "padding.txt": b"\0" * 5_000})
    assert len(small_bomb) <= upload_limit(4000)
    refused = server.post(url, params={"version": "2.0.0"}, content=small_bomb)
    assert (refused.status_code, refused.json()["detail"]) == (
        400,
        "artefact unpacks to more than 4,000 bytes, over the catalog's limit",
    )
    ok = server.post(url, params={"version": "2.0.0"}, content=_archive({"main.tf": main_tf}))
    assert ok.status_code == 201
    assert [e["action"] for e in server.get("/api/catalog/audit").json()] == ["product-add", "publish"]
    with server.app.state.store.read() as session:
        assert len(session.scalars(select(CatalogArtefact)).all()) == 1


def test_cli_packs_to_the_servers_limit(live_sqlite: Live) -> None:
    world = live_sqlite.world
    world.app.state.catalog_settings = CatalogSettings(max_artefact_bytes=1000)
    DatabaseCatalog(world.store).add_product(parse_product(_spec("aws-vpc"), "vpc"), "root")
    result = CliRunner().invoke(
        _cli(),
        ["catalog", "publish", str(PRODUCTS / "aws-vpc" / "2.0.0"), "-p", "aws-vpc", "-v", "2.0.0",
         "--server", live_sqlite.url],
        env={"BASTION_TOKEN": world.demo_token},
    )  # fmt: skip
    size = sum(p.stat().st_size for p in (PRODUCTS / "aws-vpc" / "2.0.0").iterdir())
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {PRODUCTS / 'aws-vpc' / '2.0.0'}: artefact is {size:,} bytes, "
        "over the catalog's limit of 1,000 bytes\n"
    )
    assert DatabaseCatalog(world.store).versions("aws-vpc") == []


def test_server_keeps_artefacts_on_disk_when_told(
    server: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = tmp_path / "blobs"
    monkeypatch.setenv("BASTION_CATALOG_ARTEFACTS", str(blobs))
    DatabaseCatalog(server.app.state.store).add_product(parse_product(_spec("aws-vpc"), "vpc"), "root")
    current = pack(PRODUCTS / "aws-vpc" / "2.0.0", 10**6)
    ok = server.post(
        "/api/catalog/products/aws-vpc/versions", params={"version": "2.0.0"}, content=current.data
    )
    assert ok.status_code == 201
    stored = blobs / "sha256" / f"{current.digest.split(':')[1]}.tar.gz"
    assert stored.read_bytes() == current.data  # content-addressed on disk, not in the database
    with server.app.state.store.read() as session:
        assert session.scalars(select(CatalogArtefact)).all() == []
    admin = TestClient(server.app, base_url="http://testserver", follow_redirects=False)
    headers = {"X-CSRF-Token": login(admin, "root")}
    assert (
        admin.post("/api/catalog/products/aws-vpc/versions/2.0.0/approve", headers=headers).status_code == 200
    )
    checked = admin.post("/api/catalog/recheck", headers=headers).json()
    assert [(c["version"], c["compliant"]) for c in checked] == [("2.0.0", True)]  # read back from disk
    stored.write_bytes(b"tampered")
    stopped = admin.post("/api/catalog/recheck", headers=headers)
    assert stopped.status_code == 500
    assert (
        stopped.json()["detail"]
        == f"re-check stopped: {stored}: artefact does not match its digest (damaged or altered)"
    )


def test_approvers_act_from_the_page(server: TestClient) -> None:
    """A project token publishes (CI); an administrator approves, deprecates and retires with the
    page's buttons (session and CSRF token); the token cannot."""
    DatabaseCatalog(server.app.state.store).add_product(parse_product(_spec("aws-vpc"), "vpc"), "root")
    current = pack(PRODUCTS / "aws-vpc" / "2.0.0", 10**6).data
    for version in ("2.0.0", "2.1.0"):
        published = server.post(
            "/api/catalog/products/aws-vpc/versions", params={"version": version}, content=current
        )
        assert published.status_code == 201
    admin = TestClient(server.app, base_url="http://testserver", follow_redirects=False)
    csrf = login(admin, "root")
    page = admin.get("/catalog").text
    assert page.count('action="/catalog/aws-vpc/2.0.0/approve"') == 1 and "Re-check every version now" in page
    assert "Approve" not in server.get("/catalog").text  # a token sees no buttons
    assert server.post("/catalog/aws-vpc/2.0.0/approve").status_code == 403  # nor may it press them
    assert admin.post("/catalog/aws-vpc/2.0.0/approve", data={}).status_code == 403  # no CSRF token
    for version in ("2.0.0", "2.1.0"):
        done = admin.post(f"/catalog/aws-vpc/{version}/approve", data={"csrf_token": csrf})
        assert (done.status_code, done.headers["location"]) == (303, "/catalog#product-aws-vpc")
    page = admin.get("/catalog").text
    assert 'action="/catalog/aws-vpc/2.0.0/deprecate"' in page and "<option>2.1.0</option>" in page
    assert 'action="/catalog/aws-vpc/2.1.0/deprecate"' not in page  # nothing later to move to
    bad = admin.post(
        "/catalog/aws-vpc/2.0.0/deprecate", data={"csrf_token": csrf, "until": "soon", "successor": "2.1.0"}
    )
    assert bad.status_code == 400 and "<p>until &#39;soon&#39;: expected a date YYYY-MM-DD</p>" in bad.text
    form = {"csrf_token": csrf, "until": "2027-03-31", "successor": "2.1.0"}
    assert admin.post("/catalog/aws-vpc/2.0.0/deprecate", data=form).status_code == 303
    assert admin.post("/catalog/aws-vpc/2.0.0/retire", data={"csrf_token": csrf}).status_code == 303
    again = admin.post("/catalog/aws-vpc/2.0.0/retire", data={"csrf_token": csrf})
    assert (
        again.status_code == 409 and "aws-vpc 2.0.0 is retired; deprecate it before retiring it" in again.text
    )
    assert admin.post("/catalog/aws-vpc/2.0.0/launch", data={"csrf_token": csrf}).status_code == 404
    assert admin.post("/catalog/recheck", data={"csrf_token": csrf}).status_code == 303
    actions = [(e["action"], e["actor"]) for e in server.get("/api/catalog/audit").json()][-5:]
    assert actions == [("approve", "root"), ("approve", "root"), ("deprecate", "root"), ("retire", "root"),
                       ("recheck", "root")]  # fmt: skip


def test_a_policy_added_on_the_server_makes_the_next_recheck_fail_a_version(
    server: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    DatabaseCatalog(server.app.state.store).add_product(parse_product(_spec("aws-kms-key"), "kms"), "root")
    server.app.state.catalog_settings = CatalogSettings(require_approval=False)
    current = pack(PRODUCTS / "aws-kms-key" / "1.0.1", 10**6).data
    url = "/api/catalog/products/aws-kms-key/versions"
    assert server.post(url, params={"version": "1.0.1"}, content=current).status_code == 201
    assert [c["compliant"] for c in server.post("/api/catalog/recheck").json()] == [True]
    monkeypatch.setenv("BASTION_CATALOG_POLICIES", str(NEW_POLICIES))
    (checked,) = server.post("/api/catalog/recheck").json()
    assert (checked["compliant"], checked["changed"]) == (False, True)
    assert checked["reasons"] == ["iac.acme.kms-multi-region (high) at main.tf:12: KMS key is multi-region"]
    refused = server.post(url, params={"version": "1.0.2"}, content=current)  # and new versions must pass it
    assert refused.status_code == 422 and refused.json()["reasons"] == checked["reasons"]
    monkeypatch.setenv("BASTION_CATALOG_POLICIES", str(tmp_path / "nowhere"))
    broken = server.post("/api/catalog/recheck")
    assert (broken.status_code, broken.json()["detail"]) == (
        500,
        f"BASTION_CATALOG_POLICIES: not a directory: {tmp_path / 'nowhere'}",
    )
