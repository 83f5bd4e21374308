"""``bastion catalog``: pre-approved templates with a lifecycle, and the repositories using them."""

from __future__ import annotations

import enum
import getpass
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.catalog.artefacts import ARTEFACTS_ENV
from bastion.cli.output import EXIT_CLEAN, EXIT_FINDINGS, command, error_console
from bastion.errors import UsageError

if TYPE_CHECKING:
    from bastion.catalog.backend import CatalogBackend, CatalogReader
    from bastion.catalog.model import VersionRecord
    from bastion.catalog.notify import Notifier
    from bastion.catalog.remote import RemoteCatalog
    from bastion.report import ReportFormat

__all__ = ["register"]

CATALOG_ENV = "BASTION_CATALOG"

catalog_app = typer.Typer(
    help="A catalog of pre-approved, compliant templates: gated publish, approval, deprecation, "
    "retirement, scheduled re-checks, and the repositories that use them.\n\n"
    "Example: bastion catalog publish modules/vpc --product aws-vpc --version 2.1.0 --catalog ./catalog",
    no_args_is_help=True,
)
product_app = typer.Typer(
    help="Products of the catalog.\n\nExample: bastion catalog product add vpc.yml", no_args_is_help=True
)


class Format(enum.StrEnum):
    """Output formats of the listing commands."""

    TABLE = "table"
    JSON = "json"


CATALOG = typer.Option(
    None, "--catalog", "-c", help=f"Catalog directory (default: ${CATALOG_ENV} or ./catalog)."
)
ACTOR = typer.Option(
    None, "--as", help="Who acts (default: $BASTION_USER or the login name); kept in the audit log."
)
FORMAT = typer.Option(Format.TABLE, "--format", help="table or json.")
NOTIFY = typer.Option(False, "--notify", help="POST the event to the owner's and consumers' webhooks.")
SMTP = typer.Option(
    None, "--smtp", help="Also e-mail the owner and consumers through this SMTP server (HOST:PORT)."
)
POLICIES = typer.Option(
    None, "--policies", help="A directory of extra IaC policies every version must also pass."
)
SERVER = typer.Option(None, "--server", help="Use the catalog of this Bastion server instead of a directory.")
TOKEN = typer.Option(None, "--token", help="API token for --server (default: BASTION_TOKEN).")
ARTEFACTS = typer.Option(
    None,
    "--artefacts",
    help=f"Where artefacts live: a directory or s3://BUCKET/PREFIX?endpoint=URL (default: ${ARTEFACTS_ENV} "
    "or CATALOG/artefacts).",
)


def register(app: typer.Typer) -> None:
    """Add the ``catalog`` command group to ``app``."""
    for name, func, text in (
        ("publish", publish, "Check a template (iac, secrets, deps, the product's policies) and publish it "
         "as a new version; a failing template is refused with the reasons (exit 1).\n\n"
         "Example: bastion catalog publish modules/vpc --product aws-vpc --version 2.1.0"),
        ("approve", approve, "Approve a draft version, as someone other than its publisher.\n\n"
         "Example: bastion catalog approve aws-vpc 2.1.0 --as alice"),
        ("deprecate", deprecate, "Deprecate an approved version: end-of-support date, successor.\n\n"
         "Example: bastion catalog deprecate aws-vpc 1.4.0 --until 2027-03-31 --successor 2.1.0 --notify"),
        ("retire", retire, "Retire a deprecated version.\n\nExample: bastion catalog retire aws-vpc 1.4.0"),
        ("recheck", recheck, "Re-run the gate on every approved and deprecated version, today's policies; "
         "versions that now fail become non-compliant and their users are told (exit 1 if any).\n\n"
         "With --every the command keeps running and re-checks on that schedule (owners and consumers "
         "are told when a version changes, not every round); cron or a systemd timer can run the "
         "single re-check instead.\n\n"
         "Example: bastion catalog recheck --notify --smtp 127.0.0.1:25\n"
         "Example: bastion catalog recheck --every 24h --notify\n"
         "Example: bastion catalog recheck --every 24h --server https://bastion.example.com (the server "
         "tells owners and consumers; a project token in BASTION_TOKEN is enough)"),
        ("list", list_versions, "List products and versions.\n\nExample: bastion catalog list --format json"),
        ("audit", audit, "Show the catalog's audit log.\n\nExample: bastion catalog audit"),
        ("scan", scan, "Find which catalog products and versions a repository uses; deprecated, retired, "
         "non-compliant and unpinned uses and hand-written resources a product covers are findings.\n\n"
         "Example: bastion catalog scan ./infra --catalog ./catalog --fail-on medium\n"
         "Example: bastion catalog scan https://git.example.com/team/infra.git --catalog ./catalog"),
    ):  # fmt: skip
        catalog_app.command(name, help=text)(command(func))
    product_app.command(
        "add", help="Add a product from its product.yml.\n\nExample: bastion catalog product add vpc.yml"
    )(command(add_product))
    catalog_app.add_typer(product_app, name="product")
    app.add_typer(catalog_app, name="catalog")


