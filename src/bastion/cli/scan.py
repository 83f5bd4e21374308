"""``bastion scan`` and ``bastion scanners``: parse flags, call the runner, print the report."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.ci.checks import CheckSelection, resolve_selection
from bastion.cli.output import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    ScanProgress,
    command,
    configure_logging,
    error_console,
    write_report,
)
from bastion.config import TRUST_FLAG, find_config_file, load_config, load_repo_config
from bastion.errors import InputError
from bastion.gate import GateResult, write_baseline
from bastion.report import ReportFormat
from bastion.results import Notice, NoticeKind
from bastion.rules import RuleInfo
from bastion.runner import ProgressHooks, scan_project
from bastion.scan.registry import Registry, RegistryError, load_scanner

if TYPE_CHECKING:
    from bastion.ci.stages import Stage

__all__ = ["register"]

log = logging.getLogger(__name__)

SCAN_HELP = "\n\n".join(
    (
        "Scan PATH (default: the current directory) with the installed scanners.",
        "Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage or input "
        "error. Every flag but --check, --skip-check, --severity and --no-color (this run's view) has a "
        "twin key in the \\[scan] table of bastion.toml or \\[tool.bastion.scan] in pyproject.toml.",
        "A config found in PATH belongs to the scanned code: its settings that could relax the gate "
        "(fail_on above high, ignore, exclude, scanners, min_confidence, disabled rules) or choose where "
        "Bastion writes (output, baseline) are not applied, and a notice says which, unless you pass "
        "--trust-repo-config or name the file with --config.",
        "With --strict, anything not checked fails the run (exit 1): a skipped scanner, package, file or "
        "ecosystem without advisory data, a file over --max-file-size or unreadable.",
        'Deps: a vulnerability no advisory rates takes its severity from its CWE, else it is "unrated" '
        'and counted as high, so the default gate fails on it (unrated = "medium" in \\[scanners.deps] '
        "of your own config lowers it).",
        "Example: bastion scan . --scanners sast --format sarif -o bastion.sarif --fail-on medium\n"
        "Example: bastion scan --sbom bom.json --fail-on kev --strict",
    )
)


def register(app: typer.Typer) -> None:
    """Add the scan commands to ``app``."""
    app.command("scan", help=SCAN_HELP, no_args_is_help=False)(command(scan))
    app.command("scanners", help="List the installed scanners.\n\nExample: bastion scanners")(
        command(scanners)
    )


def scan(
    path: Path = typer.Argument(Path("."), help="Directory or file to scan."),
    scanners: str | None = typer.Option(
        None, "--scanners", "--scanner", "-s", help="Comma-separated scanner names (default: all installed)."
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="Report format: table, json, sarif, gitlab, junit, markdown, html."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to FILE."),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        help="Lowest severity that fails the run: info..critical, or none. \\[default: high]",
    ),
    baseline: Path | None = typer.Option(None, "--baseline", help="Report only findings not in FILE."),
    write_baseline_to: Path | None = typer.Option(
        None, "--write-baseline", help="Accept the current findings: write them to FILE and exit 0."
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Config file (default: bastion.toml or pyproject.toml in PATH)."
    ),
    trust_repo_config: bool = typer.Option(
        False,
        TRUST_FLAG,
        help="Apply every setting of the config found in PATH (by default the scanned code's own "
        "config cannot relax the gate or choose output paths).",
    ),
    exclude: list[str] | None = typer.Option(
        None, "--exclude", "-x", help="gitignore-style pattern to leave out; repeatable."
    ),
    max_file_size: str | None = typer.Option(
        None, "--max-file-size", help="Skip larger files, e.g. 5MB. \\[default: 5MB]"
    ),
    gitignore: bool | None = typer.Option(
        None, "--gitignore/--no-gitignore", help="Honour .gitignore files. \\[default: yes]"
    ),
    min_confidence: str | None = typer.Option(
        None, "--min-confidence", help="Drop findings below this confidence: low, medium, high."
    ),
    concurrency: str | None = typer.Option(
        None, "--concurrency", help="Run scanners in threads or processes."
    ),
    jobs: int | None = typer.Option(None, "--jobs", "-j", help="Workers (default: one per CPU)."),
    rules: list[Path] | None = typer.Option(
        None,
        "--rules",
        help="Secrets: a directory of extra rule files; repeatable. \\[scanners.secrets] rules",
    ),
    policies: list[Path] | None = typer.Option(
        None,
        "--policies",
        help="IaC: a directory of extra policy files; repeatable. \\[scanners.iac] policies",
    ),
    verify: bool = typer.Option(
        False,
        "--verify",
        help="Secrets: ask each provider whether a found secret is live (read-only identity calls).",
    ),
    git_history: bool | None = typer.Option(
        None, "--git-history", help="Secrets: scan every commit reachable from every ref."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Secrets: scan only commits after REV (implies history)."
    ),
    staged: bool | None = typer.Option(
        None, "--staged", help="Secrets: scan what is staged (pre-commit hook)."
    ),
    sbom: Path | None = typer.Option(
        None, "--sbom", help="Deps: scan this CycloneDX or SPDX JSON SBOM instead of a tree."
    ),
    env: str | None = typer.Option(
        None, "--env", help="Deps: also check the distributions installed for this Python interpreter."
    ),
    strict: bool | None = typer.Option(
        None, "--strict", help="Fail (exit 1) when anything was skipped, e.g. a package not checked."
    ),
    upload: str | None = typer.Option(
        None, "--upload", help="Also post the results (Bastion JSON) to the Bastion server at URL."
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="BASTION_TOKEN", help="Project API token for --upload. \\[env: BASTION_TOKEN]"
    ),
    check: list[str] | None = typer.Option(
        None,
        "--check",
        help="Report only these checks: rule ids, globs (iac.aws.*) or other tools' ids (CKV_AWS_20, "
        "B602, gitleaks' aws-access-token); repeatable or comma-separated.",
    ),
    skip_check: list[str] | None = typer.Option(
        None, "--skip-check", help="Leave these checks out (ids and globs as for --check); repeatable."
    ),
    severity: str | None = typer.Option(
        None,
        "--severity",
        help="Report only these severities: high,critical or medium+ (--fail-on gates what is reported).",
    ),
    stage: str | None = typer.Option(
        None,
        "--stage",
        help="Apply a pipeline stage: \\[stages.NAME] of the config, or commit, build, deploy.",
    ),
    no_color: bool = typer.Option(
        False, "--no-color", help="No colours in the table (also: NO_COLOR set, or output not a terminal)."
    ),
    quiet: bool | None = typer.Option(None, "--quiet", "-q", help="Print nothing but the report."),
    verbose: bool | None = typer.Option(None, "--verbose", "-v", help="Debug logs on stderr."),
) -> int:
    """Scan a directory and gate on the findings."""
    overrides: dict[str, Any] = {
        "scanners": _split(scanners),
        "format": fmt,
        "output": _absolute(output),
        "fail_on": fail_on,
        "baseline": _absolute(baseline),
        "write_baseline": _absolute(write_baseline_to),
        "exclude": exclude or None,
        "max_file_size": max_file_size,
        "gitignore": gitignore,
        "min_confidence": min_confidence,
        "concurrency": concurrency,
        "jobs": jobs,
        "git_history": git_history,
        "since": since,
        "staged": staged,
        "strict": strict,
        "quiet": quiet,
        "verbose": verbose,
    }
    if sbom is not None:
        if not sbom.is_file():
            raise InputError(f"{sbom}: SBOM file not found")
        path, overrides["scanners"] = sbom, overrides["scanners"] or ["deps"]
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    config_path = config or find_config_file(path)
    not_applied: list[str] = []
    stage_def = _stage(stage, config_path, config is not None or trust_repo_config, path)
    if stage_def is not None:
        overrides = stage_def.under(overrides)  # flags win, the stage fills the rest
        policies = [*(policies or []), *stage_def.policies]
        not_applied.extend(stage_def.not_applied)
    if config is not None or config_path is None or trust_repo_config:
        settings = load_config(config_path, overrides)
    else:
        settings, dropped = load_repo_config(config_path, overrides, verify=verify)
        not_applied.extend(dropped)
    cfg = settings.scan
    configure_logging(cfg.verbose)
    log.debug("config: %s", config_path or "defaults")
    show_progress = not cfg.quiet and sys.stderr.isatty()
    registry = Registry.from_entry_points()
    selection = _selection(registry, check or [], skip_check or [], severity)
    options = _deps_options(_scanner_options(settings.scanners, rules, verify, policies), sbom, env)
    with ScanProgress(show_progress) as progress:
        result = scan_project(
            path,
            cfg,
            registry,
            scanner_options=options,
            hooks=ProgressHooks(walked=progress.walked, unit_done=progress.unit_done),
            selection=selection,
        )
    if stage_def is not None and stage_def.inputs:
        from bastion.ci.deploy import scan_stage_inputs

        result = scan_stage_inputs(result, stage_def, cfg, registry, options, selection)
    if stage_def is not None:
        result.scan.stage = stage_def.name  # reports file each stage apart (SARIF's category)
    if not_applied and config_path is not None:
        notice = untrusted_notice(config_path, not_applied)
        result.scan.notices.insert(0, notice)
        if not cfg.quiet and cfg.format is not ReportFormat.TABLE:
            error_console().print(notice.describe())
    if cfg.write_baseline is not None:
        count = write_baseline(cfg.write_baseline, [*result.findings, *result.baselined])
        if not cfg.quiet:
            error_console().print(f"wrote baseline with {count} findings to {cfg.write_baseline}")
        return EXIT_CLEAN
    _emit(result, cfg.format, cfg.output, cfg.quiet, no_color)
    if upload:
        _upload(result, upload, token or "", cfg.quiet)
    if result.scan.failures:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.failed else EXIT_CLEAN


def _selection(
    registry: Registry, checks: list[str], skips: list[str], severity: str | None
) -> CheckSelection | None:
    """``--check``/``--skip-check``/``--severity`` resolved against every installed scanner's rules
    (read only when a check is named); None without the flags."""
    if not checks and not skips and severity is None:
        return None
    rules: list[RuleInfo] = []
    if checks or skips:
        from bastion.gate import GATE_RULES
        from bastion.scan.registry import rule_catalog

        rules = [*rule_catalog(registry).rules, *GATE_RULES]
    return resolve_selection(checks, skips, severity, rules)


def _stage(name: str | None, config_path: Path | None, trusted: bool, path: Path) -> Stage | None:
    """The stage ``--stage NAME`` applies (bastion.ci.stages), or None without the flag."""
    if name is None:
        return None
    from bastion.ci import stage_for_scan

    return stage_for_scan(name, config_path, trusted=trusted or config_path is None, target=path)


def untrusted_notice(path: Path, keys: list[str]) -> Notice:
    """The notice that a scanned repository's config settings were left out, and how to apply them."""
    return Notice(
        NoticeKind.SCANNER,
        f"settings from the scanned directory's config not applied: {', '.join(keys)} "
        f"(pass {TRUST_FLAG} or --config {path} to apply them)",
        path=str(path),
    )


