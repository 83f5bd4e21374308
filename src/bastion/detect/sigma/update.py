"""``bastion sigma update``: replace a rule directory with a SigmaHQ release, whole or not at all.

The source is an ``http(s)://`` URL of a release archive (SigmaHQ publishes ``sigma_all_rules.zip``
and ``sigma_core.zip`` with each release), a local ``.zip`` / ``.tar.gz`` archive, or a directory.
The archive is checked against ``--sha256`` when given, unpacked into a staging directory beside
the destination (only ``.yml``/``.yaml`` rule files and licence/readme texts; absolute paths,
``..``, links and archives that unpack to more than :data:`MAX_UNPACKED_BYTES` are refused), every
rule is loaded (a rule that does not load is counted and listed, the rest are kept), and only then
is the destination replaced by two renames: the old directory stays whole until the new one is
complete. The report says which rules (by Sigma ``id``) were added, changed and removed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

import platformdirs

from bastion.detect.sigma.loader import Refusal, load_rules, rule_files
from bastion.download import fetch, require_http
from bastion.errors import InputError

__all__ = [
    "MAX_DOWNLOAD_BYTES",
    "MAX_UNPACKED_BYTES",
    "UpdateReport",
    "default_update_dir",
    "rule_digests",
    "update_rules",
]

MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
"""A download larger than this is refused (SigmaHQ's full release zip is about 5 MB)."""
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
"""An archive that unpacks to more than this is refused (a zip bomb)."""
MAX_MEMBERS = 100_000
DOWNLOAD_TIMEOUT_S = 60.0
USER_AGENT = "bastion-sigma-update"
_KEEP = re.compile(r"(?i)\.(ya?ml)$|(^|/)(licen[cs]e|readme|copying)[^/]*$")
_ID = re.compile(r"^id:\s*['\"]?([^'\"\s#]+)", re.MULTILINE)


def default_update_dir() -> Path:
    """Where ``bastion sigma update`` keeps the rules it fetched (a per-user data directory)."""
    return Path(platformdirs.user_data_dir("bastion", appauthor=False)) / "sigma-rules"


@dataclass
class UpdateReport:
    """What an update did."""

    source: str
    dest: Path
    files: int = 0
    loaded: int = 0
    refused: list[Refusal] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    sha256: str = ""
    """Digest of the archive read (empty for a directory)."""

    def lines(self) -> list[str]:
        """A human summary: counts, then each refused rule with its one-line reason."""
        out = [
            f"{self.dest}: {self.loaded} rule(s) loaded from {self.files} file(s) of {self.source}; "
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.refused)} refused"
        ]
        out.extend(f"refused  {r.line()}" for r in self.refused)
        return out


