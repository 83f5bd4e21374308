"""Fixtures for the DAST tests: the vulnerable app and its hardened twin on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dast_app import make_app
from dast_servers import serve


@pytest.fixture(scope="session")
def vulnerable_url() -> Iterator[str]:
    """The vulnerable app over HTTPS (self-signed: scan with insecure=True)."""
    with serve(make_app(hardened=False), tls=True) as url:
        yield url


@pytest.fixture(scope="session")
def hardened_url() -> Iterator[str]:
    """The hardened twin over HTTPS."""
    with serve(make_app(hardened=True), tls=True) as url:
        yield url


@pytest.fixture(scope="session")
def plain_url() -> Iterator[str]:
    """The vulnerable app over plain HTTP."""
    with serve(make_app(hardened=False)) as url:
        yield url


@pytest.fixture(scope="session")
def advisory_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Bastion advisory database holding the two lodash advisories of the fixtures."""
    from bastion.advisories.db import connect
    from bastion.advisories.importer import import_osv

    path = tmp_path_factory.mktemp("advisories") / "advisories.db"
    conn = connect(path, create=True)
    try:
        import_osv(conn, Path(__file__).resolve().parents[2] / "fixtures" / "dast" / "advisories")
        conn.commit()
    finally:
        conn.close()
    return path