def _upload(result: GateResult, url: str, token: str, quiet: bool) -> None:
    from bastion.report import json_report
    from bastion.server.client import detect_place, upload_document

    data = json_report.render(result).encode("utf-8")
    place = detect_place(Path(result.scan.root))
    summary = upload_document(url, token, data, str(result.scan.root), place=place)
    if not quiet:
        error_console().print(
            f"uploaded to {url}: scan {summary['scan']}, {summary['new']} new, {summary['fixed']} fixed"
        )


def _emit(result: GateResult, fmt: ReportFormat, output: Path | None, quiet: bool, no_color: bool) -> None:
    write_report(result, fmt, output, no_color)
    if not quiet and (output is not None or fmt is not ReportFormat.TABLE):
        _advisory_warning(result)  # the table on stdout carries it itself
    if quiet or fmt is ReportFormat.TABLE:
        return
    from bastion.report.table import summary_line  # Rich: only for a run that prints

    errors = error_console()
    # Machine formats keep stdout clean; skips and failures still reach a person on stderr.
    for skip in result.scan.skips:
        errors.print(skip.describe())
    for failure in result.scan.failures:
        errors.print(failure.describe())
    if output is not None:
        errors.print(f"{summary_line(result)} · report written to {output}")


NO_DATABASE = "no advisory database"


