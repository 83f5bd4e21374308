"""Bastion DAST vs Wapiti, side by side, on the seeded vulnerable app and its hardened twin.

Both apps (tests/fixtures/dast/dast_app.py, grown to ``--pages`` catalogue pages) run over
HTTPS on 127.0.0.1 behind a request counter, so requests are counted the same way for both
tools. Every tool run is a subprocess timed from start to exit. Seeds are matched to each
tool's own report (Bastion: rule id and URL; Wapiti: category, path and info text).

Usage: .venv/bin/python bench/dast/run_bench.py [--pages 200] [--wapiti bench/dast/.venv/bin/wapiti]
"""

from __future__ import annotations

import argparse
import json
import subprocess  # bastion: ignore[sast.bandit.B404] runs the two scanners being measured
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "dast"))
from dast_app import SEEDED, SEEDED_ACTIVE, SEEDED_UNSAFE, SEEDED_WITH_ADVISORIES, make_app
from dast_servers import serve

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

WORK = HERE / "work"
BASTION = ROOT / ".venv" / "bin" / "bastion"
WAPITI_PASSIVE = "cookieflags,csp,http_headers"
WAPITI_ACTIVE = WAPITI_PASSIVE + ",ssl,exec,file,permanentxss,redirect,sql,upload,xss,methods,backup"


