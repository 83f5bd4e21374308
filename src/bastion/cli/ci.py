"""``bastion ci``: pipeline helpers. ``ci render`` turns one scan's JSON report into every
format a pipeline wants; ``ci stages`` lists the stages ``bastion scan --stage`` knows."""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_FINDINGS, command, write_text
from bastion.errors import UsageError

__all__ = ["RenderTarget", "register"]

RENDER_HELP = """Render a Bastion JSON report (bastion scan --format json -o bastion.json) in more
formats without scanning again: --to FORMAT=FILE, repeatable.

Formats: table, json, sarif, gitlab, junit, markdown, html, and GitLab's separate report types
gitlab-secret-detection, gitlab-dependency-scanning, gitlab-sast (code and IaC).

With --with OTHER.json (repeatable), the findings of other Bastion JSON reports (another scan, or
another tool's report converted by bastion import -f json) join the first report's, under its gate;
a finding several tools report at one place is reported once, listing every tool.

Exit code 0, or with --gate 1 when the gate failed (so a later job can gate on it).

Example: bastion ci render bastion.json --to sarif=bastion.sarif --to markdown=summary.md
Example: bastion ci render bastion.json --to gitlab-secret-detection=gl-secret-detection-report.json
Example: bastion ci render bastion.json --with trivy.bastion.json --to sarif=all.sarif --gate
"""


class RenderTarget(enum.Enum):
    """A format ``bastion ci render`` writes."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    GITLAB = "gitlab"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    HTML = "html"
    GITLAB_SECRET_DETECTION = "gitlab-secret-detection"  # bastion: ignore[sast.bandit.B105] a format name
    GITLAB_DEPENDENCY_SCANNING = "gitlab-dependency-scanning"
    GITLAB_SAST = "gitlab-sast"


def register(app: typer.Typer) -> None:
    """Add ``bastion ci`` to ``app``."""
    group = typer.Typer(
        help="Pipeline helpers: render one scan in many formats, list stages.\n\n"
        "Example: bastion ci render bastion.json --to sarif=bastion.sarif",
        no_args_is_help=True,
    )
    group.command("render", help=RENDER_HELP)(command(render))
    group.command("stages", help="List the stages bastion scan --stage knows.\n\nExample: bastion ci stages")(
        command(stages)
    )
    app.add_typer(group, name="ci")


def _parse_target(text: str) -> tuple[RenderTarget, Path]:
    name, sep, file = text.partition("=")
    choices = ", ".join(t.value for t in RenderTarget)
    if not sep or not file:
        raise UsageError(f"--to {text!r}: write FORMAT=FILE (formats: {choices})")
    try:
        return RenderTarget(name.strip().lower()), Path(file)
    except ValueError:
        raise UsageError(f"--to {text!r}: unknown format {name!r} (choose from {choices})") from None


def render_target(result: object, target: RenderTarget) -> str:
    """``result`` (a :class:`~bastion.gate.GateResult`) in ``target``'s format."""
    from bastion.ci.gitlab_reports import GitLabReport, render_report
    from bastion.gate import GateResult
    from bastion.report import ReportFormat, html, markdown
    from bastion.report import render as render_format

    if not isinstance(result, GateResult):
        raise TypeError("render_target needs a GateResult")
    match target:
        case RenderTarget.MARKDOWN:
            return markdown.render(result)
        case RenderTarget.HTML:
            return html.render(result)
        case RenderTarget.GITLAB_SECRET_DETECTION:
            return render_report(result, GitLabReport.SECRET_DETECTION)
        case RenderTarget.GITLAB_DEPENDENCY_SCANNING:
            return render_report(result, GitLabReport.DEPENDENCY_SCANNING)
        case RenderTarget.GITLAB_SAST:
            return render_report(result, GitLabReport.SAST)
        case _:
            return render_format(result, ReportFormat(target.value))


def render(
    report: Path = typer.Argument(..., help="A Bastion JSON report."),
    to: list[str] = typer.Option(..., "--to", help="FORMAT=FILE to write; repeatable."),
    gate: bool = typer.Option(False, "--gate", help="Exit 1 when the scan's gate failed."),
    others: list[Path] | None = typer.Option(
        None, "--with", help="Another Bastion JSON report whose findings join this one's; repeatable."
    ),
) -> int:
    """Render a saved report in more formats."""
    from bastion.ci.reload import combine, load_report

    targets = [_parse_target(item) for item in to]
    result = load_report(report)
    if others:
        result = combine(result, [load_report(path) for path in others])
    for target, path in targets:
        write_text(render_target(result, target), path, f"{target.value} report")
    return EXIT_FINDINGS if gate and result.failed else EXIT_CLEAN


def stages() -> int:
    """Print the built-in stages."""
    from bastion.ci import builtin_stages

    for name, spec in builtin_stages().items():
        scanners = ",".join(spec.scanners or ["all"])
        typer.echo(f"{name:<8} scanners={scanners} fail_on={spec.fail_on or 'high'}  {spec.description}")
    return EXIT_CLEAN
