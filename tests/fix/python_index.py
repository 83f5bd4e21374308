"""Python packages for the tests that run the real uv and poetry: wheels built here (empty
packages named like the advisories' ones) and a PEP 503 simple index serving them on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["simple_index", "wheel"]


def wheel(name: str, version: str, out: Path) -> Path:
    """A minimal valid wheel of ``name`` ``version`` (one module, METADATA, WHEEL, RECORD) in ``out``."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: bastion-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    path = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
            record.append(f"{member},sha256={digest},{len(text.encode())}")
        archive.writestr(f"{dist}/RECORD", "\n".join([*record, f"{dist}/RECORD,,"]) + "\n")
    return path


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No request log on stderr."""


@contextmanager
def simple_index(root: Path, wheels: dict[str, list[Path]]) -> Iterator[str]:
    """Serve ``wheels`` (project name -> wheel files) as a PEP 503 index laid out under ``root``
    (``simple/<name>/index.html`` with ``#sha256=`` links); yields the index URL (``.../simple/``)."""
    for name, files in wheels.items():
        folder = root / "simple" / name
        folder.mkdir(parents=True, exist_ok=True)
        links = []
        for file in files:
            target = folder / file.name
            target.write_bytes(file.read_bytes())
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            links.append(f'<a href="{file.name}#sha256={digest}">{file.name}</a>')
        (folder / "index.html").write_text(f"<html><body>{''.join(links)}</body></html>\n", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
