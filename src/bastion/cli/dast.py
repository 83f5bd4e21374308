"""``bastion dast URL``: baseline scan of a running web application, gated like ``bastion scan``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.output import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    command,
    configure_logging,
    error_console,
    write_report,
    write_text,
)
from bastion.errors import UsageError
from bastion.findings import Severity
from bastion.gate import GatePolicy, GateResult, evaluate, load_baseline, write_baseline
from bastion.report import ReportFormat
from bastion.report.table import summary_line

if TYPE_CHECKING:
    from bastion.scan.dast.zap import ZapOptions

__all__ = ["register"]

log = logging.getLogger(__name__)

DAST_HELP = """Scan a running web application at URL: crawl it (links, forms, robots.txt, sitemap.xml,
scripts) within its origin and --scope, apply the passive rules to every response, and with
--active send safe probes (XSS, SQL injection, open redirect, path traversal, sensitive paths,
TRACE). With --zap, drive a running OWASP ZAP daemon instead and import its alerts.

Exit codes: 0 no finding at or above --fail-on (or no FAIL rule hit), 1 findings that fail the gate,
2 usage or input error (bad URL, TLS failure, unreachable target).

Example: bastion dast https://staging.example.com --active --format sarif -o dast.sarif --fail-on medium
"""


def register(app: typer.Typer) -> None:
    """Add ``bastion dast`` to ``app``."""
    app.command("dast", help=DAST_HELP, no_args_is_help=True)(command(dast))


def dast(
    url: str = typer.Argument(..., help="Target URL, e.g. https://staging.example.com/"),
    active: bool = typer.Option(False, "--active", help="Also run the active checks (safe probes)."),
    allow_unsafe: bool = typer.Option(
        False, "--allow-unsafe", help="With --active: also submit POST forms and try PUT (may store data)."
    ),
    auth_header: list[str] | None = typer.Option(
        None, "--auth-header", help="Header sent with every request, 'Name: value'; repeatable."
    ),
    cookie: list[str] | None = typer.Option(None, "--cookie", help="Cookie 'name=value'; repeatable."),
    max_requests: int = typer.Option(500, "--max-requests", min=1, help="Most requests the scan sends."),
    rate: str = typer.Option(
        "20", "--rate", help="Most requests per second, e.g. 20 or 20/s; 0 for no limit."
    ),
    scope: str | None = typer.Option(None, "--scope", help="Regex every requested URL must match."),
    rules: Path | None = typer.Option(
        None, "--rules", help="Rule levels: Bastion or ZAP baseline format (id<TAB>IGNORE|WARN|FAIL)."
    ),
    depth: int = typer.Option(5, "--depth", min=0, help="Most links followed from the target."),
    time_limit: float = typer.Option(300.0, "--time-limit", min=1, help="Seconds the whole scan may take."),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="Seconds one request may take."),
    max_response_size: str = typer.Option("2MB", "--max-response-size", help="Bytes read from a response."),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="Requests in flight at once."),
    insecure: bool = typer.Option(False, "--insecure", help="Do not verify TLS certificates."),
    advisory_db: Path | None = typer.Option(
        None, "--advisory-db", help="Advisory database for JavaScript libraries (default: Bastion's)."
    ),
    zap: str | None = typer.Option(None, "--zap", help="Drive the ZAP daemon at this URL instead."),
    zap_key: str | None = typer.Option(
        None, "--zap-key", envvar="BASTION_ZAP_KEY", help="ZAP API key (or BASTION_ZAP_KEY)."
    ),
    fmt: str = typer.Option(
        "table", "--format", "-f", help="Report format: table, json, sarif, gitlab, junit."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to FILE."),
    fail_on: str = typer.Option(
        "high", "--fail-on", help="Lowest severity that fails: info..critical, or none."
    ),
    baseline: Path | None = typer.Option(None, "--baseline", help="Report only findings not in FILE."),
    write_baseline_to: Path | None = typer.Option(
        None, "--write-baseline", help="Accept the current findings: write them to FILE and exit 0."
    ),
    write_rules: Path | None = typer.Option(
        None, "--write-rules", help="After the scan, write a rules file with every rule's level to FILE."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but the report."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs on stderr."),
) -> int:
    """Scan a running web application and gate on the findings."""
    from bastion.scan.dast.http import FetcherOptions, check_target
    from bastion.scan.dast.levels import RuleLevels, load_levels, render_levels
    from bastion.scan.dast.options import parse_cookies, parse_headers, parse_rate, parse_size
    from bastion.scan.dast.scanner import DastOptions, DastScanner

    configure_logging(verbose)
    report_format = ReportFormat.parse(fmt)
    threshold = _threshold(fail_on)
    levels = load_levels(rules) if rules else RuleLevels()
    known_baseline = load_baseline(baseline) if baseline else None
    target = check_target(url)
    if allow_unsafe and not active:
        raise UsageError("--allow-unsafe only makes sense with --active")
    errors = error_console()
    scanner = DastScanner()
    if zap:
        scan = scanner.run_zap(target, _zap_options(zap, zap_key, active, time_limit), levels)
    else:
        fetcher = FetcherOptions(
            max_requests=max_requests,
            rate=parse_rate(rate),
            concurrency=concurrency,
            timeout_s=timeout,
            max_response_bytes=parse_size(max_response_size),
            time_limit_s=time_limit,
            insecure=insecure,
            headers=parse_headers(auth_header or []),
            cookies=parse_cookies(cookie or []),
        )
        options = DastOptions(target, fetcher, scope, depth, active, allow_unsafe, advisory_db)
        scan, stats = scanner.run(options, levels)
        if not quiet:
            errors.print(
                f"dast: {stats.pages} responses, {stats.requests} requests in {stats.duration_s:.1f}s "
                f"({stats.requests_per_second:.0f} req/s)"
            )
    policy = GatePolicy(threshold=threshold, levels=levels.levels)
    result = evaluate(scan, policy, known_baseline, read_text=lambda _: None)
    if write_rules is not None:
        write_text(render_levels(levels, threshold), write_rules, "rules file")
    if write_baseline_to is not None:
        count = write_baseline(write_baseline_to, [*result.findings, *result.baselined])
        if not quiet:
            errors.print(f"wrote baseline with {count} findings to {write_baseline_to}")
        return EXIT_CLEAN
    if not quiet and report_format is not ReportFormat.TABLE:  # the table lists notices itself
        for notice in scan.notices:
            errors.print(f"note: {notice.message}")
    _emit(result, report_format, output, quiet)
    return EXIT_FINDINGS if result.failed else EXIT_CLEAN


def _zap_options(zap: str, key: str | None, active: bool, time_limit: float) -> ZapOptions:
    from bastion.scan.dast.http import check_target
    from bastion.scan.dast.zap import ZapOptions

    if not key:
        raise UsageError("--zap needs --zap-key KEY (or BASTION_ZAP_KEY): ZAP's API refuses calls without it")
    return ZapOptions(check_target(zap), key, active, time_limit)


def _emit(result: GateResult, fmt: ReportFormat, output: Path | None, quiet: bool) -> None:
    write_report(result, fmt, output)
    if output is not None and not quiet:
        error_console().print(f"{summary_line(result)} · report written to {output}")


def _threshold(text: str) -> Severity | None:
    if text.strip().lower() == "none":
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
