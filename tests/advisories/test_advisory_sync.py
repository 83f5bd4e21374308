"""`db update` from a file:// mirror in the OSV layout: incremental, atomic, KEV."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from bastion.advisories import find_vulnerabilities
from bastion.advisories.db import connect, read_status
from bastion.advisories.sync import OWNER_FILE, STALE_WORK_S, fetch, update_database
from bastion.errors import InputError

ADVISORIES = Path(__file__).resolve().parents[1] / "fixtures" / "advisories"


def make_mirror(root: Path) -> Path:
    """BASE/<Ecosystem>/all.zip for Maven and npm from the fixture GHSA records, plus kev.json."""
    for ecosystem, names in {
        "Maven": ["GHSA-j77q-2qqg-6989", "GHSA-jfh8-c2jp-5v3q"],
        "npm": ["GHSA-jf85-cpcp-j695", "GHSA-xvch-5gv4-984h"],
    }.items():
        (root / ecosystem).mkdir(parents=True)
        with zipfile.ZipFile(root / ecosystem / "all.zip", "w") as archive:
            for name in names:
                archive.write(ADVISORIES / "osv" / "ghsa" / f"{name}.json", f"{name}.json")
    (root / "kev.json").write_bytes((ADVISORIES / "kev.json").read_bytes())
    return root


def test_update_then_unchanged(tmp_path: Path) -> None:
    mirror = make_mirror(tmp_path / "mirror")
    db = tmp_path / "cache" / "advisories.sqlite3"
    messages: list[str] = []
    report = update_database(
        db,
        osv_url=mirror.as_uri(),
        kev_url=(mirror / "kev.json").as_uri(),
        ecosystems=["Maven", "npm"],
        progress=messages.append,
    )
    assert report.imported["Maven"].written == 2 and report.kev_entries is not None
    assert any("Maven/all.zip" in m for m in messages)
    (match,) = find_vulnerabilities("Maven", "org.apache.struts:struts2-core", "2.3.31", database=db)
    assert match.kev
    again = update_database(db, osv_url=mirror.as_uri(), kev_url=None, ecosystems=["Maven", "npm"])
    assert again.unchanged == ["Maven", "npm"] and not again.imported
    conn = connect(db)
    status = read_status(conn, db)
    conn.close()
    assert {e.ecosystem for e in status.ecosystems} == {"Maven", "npm"}


def test_interrupted_update_keeps_previous_database(tmp_path: Path) -> None:
    mirror = make_mirror(tmp_path / "mirror")
    db = tmp_path / "advisories.sqlite3"
    update_database(db, osv_url=mirror.as_uri(), kev_url=None, ecosystems=["Maven"])
    before = db.read_bytes()
    with pytest.raises(InputError, match="cannot read"):
        update_database(db, osv_url=mirror.as_uri(), kev_url=None, ecosystems=["npm", "PyPI"])
    assert db.read_bytes() == before  # npm was imported into the copy, never swapped in
    assert find_vulnerabilities("npm", "lodash", "4.17.11", database=db) == []
    assert find_vulnerabilities("Maven", "org.apache.struts:struts2-core", "2.3.31", database=db)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bastion-db-")] == []


def test_bad_kev_url_leaves_database(tmp_path: Path) -> None:
    mirror = make_mirror(tmp_path / "mirror")
    (mirror / "bad.json").write_text("{ not json")
    db = tmp_path / "advisories.sqlite3"
    with pytest.raises(InputError, match="KEV catalog is not valid JSON"):
        update_database(
            db, osv_url=mirror.as_uri(), kev_url=(mirror / "bad.json").as_uri(), ecosystems=["Maven"]
        )
    assert not db.exists()


def test_fetch_schemes(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("x")
    fetch(str(source), tmp_path / "b.txt")
    assert (tmp_path / "b.txt").read_text() == "x"
    with pytest.raises(InputError, match="unsupported URL scheme 'ftp'"):
        fetch("ftp://example.org/x", tmp_path / "c")


def test_http_mirror(tmp_path: Path) -> None:
    import http.server
    import threading
    from functools import partial

    mirror = make_mirror(tmp_path / "mirror")

    statuses: list[str] = []

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            statuses.append((format % args).rsplit('" ', 1)[-1].split()[0])  # '"GET /x" 304 -' -> 304

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(mirror)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        db = tmp_path / "advisories.sqlite3"
        report = update_database(db, osv_url=base, kev_url=f"{base}/kev.json", ecosystems=["npm"])
        assert report.imported["npm"].written == 2
        statuses.clear()
        again = update_database(db, osv_url=base, kev_url=None, ecosystems=["npm"])
        assert again.unchanged == ["npm"] and statuses == ["304"]  # conditional GET, nothing downloaded
        with pytest.raises(InputError, match="HTTP 404"):
            fetch(f"{base}/missing.zip", tmp_path / "m.zip")
    finally:
        server.shutdown()
        server.server_close()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_work_directories_of_killed_updates_are_cleaned(tmp_path: Path) -> None:
    mirror = make_mirror(tmp_path / "mirror")
    db = tmp_path / "cache" / "advisories.sqlite3"
    db.parent.mkdir()
    killed = db.parent / ".bastion-db-killed"
    running = db.parent / ".bastion-db-running"
    old_unowned = db.parent / ".bastion-db-old"
    new_unowned = db.parent / ".bastion-db-new"
    for work in (killed, running, old_unowned, new_unowned):
        work.mkdir()
        (work / "advisories.sqlite3").write_bytes(b"half-written copy")
    (killed / OWNER_FILE).write_text(f"{_dead_pid()}\n")
    (running / OWNER_FILE).write_text(f"{os.getpid()}\n")
    long_ago = time.time() - STALE_WORK_S - 60
    os.utime(old_unowned, (long_ago, long_ago))
    messages: list[str] = []
    update_database(db, osv_url=mirror.as_uri(), kev_url=None, ecosystems=["npm"], progress=messages.append)
    left = sorted(p.name for p in db.parent.iterdir() if p.name.startswith(".bastion-db-"))
    assert left == [".bastion-db-new", ".bastion-db-running"]
    assert any("removed .bastion-db-killed" in m for m in messages)
    assert find_vulnerabilities("npm", "lodash", "4.17.11", database=db)


def test_database_and_its_directory_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        mirror = make_mirror(tmp_path / "mirror")
        db = tmp_path / "new" / "cache" / "advisories.sqlite3"
        update_database(db, osv_url=mirror.as_uri(), kev_url=None, ecosystems=["npm"])
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
        imported = tmp_path / "imported" / "advisories.sqlite3"
        connect(imported, create=True).close()
        assert stat.S_IMODE(imported.stat().st_mode) == 0o600
        assert stat.S_IMODE(imported.parent.stat().st_mode) == 0o700
    finally:
        os.umask(previous)
