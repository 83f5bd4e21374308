"""Issue 13's repros against a live ``bastion serve``: items 1, 2, 3, 7, 8, 9, 11, 16."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from cases_scan import TOKEN, advisory_db
from harness import Row, Server, Workspace, peak_rss_mb, sign_in

AWS = "AKIA" + "Q4ZJ7XW2N5RB3YTC"  # generated, grants nothing


def _fixed(run_text: str) -> str:
    return next((x.strip() for x in run_text.splitlines() if "fixed" in x), "-")


def item1(ws: Workspace, server: Server) -> list[Row]:
    """A scan that could not check, or checked elsewhere, fixes nothing."""
    database = advisory_db(ws)
    ws.write("i1/repo/.git/HEAD", "ref: refs/heads/main\n")
    ws.write("i1/repo/requirements.txt", "django==1.11.0\nflask==0.12\nrequests==2.19.0\n")
    ws.write("i1/repo/api/main.tf", 'resource "aws_s3_bucket" "b" {\n  acl = "public-read"\n}\n')
    ws.write("i1/repo/web/main.tf", 'resource "aws_s3_bucket" "b" {\n  acl = "public-read"\n}\n')
    up = ["--upload", server.url, "--fail-on", "none", "-f", "json"]
    env = {"BASTION_TOKEN": server.token, "BASTION_ADVISORY_DB": str(database)}
    first = ws.bastion("scan", "i1/repo", "-s", "deps,iac", *up, env=env)
    before = len(server.open_findings())
    rows = [
        Row(
            "1",
            "bastion scan i1/repo -s deps,iac --upload (with advisory DB)",
            "findings stored",
            f"exit {first.code}; {before} open",
            before >= 20,
        )
    ]
    corrupt = ws.write("i1/corrupt.db", b"garbage" * 200)
    cases = [
        (
            "no advisory database",
            ["i1/repo", "-s", "deps"],
            {"BASTION_ADVISORY_DB": str(ws.path("i1", "none.db"))},
        ),
        ("corrupt advisory database", ["i1/repo", "-s", "deps"], {"BASTION_ADVISORY_DB": str(corrupt)}),
    ]
    for label, args, extra in cases:
        run = ws.bastion("scan", *args, *up, env={**env, **extra})
        after = len(server.open_findings())
        rows.append(
            Row(
                "1",
                f"bastion scan {' '.join(args)} --upload ({label})",
                "0 fixed, all stay open",
                f"{_fixed(run.text)}; open {before} -> {after}",
                after == before and "0 fixed" in run.text,
            )
        )
    for part in ("api", "web"):
        ws.write(f"i1/repo/{part}/main.tf", "# fixed\n")
    sub = ws.bastion("scan", "i1/repo/api", "-s", "iac", *up, env=env)
    after = len(server.open_findings())
    rows.append(
        Row(
            "1",
            "bastion scan i1/repo/api -s iac --upload (subdirectory; api/ and web/ now clean)",
            "0 fixed outside the scan's own identities",
            f"{_fixed(sub.text)}; open {before} -> {after}",
            after == before,
        )
    )
    excl = ws.bastion("scan", "i1/repo", "-s", "iac", "--exclude", "web/", *up, env=env)
    web_open = [f for f in server.open_findings() if str(f["location"]["path"]).startswith("web/")]  # type: ignore[index]
    api_open = [f for f in server.open_findings() if str(f["location"]["path"]).startswith("api/")]  # type: ignore[index]
    rows.append(
        Row(
            "1",
            "bastion scan i1/repo -s iac --exclude web/ --upload",
            "api/ fixed, web/ (excluded) stays open",
            f"{_fixed(excl.text)}; open in api/ {len(api_open)}, in web/ {len(web_open)}",
            not api_open and bool(web_open),
        )
    )
    return rows


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f'<html><body><a href="/p?api_key={TOKEN}">p</a><a href="/q#{TOKEN}">q</a></body></html>'
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        """Quiet."""


def item2(ws: Workspace, _server: Server) -> list[Row]:
    """Secrets in DAST URLs are redacted in every format."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    leaks = []
    for fmt in ("table", "json", "sarif", "gitlab", "junit"):
        out = ws.path("i2", f"dast.{fmt}")
        run = ws.bastion("dast", url, "-f", fmt, "-o", str(out), "--max-requests", "20", "--fail-on", "none")
        if TOKEN in run.text or (out.exists() and TOKEN in out.read_text()):
            leaks.append(fmt)
    httpd.shutdown()
    return [
        Row(
            "2",
            "bastion dast http://127.0.0.1:P/ -f {table,json,sarif,gitlab,junit} (links with ?api_key=ghp_…)",
            "no full token in any format",
            f"full token in: {leaks or 'none'}",
            not leaks,
        )
    ]


