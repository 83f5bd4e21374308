"""A loopback npm registry for the tests that run the real npm, pnpm and yarn: packuments at
``GET /<name>`` and the tarballs they point to, built here with tarfile (a ``package/`` folder
holding package.json and index.js), each with its sha512 integrity and sha1 shasum. Only
127.0.0.1; every request is logged so a test can tell what the tool asked for."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

__all__ = ["Tarball", "npm_registry", "put_on_path", "tarball", "tool_script"]

_PUBLISHED = "2020-08-13T16:53:12.000Z"
TOOLS = Path(__file__).resolve().parents[2] / "tools" / "node" / "node_modules"
SCRIPTS = {
    "pnpm": "pnpm/bin/pnpm.cjs",
    "yarn": "@yarnpkg/cli-dist/bin/yarn.js",  # berry
    "yarn-classic": "yarn-classic/bin/yarn.js",  # 1.x, installed under an alias
}


def tool_script(tool: str) -> Path | None:
    """The entry script of ``tool`` (a key of SCRIPTS) as `make node-tools` installs it, or None."""
    path = TOOLS / SCRIPTS[tool]
    return path if path.is_file() else None


def put_on_path(bin_dir: Path, command: str, tool: str) -> None:
    """An executable ``command`` in ``bin_dir`` running ``tool`` with node (yarn berry and yarn
    classic both answer to ``yarn``: each test says which one it runs)."""
    script = tool_script(tool)
    assert script is not None, f"{tool} is not installed in tools/node"
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / command
    path.write_text(f'#!/bin/sh\nexec node "{script}" "$@"\n', encoding="utf-8")
    path.chmod(0o755)


@dataclass(frozen=True)
class Tarball:
    """One published version: its .tgz bytes and the digests a lockfile records."""

    name: str
    version: str
    data: bytes

    @property
    def integrity(self) -> str:
        """Subresource-integrity sha512, as npm, pnpm and yarn classic lockfiles write it."""
        return "sha512-" + base64.b64encode(hashlib.sha512(self.data).digest()).decode()

    @property
    def shasum(self) -> str:
        """The sha1 hex digest the packument's ``dist.shasum`` carries."""
        return hashlib.sha1(self.data, usedforsecurity=False).hexdigest()

    @property
    def filename(self) -> str:
        """``lodash-4.17.20.tgz`` (the registry's naming, scope left out)."""
        return f"{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"


def tarball(name: str, version: str) -> Tarball:
    """A minimal package ``name``@``version``, byte-for-byte the same on every run."""
    files = {
        "package/package.json": json.dumps({"name": name, "version": version, "main": "index.js"}),
        "package/index.js": f"module.exports = {version!r};\n",
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 499162500  # npm's fixed date
            archive.addfile(info, io.BytesIO(data))
    return Tarball(name, version, gzip.compress(raw.getvalue(), mtime=0))


@dataclass
class _Registry:
    """Packages by name, the base URL once serving, and the paths asked for."""

    packages: dict[str, list[Tarball]]
    url: str = ""
    requests: list[str] = field(default_factory=list)

    def packument(self, name: str) -> bytes | None:
        versions = self.packages.get(name)
        if not versions:
            return None
        document = {
            "name": name,
            "dist-tags": {"latest": versions[-1].version},
            # publication dates: yarn 4 quarantines versions younger than its minimal age
            "time": {"created": _PUBLISHED, "modified": _PUBLISHED}
            | {t.version: _PUBLISHED for t in versions},
            "versions": {
                t.version: {
                    "name": name,
                    "version": t.version,
                    "main": "index.js",
                    "dist": {
                        "tarball": f"{self.url}/{name}/-/{t.filename}",
                        "integrity": t.integrity,
                        "shasum": t.shasum,
                    },
                }
                for t in versions
            },
        }
        return json.dumps(document).encode()

    def file(self, path: str) -> bytes | None:
        name, sep, filename = path.partition("/-/")
        if not sep:
            return self.packument(name)
        found = [t for t in self.packages.get(name, []) if t.filename == filename]
        return found[0].data if found else None


@contextmanager
def npm_registry(*published: Tarball) -> Iterator[_Registry]:
    """Serve ``published`` on 127.0.0.1 (an ephemeral port) for the duration of the block."""
    packages: dict[str, list[Tarball]] = {}
    for item in published:
        packages.setdefault(item.name, []).append(item)
    registry = _Registry(packages)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = unquote(self.path.split("?", 1)[0]).strip("/")
            registry.requests.append(path)
            body = registry.file(path)
            status = 200 if body is not None else 404
            body = body if body is not None else b'{"error": "Not found"}'
            kind = "application/octet-stream" if path.endswith(".tgz") else "application/json"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the requests are kept in ``registry.requests``."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    registry.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
