"""A catalog directory built from tests/fixtures/catalog: every product, its current version
published through the gate, and its older version seeded as history (published before today's
policies, so it passed then and fails now)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from server_world import live_sqlite, mailbox
from store_backends import postgres_url, store

from bastion.catalog.artefact import pack
from bastion.catalog.lifecycle import approve, publish
from bastion.catalog.local import LocalCatalog
from bastion.catalog.model import State, VersionRecord, parse_product
from bastion.catalog.semver import parse_semver
from bastion.catalog.templates import read_template
from bastion.structured import read_yaml_mapping

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "catalog"
PRODUCTS = FIXTURES / "products"
CONSUMER = FIXTURES / "consumers" / "payments-infra"
NEW_POLICIES = FIXTURES / "new-policies"
PAST = datetime(2025, 3, 1, tzinfo=UTC)


def product_versions(product: Path) -> list[Path]:
    """The version directories of a product fixture, oldest first."""
    return sorted((p for p in product.iterdir() if p.is_dir()), key=lambda p: parse_semver(p.name))


def seed_history(catalog: LocalCatalog, template: Path, product: str, version: str) -> VersionRecord:
    """Store an approved version as it was published in the past (before today's policies)."""
    spec = next(s for s in catalog.products() if s.name == product)
    info = read_template(template, spec.kind)
    artefact = pack(template, 5_000_000)
    record = VersionRecord(
        product=product,
        version=version,
        digest=artefact.digest,
        size=artefact.size,
        published_by="carol",
        published_at=PAST,
        state=State.APPROVED,
        inputs=info.inputs,
        outputs=info.outputs,
        approved_by="dave",
        approved_at=PAST,
    )
    catalog.publish(record, artefact.data, "carol")
    return record


@pytest.fixture
def empty_catalog(tmp_path: Path) -> LocalCatalog:
    """A catalog with every fixture product and no version."""
    catalog = LocalCatalog(tmp_path / "catalog")
    for product in sorted(PRODUCTS.iterdir()):
        spec = parse_product(read_yaml_mapping(product / "product.yml"), str(product))
        catalog.add_product(spec, "carol")
    return catalog


@pytest.fixture
def full_catalog(empty_catalog: LocalCatalog) -> LocalCatalog:
    """Every product with its older version as approved history and its current version
    published through the gate by carol and approved by dave."""
    for product in sorted(PRODUCTS.iterdir()):
        old, current = product_versions(product)
        seed_history(empty_catalog, old, product.name, old.name)
        result = publish(empty_catalog, current, product.name, current.name, "carol")
        assert result.record is not None, result.report.reasons
        approve(empty_catalog, product.name, current.name, "dave")
    return empty_catalog


__all__ = ["Hooks", "hooks", "live_sqlite", "mailbox", "postgres_url", "store"]


class Hooks(BaseHTTPRequestHandler):
    """Records every POST; answers 500 on /broken."""

    posts: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hooks.posts.append((self.path, json.loads(body)))
        self.send_response(500 if self.path == "/broken" else 204)
        self.end_headers()


@pytest.fixture
def hooks() -> Iterator[str]:
    Hooks.posts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