def _sarif(driver: str) -> dict[str, Any]:
    return {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {"name": driver, "rules": [{"id": "r1", "helpUri": f"https://x/?t={TOKEN}"}]}
                },
                "results": [
                    {
                        "ruleId": f"r1-{TOKEN}",
                        "message": {"text": f"found {AWS}"},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": f"src/{TOKEN}.py"}}}],
                        "properties": {"evidence": AWS, "controls": [f"c:{TOKEN}"], "metadata": {"k": TOKEN}},
                    }
                ],
            }
        ],
    }


def item3(_ws: Workspace, server: Server) -> list[Row]:
    """No uploaded text is stored or shown with a secret, whatever the uploader claims."""
    bastion_json = {
        "schema_version": 1,
        "tool": {"name": "bastion", "version": "1"},
        "scanners": ["secrets"],
        "findings": [
            {
                "rule_id": "secrets.aws",
                "scanner": "secrets",
                "title": "t",
                "severity": "high",
                "location": {"path": "a.py"},
                "message": "m",
                "fingerprint": "f1",
                "evidence": f"key = {AWS}",
            }
        ],
        "skipped": [],
        "failures": [],
        "notices": [],
    }
    rows = []
    for label, document in (
        ("foreign SARIF", _sarif("leaky")),
        ("SARIF driver bastion", _sarif("bastion")),
        ("Bastion JSON with raw key in evidence", bastion_json),
    ):
        response = server.api("POST", "/api/v1/projects/other/scans", token=server.other_token, json=document)
        listing = server.api("GET", "/api/v1/projects/other/findings", token=server.other_token).text
        leaked = TOKEN in listing or AWS in listing
        rows.append(
            Row(
                "3",
                f"POST /api/v1/projects/other/scans ({label}); GET findings",
                "stored and shown redacted",
                f"upload {response.status_code}; full secret in API: {leaked}",
                response.status_code == 201 and not leaked,
            )
        )
    stored = Path(server.database.removeprefix("sqlite:///")).read_bytes()
    found = TOKEN.encode() in stored or AWS.encode() in stored
    rows.append(Row("3", "grep the SQLite file for the secrets", "absent", f"present: {found}", not found))
    return rows


def item7(_ws: Workspace, server: Server) -> list[Row]:
    """An upload-only token reads no page."""
    codes = {
        p: server.api("GET", p, token=server.upload_only, follow_redirects=False).status_code
        for p in ("/findings", "/", "/scans", "/api/v1/projects/demo/findings")
    }
    return [
        Row(
            "7",
            "GET /findings, /, /scans, API findings with an upload-only token",
            "all refused (401/403)",
            ", ".join(f"{p} {c}" for p, c in codes.items()),
            all(c in (401, 403) for c in codes.values()),
        )
    ]


def _big_sarif(count: int) -> bytes:
    head = b'{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"bulk"}},"results":['
    item = b'{"ruleId":"r%d","message":{"text":"m"},"locations":'
    item += b'[{"physicalLocation":{"artifactLocation":{"uri":"f%d.py"}}}]}'
    return head + b",".join(item % (i, i) for i in range(count)) + b"]}]}"


def item8(_ws: Workspace, server: Server) -> list[Row]:
    """Large uploads: bounded lock time, a triage elsewhere answers, the cap refuses early."""
    body = _big_sarif(100_000)
    server.api("POST", "/api/v1/projects/other/scans", token=server.other_token, content=_big_sarif(3))
    finding = server.api("GET", "/api/v1/projects/other/findings", token=server.other_token).json()["items"][
        0
    ]["id"]
    results: dict[str, Any] = {}

    def upload() -> None:
        started = time.perf_counter()
        response = server.api("POST", "/api/v1/scans", content=body)
        results["upload"] = (response.status_code, time.perf_counter() - started)

    browser, _ = sign_in(server, "maya")
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', browser.get("/").text)
    csrf = {"X-CSRF-Token": found.group(1) if found else ""}
    worker = threading.Thread(target=upload)
    worker.start()
    time.sleep(1.0)
    slowest, codes = 0.0, []
    while worker.is_alive():
        started = time.perf_counter()
        code = browser.post(
            f"/api/v1/findings/{finding}/triage", headers=csrf, json={"status": "confirmed"}
        ).status_code
        slowest, codes = max(slowest, time.perf_counter() - started), [*codes, code]
        time.sleep(0.5)
    worker.join()
    status, seconds = results["upload"]
    rows = [
        Row(
            "8",
            f"POST 100,000-result SARIF ({len(body) / 1e6:.1f} MB) while triaging another project",
            "upload 201; every triage answers (no 500), quickly",
            f"upload {status} in {seconds:.1f} s; {len(codes)} triages, codes {sorted(set(codes))}, "
            f"slowest {slowest:.2f} s",
            status == 201 and codes and set(codes) <= {200} and slowest < 5,
        )
    ]
    for count, expected in ((1_000_000, 413), (300_000, 422)):  # 1M: refused on Content-Length
        huge = _big_sarif(count)
        started = time.perf_counter()
        response = server.api("POST", "/api/v1/scans", content=huge)
        detail = str(response.json().get("detail", ""))[:80]
        rows.append(
            Row(
                "8",
                f"POST {count:,}-result SARIF ({len(huge) / 1e6:.0f} MB; body limit 64 MB, cap 200,000)",
                f"{expected} with one line; server memory bounded",
                f"{response.status_code} in {time.perf_counter() - started:.1f} s: {detail}; "
                f"server peak RSS so far {peak_rss_mb(server.process.pid):.0f} MB",
                response.status_code == expected and peak_rss_mb(server.process.pid) < 1000,
            )
        )
    return rows