class Counter:
    """ASGI middleware counting the requests an app receives."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)


Report = dict[str, Any]
Check = Callable[[Report], bool]


def bastion_has(rule: str, url_end: str = "", method: str = "") -> Check:
    def check(report: Report) -> bool:
        return any(
            f["rule_id"] == rule
            and f["location"].get("url", "").split("?")[0].endswith(url_end)
            and (not method or f["metadata"].get("method") == method)
            for f in report["findings"]
        )

    return check


def wapiti_has(category: str, path: str = "", info: str = "", section: str = "vulnerabilities") -> Check:
    def check(report: Report) -> bool:
        items = report.get(section, {}).get(category, [])
        return any((not path or i["path"] == path) and info in i["info"] for i in items)

    return check


def never(_: Report) -> bool:
    return False


@dataclass(frozen=True)
class Seed:
    name: str
    kind: str
    """passive, active or unsafe: the least a Bastion run needs to find it."""
    bastion: Check
    wapiti: Check


def seeds() -> list[Seed]:
    """Every seed of the fixture app with how each tool's report shows it."""
    b = bastion_has
    w = wapiti_has
    table = [
        (
            "csp-missing",
            b("dast.csp-missing"),
            w("Content Security Policy Configuration", info="CSP is not set"),
        ),
        (
            "csp-weak (/weak-csp)",
            b("dast.csp-weak", "/weak-csp"),
            w("Content Security Policy Configuration", "/weak-csp"),
        ),
        ("hsts-missing", b("dast.hsts-missing"), w("HTTP Strict Transport Security (HSTS)")),
        ("clickjacking", b("dast.clickjacking"), w("Clickjacking Protection")),
        ("x-content-type-options", b("dast.content-type-options"), w("MIME Type Confusion")),
        ("referrer-policy", b("dast.referrer-policy"), never),
        ("permissions-policy", b("dast.permissions-policy"), never),
        ("cookie without Secure (/login)", b("dast.cookie-no-secure"), w("Secure Flag cookie")),
        ("cookie without HttpOnly (/login)", b("dast.cookie-no-httponly"), w("HttpOnly Flag cookie")),
        ("cookie without SameSite (/login)", b("dast.cookie-no-samesite"), never),
        ("Server version", b("dast.server-version"), w("Fingerprint web server")),
        ("X-Powered-By", b("dast.x-powered-by"), w("Fingerprint web technology", section="additionals")),
        ("stack trace (/error)", b("dast.stack-trace", "/error"), never),
        ("Werkzeug debugger (/debug)", b("dast.debug-page", "/debug"), never),
        ("private IP (/hidden-report, via sitemap)", b("dast.private-ip", "/hidden-report"), never),
        ("secret in config.js", b("dast.secret-in-response", "/config.js"), never),
        ("mixed content (/mixed)", b("dast.mixed-content", "/mixed"), never),
        ("CORS reflection (/api/data, via script)", b("dast.cors-reflected-origin", "/api/data"), never),
        ("directory listing (/files/)", b("dast.directory-listing", "/files/"), never),
        ("cacheable authenticated page", b("dast.cache-control"), never),
        (
            "suspicious comment (/admin-panel, via robots)",
            b("dast.suspicious-comment", "/admin-panel"),
            never,
        ),
        (
            "vulnerable JS library (lodash 4.17.11)",
            b("dast.vulnerable-js-library", "/lodash.min.js"),
            w("Vulnerable software", info="lodash"),
        ),
        (
            "reflected XSS (/search?q)",
            b("dast.xss-reflected", "/search"),
            w("Reflected Cross Site Scripting", "/search"),
        ),
        (
            "SQLi error-based (/product?id)",
            b("dast.sql-injection", "/product"),
            w("SQL Injection", "/product"),
        ),
        ("SQLi boolean-based (/item?id)", b("dast.sql-injection", "/item"), w("SQL Injection", "/item")),
        ("open redirect (/go?url)", b("dast.open-redirect", "/go"), w("Open Redirect", "/go")),
        ("path traversal (/view?file)", b("dast.path-traversal", "/view"), w("Path Traversal", "/view")),
        ("/.git/HEAD", b("dast.sensitive-path", "/.git/HEAD"), w("Backup file", "/.git/HEAD")),
        ("/.env", b("dast.sensitive-path", "/.env"), w("Backup file", "/.env")),
        ("/server-status", b("dast.sensitive-path", "/server-status"), w("Backup file", "/server-status")),
        ("/actuator/env", b("dast.sensitive-path", "/actuator/env"), w("Backup file", "/actuator/env")),
        ("/backup.sql", b("dast.sensitive-path", "/backup.sql"), w("Backup file", "/backup.sql")),
        (
            "TRACE",
            b("dast.http-methods", method="TRACE"),
            w("HTTP Methods", info="TRACE", section="additionals"),
        ),
        (
            "PUT upload",
            b("dast.http-methods", method="PUT"),
            w("HTTP Methods", info="PUT", section="additionals"),
        ),
        (
            "reflected XSS in POST form (/feedback)",
            b("dast.xss-reflected", "/feedback"),
            w("Reflected Cross Site Scripting", "/feedback"),
        ),
    ]
    kinds = {
        **dict.fromkeys(SEEDED, "passive"),
        **dict.fromkeys(SEEDED_WITH_ADVISORIES, "passive"),
        **dict.fromkeys(SEEDED_ACTIVE, "active"),
        **dict.fromkeys(SEEDED_UNSAFE, "unsafe"),
    }
    if {name for name, *_ in table} != set(kinds):
        raise SystemExit("bench seeds are out of sync with tests/fixtures/dast/dast_app.py")
    return [Seed(name, kinds[name], bc, wc) for name, bc, wc in table]


@dataclass
class Run:
    tool: str
    mode: str
    target: str
    seconds: float
    requests: int
    report: Report
    exit_code: int


def run_tool(tool: str, mode: str, target: str, url: str, counter: Counter, wapiti: Path) -> Run:
    out = WORK / f"{tool}-{mode}-{target}.json"
    out.unlink(missing_ok=True)
    if tool == "bastion":
        cmd = [
            str(BASTION),
            "dast",
            url + "/",
            "--insecure",
            "--max-requests",
            "5000",
            "--rate",
            "0",
            "--advisory-db",
            str(WORK / "advisories.db"),
            "-f",
            "json",
            "-o",
            str(out),
            "--fail-on",
            "none",
            "-q",
        ]
        if mode != "passive":
            cmd.append("--active")
        if mode == "active+unsafe":
            cmd.append("--allow-unsafe")
    else:
        modules = WAPITI_PASSIVE if mode == "passive" else WAPITI_ACTIVE
        cmd = [
            str(wapiti),
            "-u",
            url + "/",
            "--scope",
            "folder",
            "-m",
            modules,
            "--flush-session",
            "--store-session",
            str(WORK / "wapiti-session"),
            "--store-config",
            str(WORK / "wapiti-config"),
            "--no-bugreport",
            "-f",
            "json",
            "-o",
            str(out),
            "--max-scan-time",
            "600",
        ]
    counter.count = 0
    started = time.perf_counter()
    # bastion: ignore[sast.bandit.B603] a fixed argv of the two tools under test, no shell
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    (WORK / f"{tool}-{mode}-{target}.log").write_text(proc.stdout + proc.stderr)
    report = json.loads(out.read_text()) if out.exists() else {}
    return Run(tool, mode, target, seconds, counter.count, report, proc.returncode)


