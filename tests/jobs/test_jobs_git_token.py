"""Private repositories over HTTPS: the host's token reaches git as a header for that host only,
and never a URL, a message or the clone's config. Tested with the real git against git's own
smart-HTTP server (``git http-backend``) on 127.0.0.1 that asks for Basic authentication."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from jobs_world import make_repo

from bastion.jobs.fetch import FetchError, FetchLimits, display_url, fetch, token_config

TOKEN = "glpat-Zq8sW3nE5rT7yU9iO1pA"
GIT_CORE = Path(
    subprocess.run(["git", "--exec-path"], capture_output=True, text=True, check=True).stdout.strip()
)


@dataclass
class GitServer:
    """Smart HTTP over ``git http-backend`` for the repositories under ``root``; every request
    without the expected ``Authorization`` header gets a 401."""

    root: Path
    expected: str
    url: str = ""
    seen: list[str] = field(default_factory=list)


def _handler(server: GitServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            """Quiet: the test reads what it needs from ``server.seen``."""

        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            self._serve(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

        def _serve(self, body: bytes) -> None:
            auth = self.headers.get("Authorization", "")
            server.seen.append(auth)
            if auth != server.expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            env = {
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "PATH": os.environ["PATH"],
            }
            done = subprocess.run(
                [str(GIT_CORE / "git-http-backend")], input=body, env=env, capture_output=True, check=False
            )
            head, _, payload = done.stdout.partition(b"\r\n\r\n")
            status = 200
            headers: list[tuple[str, str]] = []
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(": ")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitServer]:
    root = tmp_path / "served"
    make_repo(root / "private", files=2)
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    server = GitServer(root, f"Basic {basic}")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/private"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()


def test_a_private_repository_clones_with_the_hosts_token(
    git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_GIT_TOKEN_127_0_0_1", TOKEN)
    fetched = fetch(git_server.url, tmp_path / "cache", FetchLimits(timeout_s=60))
    assert sorted(p.name for p in fetched.path.glob("*.py")) == ["f0.py", "f1.py"]
    assert git_server.seen and all(seen == git_server.expected for seen in git_server.seen)
    config = (fetched.path / ".git" / "config").read_text(encoding="utf-8")
    assert TOKEN not in config and "extraHeader" not in config
    again = fetch(git_server.url, tmp_path / "cache", FetchLimits(timeout_s=60))  # fetch into the cache
    assert again.path == fetched.path


def test_another_hosts_token_is_not_sent(
    git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_GIT_TOKEN_LOCALHOST", TOKEN)
    with pytest.raises(FetchError) as raised:
        fetch(git_server.url, tmp_path / "cache", FetchLimits(timeout_s=60))
    assert git_server.seen and set(git_server.seen) == {""}
    assert TOKEN not in str(raised.value)


def test_a_wrong_token_fails_without_showing_it(
    git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_GIT_TOKEN_127_0_0_1", "wrong-" + TOKEN)
    with pytest.raises(FetchError) as raised:
        fetch(git_server.url, tmp_path / "cache", FetchLimits(timeout_s=60))
    assert "git failed" in str(raised.value) and TOKEN not in str(raised.value)
    assert raised.value.transient


def test_credentials_in_a_url_never_reach_a_message(tmp_path: Path) -> None:
    url = f"https://deploy:{TOKEN}@127.0.0.1:9/org/repo.git"
    with pytest.raises(FetchError) as raised:
        fetch(url, tmp_path / "cache", FetchLimits(timeout_s=30))
    assert TOKEN not in str(raised.value) and str(raised.value).startswith(
        "https://***@127.0.0.1:9/org/repo.git:"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://{TOKEN}@git.example.com/a.git", "https://***@git.example.com/a.git"),
        ("ssh://git@git.example.com/a.git", "ssh://git@git.example.com/a.git"),
        ("ssh://bob:pw@git.example.com/a.git", "ssh://***@git.example.com/a.git"),
        ("git@github.com:team/a.git", "git@github.com:team/a.git"),
        ("/srv/repos/a", "/srv/repos/a"),
    ],
)
def test_display_url(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_token_config_only_for_http_urls_of_the_named_host() -> None:
    env = {"BASTION_GIT_TOKEN_GIT_EXAMPLE_COM": TOKEN}
    config = token_config("https://git.example.com:8443/team/a.git", env)
    assert config["GIT_CONFIG_KEY_0"] == "http.https://git.example.com:8443/.extraHeader"
    assert config["GIT_CONFIG_VALUE_0"].startswith("Authorization: Basic ")
    assert token_config("ssh://git@git.example.com/team/a.git", env) == {}
    assert token_config("https://other.example.com/team/a.git", env) == {}
    assert token_config("https://git.example.com/team/a.git", {}) == {}