def _backend(path: Path | None, artefacts: str | None = None) -> CatalogBackend:
    from bastion.catalog.artefacts import open_artefacts
    from bastion.catalog.local import LocalCatalog

    root = path or Path(os.environ.get(CATALOG_ENV, "catalog"))
    location = artefacts or os.environ.get(ARTEFACTS_ENV, "")
    return LocalCatalog(root, open_artefacts(location, root / "artefacts"))


def _remote(server: str | None, token: str | None) -> RemoteCatalog | None:
    """The server's catalog with ``--server``, else None (the directory is used)."""
    from bastion.catalog.remote import RemoteCatalog

    if server is None:
        return None
    return RemoteCatalog(server, token or os.environ.get("BASTION_TOKEN", ""))


def _actor(name: str | None) -> str:
    actor = (name or os.environ.get("BASTION_USER") or getpass.getuser()).strip()
    if not actor:
        raise UsageError("--as: who acts must be named")
    return actor


def _notifiers(notify: bool, smtp: str | None) -> list[Notifier]:
    from bastion.catalog.notify import SmtpNotifier, WebhookNotifier

    notifiers: list[Notifier] = []
    if notify:
        notifiers.append(WebhookNotifier())
    if smtp:
        host, _, port = smtp.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--smtp {smtp!r}: expected HOST:PORT")
        notifiers.append(SmtpNotifier(host, int(port)))
    return notifiers


def _gate_options(backend: CatalogBackend, policies: Path | None) -> Any:
    from bastion.catalog.gate import GateOptions

    if policies is not None and not policies.is_dir():
        raise UsageError(f"--policies {policies}: not a directory")
    return GateOptions(fail_on=backend.settings().fail_on, extra_iac_policies=(policies,) if policies else ())


def _warn(lines: list[str]) -> None:
    for line in lines:
        error_console().print(f"warning: notice not delivered: {line}")


def add_product(
    spec_file: Path = typer.Argument(
        ..., help="product.yml: name, kind, owner, source, covers, constraints."
    ),
    catalog: Path | None = CATALOG,
    actor: str | None = ACTOR,
    server: str | None = SERVER,
    token: str | None = TOKEN,
) -> int:
    """Add a product."""
    from bastion.catalog.model import parse_product
    from bastion.structured import read_yaml_mapping

    spec = parse_product(read_yaml_mapping(spec_file, what="product"), str(spec_file))
    remote = _remote(server, token)
    if remote is not None:
        remote.add_product(spec)
    else:
        _backend(catalog).add_product(spec, _actor(actor))
    typer.echo(f"added product {spec.name} ({spec.kind.value}, owner {spec.owner})")
    return EXIT_CLEAN