def rule_digests(root: Path) -> dict[str, str]:
    """Rule key -> SHA-256 of its file, for every rule file under ``root``; the key is the rule's
    Sigma ``id`` (each id of a multi-document file), else the file's path below ``root``."""
    out: dict[str, str] = {}
    if not root.is_dir():
        return out
    for path in rule_files([root]):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        ids = _ID.findall(data.decode("utf-8", "replace"))
        for key in ids or [path.relative_to(root).as_posix()]:
            out[key] = digest
    return out


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _download(url: str, into: Path) -> Path:
    """Fetch ``url`` into a file under ``into``; InputError (one line) on any failure."""
    target = into / "download"
    name = PurePosixPath(url.split("?", 1)[0]).name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        target = into / "download.tar.gz"
    elif name.endswith(".zip"):
        target = into / "download.zip"
    require_http(url)
    try:
        with target.open("wb") as out:
            fetch(url, out, limit=MAX_DOWNLOAD_BYTES, user_agent=USER_AGENT, timeout=DOWNLOAD_TIMEOUT_S)
    except OSError as exc:  # the download file could not be created
        raise InputError(f"{url}: download failed ({str(exc).splitlines()[0][:120]})") from None
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_name(name: str, where: str) -> PurePosixPath | None:
    """The member's relative path, None when it is not a file to keep; InputError when unsafe."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise InputError(f"{where}: archive member {name[:120]!r} points outside the archive, refused")
    if not path.parts or not _KEEP.search(path.as_posix()):
        return None
    return path


def _copy_limited(src: Iterator[bytes], dst: Path, budget: list[int], where: str) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("wb") as out:
        for chunk in src:
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise InputError(f"{where}: unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB, refused")
            out.write(chunk)


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


def _chunks(fh: _Readable) -> Iterator[bytes]:
    while chunk := fh.read(1 << 20):
        yield chunk


def _unpack_zip(archive: Path, into: Path, where: str) -> None:
    budget = [MAX_UNPACKED_BYTES]
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise InputError(f"{where}: more than {MAX_MEMBERS} archive members, refused")
            for info in members:
                if info.is_dir():
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise InputError(f"{where}: archive member {info.filename[:120]!r} is a link, refused")
                rel = _safe_name(info.filename, where)
                if rel is None:
                    continue
                with zf.open(info) as fh:
                    _copy_limited(_chunks(fh), into.joinpath(*rel.parts), budget, where)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise InputError(f"{where}: not a readable zip archive ({str(exc).splitlines()[0][:120]})") from None


def _unpack_tar(archive: Path, into: Path, where: str) -> None:
    budget = [MAX_UNPACKED_BYTES]
    try:
        with tarfile.open(archive, "r:*") as tf:
            for n, member in enumerate(tf):
                if n >= MAX_MEMBERS:
                    raise InputError(f"{where}: more than {MAX_MEMBERS} archive members, refused")
                if member.isdir():
                    continue
                if member.issym() or member.islnk():
                    raise InputError(f"{where}: archive member {member.name[:120]!r} is a link, refused")
                if not member.isfile():
                    continue
                rel = _safe_name(member.name, where)
                if rel is None:
                    continue
                fh = tf.extractfile(member)
                if fh is not None:
                    with fh:
                        _copy_limited(_chunks(fh), into.joinpath(*rel.parts), budget, where)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(f"{where}: not a readable tar archive ({str(exc).splitlines()[0][:120]})") from None


def _copy_dir(src: Path, into: Path) -> None:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_symlink() or not path.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        if _KEEP.search(rel.as_posix()):
            target = into / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def _unpack(archive: Path, into: Path, where: str) -> None:
    with archive.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK"):
        _unpack_zip(archive, into, where)
    elif head[:2] == b"\x1f\x8b" or tarfile.is_tarfile(archive):
        _unpack_tar(archive, into, where)
    else:
        raise InputError(f"{where}: not a zip or tar.gz archive")


def _swap(staging: Path, dest: Path) -> None:
    """Put ``staging`` at ``dest``; an existing ``dest`` is moved aside first and removed after."""
    old: Path | None = None
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir():
            raise InputError(f"{dest}: exists and is not a directory, refused")
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{time.time_ns()}")
        os.replace(dest, old)
    try:
        os.replace(staging, dest)
    except OSError:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def update_rules(source: str, dest: Path, sha256: str | None = None) -> UpdateReport:
    """Fetch or read ``source``, check it, load every rule and swap it in at ``dest``.

    Raises :class:`InputError` (one line, ``dest`` untouched) when the source cannot be read, the
    checksum differs, the archive is unsafe, or not one rule in it loads."""
    report = UpdateReport(source=source, dest=dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    except OSError as exc:
        raise InputError(f"{dest}: cannot write ({exc.strerror})") from None
    try:
        staging = work / "rules"
        staging.mkdir()
        local = Path(source)
        if _is_url(source):
            archive: Path | None = _download(source, work)
        elif local.is_dir():
            archive = None
            if sha256:
                raise InputError(f"{source}: --sha256 checks an archive, not a directory")
            _copy_dir(local, staging)
        elif local.is_file():
            archive = local
        else:
            raise InputError(f"{source}: no such archive, directory or URL")
        if archive is not None:
            report.sha256 = _sha256(archive)
            if sha256 and report.sha256 != sha256.strip().lower():
                raise InputError(
                    f"{source}: SHA-256 is {report.sha256}, expected {sha256.strip().lower()}; not installed"
                )
            _unpack(archive, staging, source)
        ruleset = load_rules([staging])
        report.files = ruleset.files
        report.loaded = len(ruleset.rules) + len(ruleset.correlations)
        prefix = f"{staging}{os.sep}"
        report.refused = [  # named where they will be once swapped in
            Refusal(str(dest / r.path.removeprefix(prefix)), r.reason, r.rule_id, r.title)
            for r in ruleset.refused
        ]
        if not report.loaded:
            raise InputError(
                f"{source}: no Sigma rule could be loaded ({ruleset.files} rule file(s), "
                f"{len(ruleset.refused)} refused); {dest} left as it was"
            )
        old, new = rule_digests(dest), rule_digests(staging)
        report.added = sorted(k for k in new if k not in old)
        report.removed = sorted(k for k in old if k not in new)
        report.changed = sorted(k for k in new if k in old and old[k] != new[k])
        try:
            _swap(staging, dest)
        except OSError as exc:
            raise InputError(f"{dest}: cannot replace ({exc.strerror})") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report