def _advisory_warning(result: GateResult) -> None:
    """One loud line on stderr when dependencies went unchecked for want of an advisory database,
    however many manifests the scan found: a pipeline must not read "0 findings" as "no known
    vulnerabilities"."""
    if not any(s.reason.startswith(NO_DATABASE) for s in result.scan.skips):
        return
    advice = "" if result.strict else "; add --strict to fail the run when anything is not checked"
    error_console().print(
        "WARNING: no advisory database: dependencies were NOT checked for known vulnerabilities "
        f"(deps: unknown). Run `bastion db update` (offline: `bastion db import PATH`){advice}."
    )


def scanners() -> int:
    """List the installed scanners with their descriptions."""
    registry = Registry.from_entry_points()
    status = EXIT_CLEAN
    for name in registry.names:
        try:
            description = load_scanner(registry.get(name).reference).description
        except RegistryError as exc:
            description, status = f"unavailable: {exc}", EXIT_ERROR
        typer.echo(f"{name:<12} {description}")
    return status


def _scanner_options(
    configured: dict[str, dict[str, Any]],
    rules: list[Path] | None,
    verify: bool,
    policies: list[Path] | None = None,
) -> dict[str, dict[str, Any]]:
    """The ``[scanners.NAME]`` tables with the scanner-specific flags added on top."""
    options = {name: dict(table) for name, table in configured.items()}
    if verify:
        options.setdefault("secrets", {})["verify"] = True
    for scanner, key, paths in (("secrets", "rules", rules), ("iac", "policies", policies)):
        if paths:
            table = options.setdefault(scanner, {})
            table[key] = [*table.get(key, []), *(str(path.absolute()) for path in paths)]
    return options


def _deps_options(
    options: dict[str, dict[str, Any]], sbom: Path | None, env: str | None
) -> dict[str, dict[str, Any]]:
    """``--sbom`` and ``--env`` become ``[scanners.deps]`` options."""
    if sbom is not None:
        options.setdefault("deps", {})["sbom"] = str(sbom.absolute())
    if env is not None:
        options.setdefault("deps", {})["python_env"] = env
    return options


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _absolute(path: Path | None) -> Path | None:
    return path.absolute() if path is not None else None
