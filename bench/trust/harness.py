"""Harness of the issue-13 re-run: a workspace, the real ``bastion`` CLI, a live server.

Everything runs as an outside tester would: the installed ``bastion`` command in a
subprocess (argument lists, never a shell) and HTTP against ``bastion serve`` on 127.0.0.1.
Only the server's first user, project and token are made with the library (the dashboard
would do it by hand).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BASTION = str(Path(sys.executable).with_name("bastion"))
PASSWORD = "correct horse battery staple"  # bastion: ignore[sast.bandit.B105] throwaway test server


@dataclass
class Row:
    """One line of RESULTS.md."""

    item: str
    command: str
    expected: str
    observed: str
    holds: bool


@dataclass
class Run:
    """A finished command."""

    code: int
    out: str
    err: str
    seconds: float

    @property
    def text(self) -> str:
        """stdout and stderr together."""
        return self.out + self.err


@dataclass
class Workspace:
    """Temporary directories and the environment every command runs with."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def path(self, *parts: str) -> Path:
        """A path under the workspace (parents created)."""
        target = self.root.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, relative: str, text: str | bytes) -> Path:
        """Write a file under the workspace."""
        target = self.path(relative)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)
        return target

    def bastion(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
        """Run ``bastion ARGS`` in the workspace."""
        started = time.perf_counter()
        merged = {**os.environ, **self.env, **(env or {})}
        done = subprocess.run(
            [BASTION, *args], cwd=self.root, env=merged, capture_output=True, text=True, timeout=timeout
        )
        return Run(done.returncode, done.stdout, done.stderr, time.perf_counter() - started)


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """``bastion serve`` in a subprocess over its own SQLite file."""

    url: str
    process: subprocess.Popen[bytes]
    token: str
    other_token: str
    upload_only: str
    database: str

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        self.process.wait(20)

    def api(self, method: str, path: str, token: str | None = None, **kwargs: object) -> httpx.Response:
        """One API request with a bearer token (the project token by default)."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        headers.update(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        return httpx.request(method, self.url + path, headers=headers, timeout=600, **kwargs)  # type: ignore[arg-type]

    def open_findings(self) -> list[dict[str, object]]:
        """The demo project's open findings."""
        listing = self.api(
            "GET", "/api/v1/projects/demo/findings", params={"status": ["open"], "per_page": 200}
        )
        return list(listing.json()["items"])


def start_server(ws: Workspace, name: str = "server", env: dict[str, str] | None = None) -> Server:
    """Create the store, users maya/vic, projects demo/other and tokens; serve on a free port."""
    from bastion.store.accounts import create_project, create_token, create_user, set_role
    from bastion.store.db import Store

    database = f"sqlite:///{ws.path(name, 'bastion.db')}"
    store = Store.open(database)
    store.migrate()
    with store.write() as session:
        create_user(session, "root", PASSWORD, admin=True)
        maya = create_user(session, "maya", PASSWORD)
        create_user(session, "vic", PASSWORD)
        demo = create_project(session, "demo", "Demo", "root")
        other = create_project(session, "other", "Other", "root")
        set_role(session, maya, demo, "maintainer", "root")
        set_role(session, maya, other, "maintainer", "root")
        token = create_token(session, demo, "ci", "root").secret
        other_token = create_token(session, other, "ci", "root").secret
        upload_only = create_token(session, demo, "up", "root", ("scan:upload",)).secret
    store.close()
    port = free_port()
    merged = {**os.environ, **ws.env, **(env or {}), "BASTION_DATABASE_URL": database}
    process = subprocess.Popen(
        [BASTION, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ws.root,
        env=merged,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return Server(url, process, token, other_token, upload_only, database)


def sign_in(server: Server, username: str, password: str = PASSWORD) -> tuple[httpx.Client, int]:
    """A browser-like client that posted the sign-in form once; returns it and the status."""
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=60)
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    data = {"username": username, "password": password, "csrf_token": csrf.group(1) if csrf else ""}
    return client, client.post("/login", data=data).status_code


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