def publish(
    template: Path = typer.Argument(..., help="The template directory."),
    product: str = typer.Option(..., "--product", "-p", help="Product name."),
    version: str = typer.Option(..., "--version", "-v", help="Semantic version, e.g. 2.1.0."),
    catalog: Path | None = CATALOG,
    actor: str | None = ACTOR,
    policies: Path | None = POLICIES,
    server: str | None = SERVER,
    token: str | None = TOKEN,
    artefacts: str | None = ARTEFACTS,
) -> int:
    """Gate and publish one version."""
    from bastion.catalog.lifecycle import publish as do_publish
    from bastion.catalog.remote import RemoteRefusal

    remote = _remote(server, token)
    record: VersionRecord | None = None
    reasons: list[str] = []
    notes: list[str] = []
    if remote is not None:
        try:
            record = remote.publish_template(template, product, version)
        except RemoteRefusal as exc:
            reasons = exc.reasons
    else:
        backend = _backend(catalog, artefacts)
        result = do_publish(
            backend, template, product, version, _actor(actor), _gate_options(backend, policies)
        )
        record, reasons = result.record, [*result.report.reasons, *result.report.skipped]
        notes = list(result.report.deploy_time)
    if record is None:
        error_console().print(f"refused: {product} {version} fails the catalog gate:")
        for reason in reasons:
            error_console().print(f"  - {reason}")
        return EXIT_FINDINGS
    typer.echo(f"published {record.product} {record.version} ({record.state.value}) {record.digest}")
    for note in notes:  # decided by the consumer's inputs, which the product's constraints bound
        error_console().print(f"note: {note}")
    return EXIT_CLEAN


def approve(
    product: str = typer.Argument(...),
    version: str = typer.Argument(...),
    catalog: Path | None = CATALOG,
    actor: str | None = ACTOR,
    server: str | None = SERVER,
    token: str | None = TOKEN,
) -> int:
    """Approve a draft."""
    from bastion.catalog.lifecycle import approve as do_approve

    remote = _remote(server, token)
    if remote is not None:
        record = remote.transition(product, version, "approve")
    else:
        record = do_approve(_backend(catalog), product, version, _actor(actor))
    typer.echo(f"approved {record.product} {record.version} by {record.approved_by}")
    return EXIT_CLEAN


def deprecate(
    product: str = typer.Argument(...),
    version: str = typer.Argument(...),
    until: str = typer.Option(..., "--until", help="End of support, YYYY-MM-DD."),
    successor: str = typer.Option(..., "--successor", help="The version to move to."),
    catalog: Path | None = CATALOG,
    actor: str | None = ACTOR,
    notify: bool = NOTIFY,
    smtp: str | None = SMTP,
    server: str | None = SERVER,
    token: str | None = TOKEN,
) -> int:
    """Deprecate a version."""
    from bastion.catalog.lifecycle import deprecate as do_deprecate

    try:
        day = date.fromisoformat(until)
    except ValueError:
        raise UsageError(f"--until {until!r}: expected a date YYYY-MM-DD") from None
    remote = _remote(server, token)
    if remote is not None:
        record = remote.transition(
            product, version, "deprecate", {"until": day.isoformat(), "successor": successor}
        )
    else:
        notifiers = _notifiers(notify, smtp)
        record, failures = do_deprecate(
            _backend(catalog), product, version, _actor(actor), day, successor, notifiers
        )
        _warn(failures)
    typer.echo(
        f"deprecated {record.product} {record.version} until {day.isoformat()}, successor {record.successor}"
    )
    return EXIT_CLEAN


def retire(
    product: str = typer.Argument(...),
    version: str = typer.Argument(...),
    catalog: Path | None = CATALOG,
    actor: str | None = ACTOR,
    notify: bool = NOTIFY,
    smtp: str | None = SMTP,
    server: str | None = SERVER,
    token: str | None = TOKEN,
) -> int:
    """Retire a version."""
    from bastion.catalog.lifecycle import retire as do_retire

    remote = _remote(server, token)
    if remote is not None:
        record = remote.transition(product, version, "retire")
    else:
        record, failures = do_retire(
            _backend(catalog), product, version, _actor(actor), _notifiers(notify, smtp)
        )
        _warn(failures)
    typer.echo(f"retired {record.product} {record.version}")
    return EXIT_CLEAN