def build_advisory_db(path: Path) -> None:
    """Bastion's advisory database holding the fixture's real lodash advisories (GHSA, CC-BY 4.0)."""
    from bastion.advisories.db import connect
    from bastion.advisories.importer import import_osv

    path.unlink(missing_ok=True)
    conn = connect(path, create=True)
    try:
        import_osv(conn, ROOT / "tests" / "fixtures" / "dast" / "advisories")
        conn.commit()
    finally:
        conn.close()


def count_findings(run: Run) -> str:
    if run.tool == "bastion":
        findings = run.report.get("findings", [])
        above_low = sum(1 for f in findings if f["severity"] in ("medium", "high", "critical"))
        return f"{len(findings)} ({above_low} above low)"
    vulns = sum(len(v) for v in run.report.get("vulnerabilities", {}).values())
    anomalies = sum(len(v) for v in run.report.get("anomalies", {}).values())
    additionals = sum(len(v) for v in run.report.get("additionals", {}).values())
    return f"{vulns} vulnerabilities, {anomalies} anomalies, {additionals} additionals"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--wapiti", type=Path, default=HERE / ".venv" / "bin" / "wapiti")
    parser.add_argument("--skip-wapiti", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    build_advisory_db(WORK / "advisories.db")
    vulnerable, hardened = (
        Counter(make_app(pages=args.pages)),
        Counter(make_app(hardened=True, pages=args.pages)),
    )
    modes = [("bastion", "passive"), ("bastion", "active"), ("bastion", "active+unsafe")]
    if not args.skip_wapiti:
        modes += [("wapiti", "passive"), ("wapiti", "active")]
    runs: list[Run] = []
    with serve(vulnerable, tls=True) as v_url, serve(hardened, tls=True) as h_url:
        for tool, mode in modes:
            for target, url, counter in (("vulnerable", v_url, vulnerable), ("hardened", h_url, hardened)):
                run = run_tool(tool, mode, target, url, counter, args.wapiti)
                print(
                    f"{tool} {mode} {target}: {run.seconds:.1f}s, {run.requests} requests, "
                    f"exit {run.exit_code}",
                    file=sys.stderr,
                )
                runs.append(run)
    print(render(runs, seeds(), args.pages))
    return 0


def render(runs: list[Run], seed_list: list[Seed], pages: int) -> str:
    vuln_runs = [r for r in runs if r.target == "vulnerable"]
    lines = [f"Fixture: {pages} catalogue pages + the seeded pages, HTTPS on 127.0.0.1.", ""]
    header = "| seeded vulnerability | kind | " + " | ".join(f"{r.tool} {r.mode}" for r in vuln_runs) + " |"
    lines += [header, "|" + "---|" * (2 + len(vuln_runs))]
    totals = dict.fromkeys(range(len(vuln_runs)), 0)
    for seed in seed_list:
        cells = []
        for index, run in enumerate(vuln_runs):
            found = (seed.bastion if run.tool == "bastion" else seed.wapiti)(run.report)
            totals[index] += found
            cells.append("found" if found else "missed")
        lines.append(f"| {seed.name} | {seed.kind} | " + " | ".join(cells) + " |")
    lines.append("| **found** | | " + " | ".join(f"**{totals[i]}/{len(seed_list)}**" for i in totals) + " |")
    lines += [
        "",
        "| tool | mode | target | wall time (s) | requests | requests/s | findings |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        rate = run.requests / run.seconds if run.seconds else 0.0
        lines.append(
            f"| {run.tool} | {run.mode} | {run.target} | {run.seconds:.1f} | {run.requests} | {rate:.0f} | "
            f"{count_findings(run)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