def item9(_ws: Workspace, server: Server) -> list[Row]:
    """30 concurrent wrong passwords: at most the limit verified; lock-out per account+address."""

    def wrong(_: int) -> int:
        return sign_in(server, "vic", "wrong password!")[1]

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(wrong, range(30)))
    verified = codes.count(303)
    locked = sign_in(server, "vic")[1]
    other = sign_in(server, "maya")[1]
    return [
        Row(
            "9",
            "30 concurrent POST /login as vic with a wrong password (limit 5)",
            "at most 5 verified, rest 429",
            f"{verified} verified (303), {codes.count(429)} refused (429)",
            verified <= 5 and codes.count(429) >= 25,
        ),
        Row(
            "9",
            "then vic's right password; maya's right password from the same address",
            "vic refused (429), maya signs in (303)",
            f"vic {locked}, maya {other}",
            locked == 429 and other == 303,
        ),
    ]


def item11(_ws: Workspace, server: Server) -> list[Row]:
    """Malformed uploads get 422 with one line."""
    bodies = {
        "100k-deep JSON": b"[" * 100_000 + b"]" * 100_000,
        "string physicalLocation": json.dumps(
            {
                "version": "2.1.0",
                "runs": [
                    {
                        "tool": {"driver": {"name": "x"}},
                        "results": [{"ruleId": "r", "locations": [{"physicalLocation": "a"}]}],
                    }
                ],
            }
        ).encode(),
        "list fingerprints": json.dumps(
            {
                "version": "2.1.0",
                "runs": [
                    {"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "r", "fingerprints": [1]}]}
                ],
            }
        ).encode(),
        "object ruleId": json.dumps(
            {
                "version": "2.1.0",
                "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": {"a": 1}}]}],
            }
        ).encode(),
        "lone surrogate": b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": '
        b'[{"ruleId": "r", "message": {"text": "\\ud800"}}]}]}',
    }
    rows = []
    for label, body in bodies.items():
        response = server.api("POST", "/api/v1/scans", content=body)
        detail = response.json().get("detail", "")
        rows.append(
            Row(
                "11",
                f"POST /api/v1/scans ({label})",
                "422, one line",
                f"{response.status_code}: {str(detail)[:80]}",
                response.status_code == 422 and "\n" not in str(detail),
            )
        )
    return rows


def item16(_ws: Workspace, server: Server) -> list[Row]:
    """The sign-in page echoes no text; an anonymous 60 MB multipart is refused unread."""
    page = httpx.get(server.url + "/login", params={"error": "Your account is locked, call +1-555-0100"}).text
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n'
        + b"x" * 60_000_000
        + b"\r\n--b--\r\n"
    )
    started = time.perf_counter()
    try:
        code = httpx.post(
            server.url + "/projects/demo/upload",
            content=body,
            timeout=120,
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        ).status_code
    except httpx.HTTPError as exc:
        code = f"connection closed ({type(exc).__name__})"  # type: ignore[assignment]
    seconds = time.perf_counter() - started
    return [
        Row(
            "16",
            "GET /login?error=<spoofed text>",
            "text not shown",
            f"shown: {'call +1-555-0100' in page}",
            "call +1-555-0100" not in page,
        ),
        Row(
            "16",
            "anonymous POST of a 60 MB multipart body",
            "401 before the body is parsed",
            f"{code} in {seconds:.2f} s",
            code in (401, 403),
        ),
    ]
