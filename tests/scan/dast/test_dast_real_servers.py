"""Pages produced by real servers, not by the fixture app: the rules must know them as they are."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from dast_helpers import rule_counts, scan
from dast_servers import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    """Python's own http.server over a directory (it lists directories)."""
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "q3.csv").write_text("a,b\n1,2\n")
    (tmp_path / "notes.txt").write_text("hello\n")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, _format: str, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_python_http_server_directory_listing(file_server: str) -> None:
    result = scan(file_server + "/")
    counts = rule_counts(result)
    assert counts["dast.directory-listing"] == 2  # / and /reports/
    assert counts["dast.server-version"] == 1  # SimpleHTTP/0.6 Python/3.x
    assert result.pages >= 4


def test_starlette_debug_page() -> None:
    async def boom(request: Request) -> Response:
        raise ZeroDivisionError(request.url.path)

    async def index(_: Request) -> Response:
        return Response('<html><a href="/crash">crash</a></html>', media_type="text/html")

    app = Starlette(debug=True, routes=[Route("/", index), Route("/crash", boom)])
    with serve(app) as url:
        result = scan(url + "/")
    debug = [f for f in result.findings if f.rule_id == "dast.debug-page"]
    assert len(debug) == 1 and debug[0].metadata["framework"] == "Starlette"
    assert debug[0].location.url.endswith("/crash")
