"""``bastion db update``: fetch OSV ecosystem archives and the KEV catalog, swap the database atomically.

The update works on a copy of the current database and replaces the file only when
everything succeeded (``os.replace``), so an interrupted update leaves the previous
database usable. An archive whose SHA-256 equals the one loaded last time is not
re-read, and records not newer than the stored ones are not rewritten (incremental).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from bastion.advisories.db import (
    AdvisoryDatabaseError,
    connect,
    private_directory,
    private_file,
    source_digest,
    transaction,
)
from bastion.advisories.importer import ImportReport, import_kev, import_osv
from bastion.advisories.versions import SUPPORTED_ECOSYSTEMS
from bastion.errors import InputError

__all__ = ["DEFAULT_KEV_URL", "DEFAULT_OSV_URL", "UpdateReport", "fetch", "update_database"]

DEFAULT_OSV_URL = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
MAX_DOWNLOAD_BYTES = 2_000_000_000
TIMEOUT_S = 120.0
WORK_PREFIX = ".bastion-db-"
"""Work directories of an update sit beside the database, so the final rename stays on one disk."""
OWNER_FILE = "owner.pid"
STALE_WORK_S = 6 * 3600
"""A work directory without a live owner process is removed at once; one whose owner cannot be
told (no pid file) only after this long, so a concurrent update is never pulled from under it."""


@dataclass
class UpdateReport:
    """What an update did, per ecosystem."""

    imported: dict[str, ImportReport] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    """Ecosystems whose archive had not changed since the last update."""
    kev_entries: int | None = None


def fetch(url: str, destination: Path, validators: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """Copy ``url`` (``file://``, ``http://`` or ``https://``) to ``destination``; InputError on failure.

    Over HTTP, ``validators`` from an earlier fetch (``etag``, ``last_modified``) make the
    request conditional: None is returned, and nothing downloaded, when the server answers
    304 Not Modified. Otherwise the new validators are returned (empty for files).
    """
    parsed = urlparse(url)
    if parsed.scheme in {"", "file"}:
        source = Path(unquote(parsed.path) if parsed.scheme else url)
        try:
            shutil.copyfile(source, destination)
        except OSError as exc:
            raise InputError(f"{url}: cannot read ({exc.strerror or exc})") from None
        return {}
    if parsed.scheme not in {"http", "https"}:
        raise InputError(f"{url}: unsupported URL scheme {parsed.scheme!r} (use https:// or file://)")
    import httpx

    headers = {}
    if validators and validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators and validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    try:
        with httpx.stream("GET", url, timeout=TIMEOUT_S, follow_redirects=True, headers=headers) as response:
            if response.status_code == 304 and headers:
                return None
            if response.status_code != 200:
                raise InputError(f"{url}: HTTP {response.status_code}")
            size = 0
            with destination.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_DOWNLOAD_BYTES:
                        raise InputError(f"{url}: larger than {MAX_DOWNLOAD_BYTES} bytes; refused")
                    out.write(chunk)
            fresh = {
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
            }
    except httpx.HTTPError as exc:
        raise InputError(f"{url}: download failed ({exc})") from None
    return {key: value for key, value in fresh.items() if value}


def _validators(conn: sqlite3.Connection, url: str) -> dict[str, str]:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"http:{url}",)).fetchone()
    return dict(json.loads(row[0])) if row is not None else {}


def _store_validators(conn: sqlite3.Connection, url: str, validators: Mapping[str, str]) -> None:
    if validators:
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"http:{url}", json.dumps(dict(validators)))
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def clean_stale_work(directory: Path, now: float | None = None) -> list[Path]:
    """Remove the work directories that killed updates left in ``directory``; returns them.

    A directory is stale when the process named in its ``owner.pid`` is gone, or, without a
    readable pid, when it is older than :data:`STALE_WORK_S`. Directories of a running update
    are left alone.
    """
    removed: list[Path] = []
    clock = time.time() if now is None else now
    try:
        candidates = [p for p in directory.iterdir() if p.name.startswith(WORK_PREFIX) and p.is_dir()]
    except OSError:
        return removed
    for work in candidates:
        try:
            pid = int((work / OWNER_FILE).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            pid = None
        try:
            age = clock - work.stat().st_mtime
        except OSError:
            continue
        stale = not _alive(pid) if pid is not None else age > STALE_WORK_S
        if stale and not work.is_symlink():
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work)
    return removed


def _working_copy(database: Path, work: Path) -> Path:
    """A consistent copy of the current database (or a fresh one) to update, readable by the
    owner only: ``os.replace`` later gives the database this file's mode."""
    copy = work / "advisories.sqlite3"
    private_file(copy)
    if database.is_file():
        source = connect(database)
        try:
            target = sqlite3.connect(copy)
            with target:
                source.backup(target)
            target.close()
        except sqlite3.DatabaseError as exc:
            raise AdvisoryDatabaseError(f"{database}: cannot copy the database ({exc})") from None
        finally:
            source.close()
    return copy


def update_database(
    database: Path,
    *,
    osv_url: str = DEFAULT_OSV_URL,
    kev_url: str | None = DEFAULT_KEV_URL,
    ecosystems: Sequence[str] = SUPPORTED_ECOSYSTEMS,
    progress: Callable[[str], None] | None = None,
) -> UpdateReport:
    """Update ``database`` from ``osv_url``/<Ecosystem>/all.zip and ``kev_url``; atomic replace at the end."""
    say = progress or (lambda _message: None)
    report = UpdateReport()
    private_directory(database.parent)
    for stale in clean_stale_work(database.parent):
        say(f"removed {stale.name}, left by an interrupted update")
    with tempfile.TemporaryDirectory(prefix=WORK_PREFIX, dir=database.parent) as tmp:
        work = Path(tmp)
        (work / OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="ascii")
        copy = _working_copy(database, work)
        conn = connect(copy, create=True)
        try:
            for ecosystem in ecosystems:
                url = f"{osv_url.rstrip('/')}/{ecosystem}/all.zip"
                archive = work / f"{ecosystem}.zip"
                say(f"fetching {url}")
                fresh = fetch(url, archive, _validators(conn, url))
                if fresh is None:
                    report.unchanged.append(ecosystem)
                    continue
                digest = _sha256(archive)
                with transaction(conn, copy):
                    _store_validators(conn, url, fresh)
                    if digest == source_digest(conn, ecosystem):
                        report.unchanged.append(ecosystem)
                    else:
                        report.imported[ecosystem] = import_osv(
                            conn, archive, ecosystem=ecosystem, digest=digest
                        )
                archive.unlink()
            if kev_url:
                say(f"fetching {kev_url}")
                kev_file = work / "kev.json"
                fetch(kev_url, kev_file)
                with transaction(conn, copy):
                    report.kev_entries = import_kev(conn, kev_file.read_bytes(), kev_url)
        finally:
            conn.close()
        os.replace(copy, database)
    return report