def recheck(
    catalog: Path | None = CATALOG,
    actor: str | None = ACTOR,
    policies: Path | None = POLICIES,
    notify: bool = NOTIFY,
    smtp: str | None = SMTP,
    server: str | None = SERVER,
    token: str | None = TOKEN,
    artefacts: str | None = ARTEFACTS,
    every: str | None = typer.Option(
        None,
        "--every",
        help="Keep running: re-check again after this long (24h, 30m, 7d), until stopped or --rounds.",
    ),
    rounds: int | None = typer.Option(
        None, "--rounds", min=1, help="With --every: stop after this many re-checks (default: never)."
    ),
) -> int:
    """Re-check every approved and deprecated version, once or on a schedule."""
    if rounds is not None and every is None:
        raise UsageError("--rounds: only with --every")
    if every is None:
        return _recheck_once(catalog, actor, policies, notify, smtp, server, token, artefacts)
    from bastion.jobs.org import parse_every

    interval = parse_every(every)
    done, worst = 0, EXIT_CLEAN
    try:
        while True:
            code = _recheck_once(catalog, actor, policies, notify, smtp, server, token, artefacts)
            worst, done = max(worst, code), done + 1
            if rounds is not None and done >= rounds:
                return worst
            typer.echo(f"next re-check in {every.strip()}")
            time.sleep(interval)
    except KeyboardInterrupt:
        return worst


def _recheck_once(
    catalog: Path | None,
    actor: str | None,
    policies: Path | None,
    notify: bool,
    smtp: str | None,
    server: str | None,
    token: str | None,
    artefacts: str | None,
) -> int:
    """One re-check: a line per version, EXIT_FINDINGS when any is non-compliant."""
    from bastion.catalog.lifecycle import recheck as do_recheck

    remote = _remote(server, token)
    rows: list[tuple[str, str, str, bool, bool, list[str], list[str]]] = []
    if remote is not None:
        rows.extend(
            (i["product"], i["version"], i["state"], i["compliant"], i["changed"], i["reasons"], [])
            for i in remote.recheck()
        )
    else:
        backend = _backend(catalog, artefacts)
        results = do_recheck(
            backend, _actor(actor), _gate_options(backend, policies), _notifiers(notify, smtp)
        )
        for result in results:
            record = result.record
            rows.append(
                (record.product, record.version, record.state.value, record.compliant, result.changed,
                 list(record.noncompliant_reasons), list(result.failures))
            )  # fmt: skip
    for product, version, state, compliant, changed, reasons, failures in rows:
        status = "compliant" if compliant else "NON-COMPLIANT"
        typer.echo(f"{product} {version} {state}: {status}{' (changed)' if changed else ''}")
        for reason in reasons:
            typer.echo(f"  - {reason}")
        _warn(failures)
    return EXIT_FINDINGS if any(not row[3] for row in rows) else EXIT_CLEAN


def list_versions(
    catalog: Path | None = CATALOG,
    fmt: Format = FORMAT,
    server: str | None = SERVER,
    token: str | None = TOKEN,
) -> int:
    """List products and versions."""
    from bastion.catalog.semver import parse_semver

    backend: CatalogReader = _remote(server, token) or _backend(catalog)
    products = []
    for spec in backend.products():
        versions = sorted(backend.versions(spec.name), key=lambda r: parse_semver(r.version))
        products.append((spec, versions))
    if fmt is Format.JSON:
        document = {
            "version": 1,
            "products": [
                {
                    **spec.model_dump(mode="json", exclude_none=True),
                    "versions": [r.to_dict() for r in versions],
                }
                for spec, versions in products
            ],
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return EXIT_CLEAN
    for spec, versions in products:
        typer.echo(f"{spec.name} ({spec.kind.value}) owner {spec.owner} source {spec.source}")
        for record in versions:
            extra = f" until {record.deprecated_on} -> {record.successor}" if record.successor else ""
            flag = "" if record.compliant else " NON-COMPLIANT"
            typer.echo(f"  {record.version:<12} {record.state.value:<10}{flag}{extra}")
    return EXIT_CLEAN


def audit(
    catalog: Path | None = CATALOG,
    fmt: Format = FORMAT,
    server: str | None = SERVER,
    token: str | None = TOKEN,
) -> int:
    """Print the audit log."""
    remote = _remote(server, token)
    entries = remote.audit() if remote is not None else _backend(catalog).audit()
    if fmt is Format.JSON:
        sys.stdout.write(json.dumps([e.to_dict() for e in entries], indent=2) + "\n")
        return EXIT_CLEAN
    for entry in entries:
        version = f" {entry.version}" if entry.version else ""
        line = f"{entry.at.isoformat()} {entry.actor} {entry.action} {entry.product}{version} {entry.detail}"
        typer.echo(line.strip())
    return EXIT_CLEAN


def scan(
    target: str = typer.Argument(
        ...,
        metavar="PATH|REPO",
        help="A directory, or a git repository URL (https://, ssh://, git@host:path, file://) "
        "fetched shallow into a temporary directory and removed after.",
    ),
    catalog: Path | None = CATALOG,
    fmt: str = typer.Option(
        "table", "--format", "-f", help="table, json, sarif, gitlab, junit, markdown, html."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report here."),
    fail_on: str = typer.Option("medium", "--fail-on", help="Lowest severity that fails the run, or none."),
    server: str | None = SERVER,
    token: str | None = TOKEN,
) -> int:
    """Scan a consumer repository."""
    from bastion.report import ReportFormat

    report_format = ReportFormat.parse(fmt)
    local = Path(target)
    if local.exists():
        return _scan_tree(local, catalog, report_format, output, fail_on, server, token)
    from bastion.jobs.fetch import FetchLimits, display_url, fetch
    from bastion.jobs.org import check_url

    check_url(target)  # a URL carrying a token would end up in messages; the worker's rule holds here
    with tempfile.TemporaryDirectory(prefix="bastion-catalog-") as cache:
        fetched = fetch(target, Path(cache), FetchLimits())
        for note in fetched.notes:
            error_console().print(f"{display_url(target)}: {note}")
        return _scan_tree(fetched.path, catalog, report_format, output, fail_on, server, token)


def _scan_tree(
    path: Path,
    catalog: Path | None,
    report_format: ReportFormat,
    output: Path | None,
    fail_on: str,
    server: str | None,
    token: str | None,
) -> int:
    from bastion.catalog.consumers import CatalogIndex, scan_consumer
    from bastion.cli.output import write_report
    from bastion.findings import Severity
    from bastion.gate import GatePolicy, evaluate
    from bastion.results import ScanResult, Skip

    try:
        threshold = None if fail_on.strip().lower() == "none" else Severity.parse(fail_on)
    except ValueError:
        raise UsageError(f"--fail-on {fail_on!r}: expected a severity or none") from None
    started = time.monotonic()
    index = CatalogIndex.build(_remote(server, token) or _backend(catalog))
    report = scan_consumer(path, index, date.today())
    root = path if path.is_dir() else path.parent
    skips = [Skip("catalog", line) for line in report.skipped]
    result = ScanResult(
        root=root,
        scanners=["catalog"],
        findings=report.findings,
        skips=skips,
        files_scanned=report.files,
        duration_s=time.monotonic() - started,
    )
    gated = evaluate(result, GatePolicy(threshold=threshold))
    write_report(gated, report_format, output)
    return EXIT_FINDINGS if gated.blocking else EXIT_CLEAN
