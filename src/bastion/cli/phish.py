"""``bastion phish``: internal phishing exercises with honest results and no captured values."""

from __future__ import annotations

import enum
import getpass
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, command, error_console, write_text
from bastion.errors import UsageError

if TYPE_CHECKING:
    from bastion.phish.sender import SendReport, SmtpSettings
    from bastion.store.db import Store

__all__ = ["register"]

PASSWORD_ENV = "BASTION_SMTP_PASSWORD"  # bastion: ignore[sast.bandit.B105] the variable's name, not a secret
ALLOW_ENV = "BASTION_PHISH_ALLOW_DOMAINS"
RETENTION_ENV = "BASTION_PHISH_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 180
IMAP_PASSWORD_ENV = "BASTION_IMAP_PASSWORD"  # bastion: ignore[sast.bandit.B105] the variable's name

phish_app = typer.Typer(
    help="Internal phishing exercises: targets, campaigns, sending, tracking and reports.\n\n"
    "Example: bastion phish campaign status q1-invoice",
    no_args_is_help=True,
)
targets_app = typer.Typer(help="Targets of exercises.", no_args_is_help=True)
campaign_app = typer.Typer(help="Create, launch, follow, stop and report campaigns.", no_args_is_help=True)


class Format(enum.StrEnum):
    """Status output formats."""

    TABLE = "table"
    JSON = "json"


class ReportFormat(enum.StrEnum):
    """Report formats."""

    HTML = "html"
    JSON = "json"


DATABASE = typer.Option(
    None, "--database-url", help="Database URL (default: BASTION_DATABASE_URL or the SQLite file)."
)
CAMPAIGN = typer.Argument(..., help="Campaign name or id.")
SMTP_HOST = typer.Option("127.0.0.1", "--smtp-host", help="SMTP relay host.")
SMTP_PORT = typer.Option(25, "--smtp-port", min=1, max=65535, help="SMTP relay port.")
SMTP_USER = typer.Option("", "--smtp-user", help=f"SMTP user (the password comes from ${PASSWORD_ENV}).")
STARTTLS = typer.Option(False, "--starttls", help="Upgrade the connection with STARTTLS.")
SMTP_CA = typer.Option(None, "--smtp-ca", help="CA certificate file of the relay (a private CA).")
RATE = typer.Option(10.0, "--rate", min=0, help="Messages per second at most (0: no limit).")
ALLOW = typer.Option(
    None,
    "--allow-domain",
    help=f"Recipient domain that may be mailed (repeat; or ${ALLOW_ENV}).",
)


def register(app: typer.Typer) -> None:
    """Add the ``phish`` command group to ``app``."""
    targets_app.command(
        "import",
        help="Import targets from CSV (email,name,department,manager,location,timezone) or LDIF; "
        "each bad row is one error line, the rest are imported (exit 2 when a row was refused).\n\n"
        "Example: bastion phish targets import staff.csv --group staff --exclude vips.txt",
    )(command(targets_import))
    for name, func, text in (
        ("create", campaign_create, "Create a draft campaign for a target group.\n\n"
         "Example: bastion phish campaign create q1-invoice --group staff --email invoice.yml "
         "--landing login.yml --base-url https://phish.example.com"),
        ("launch", campaign_launch, "Launch a draft: schedule every message and send those due; "
         "--dry-run DIR renders every message to files and sends nothing.\n\n"
         "Example: bastion phish campaign launch q1-invoice --allow-domain example.com --smtp-host relay"),
        ("send", campaign_send, "Send the messages now due (run it from a timer during the window).\n\n"
         "Example: bastion phish campaign send q1-invoice --allow-domain example.com"),
        ("status", campaign_status, "Sends, human counts and automated requests of a campaign.\n\n"
         "Example: bastion phish campaign status q1-invoice --format json"),
        ("stop", campaign_stop, "Stop sending (tracking goes on).\n\n"
         "Example: bastion phish campaign stop q1-invoice"),
        ("report", campaign_report, "The anonymised report (or --named, security team) as HTML or JSON.\n\n"
         "Example: bastion phish campaign report q1-invoice -o q1.html"),
    ):  # fmt: skip
        campaign_app.command(name, help=text)(command(func))
    phish_app.add_typer(targets_app, name="targets")
    phish_app.add_typer(campaign_app, name="campaign")
    phish_app.command(
        "gophish",
        help="Convert a GoPhish templates or pages JSON export into Bastion template files.\n\n"
        "Example: bastion phish gophish templates.json -o phish-templates/",
    )(command(gophish))
    phish_app.command(
        "reports",
        help="Record the reports forwarded to the report mailbox (IMAP; unseen messages only).\n\n"
        "The password comes from BASTION_IMAP_PASSWORD. Run it from a timer.\n\n"
        "Example: bastion phish reports --imap-host mail.example.com --imap-user phish-reports",
    )(command(reports))
    phish_app.command(
        "purge",
        help="Remove people and events of campaigns stopped more than N days ago (anonymous totals stay); "
        "campaign send and reports apply the retention period on every run.\n\n"
        "Example: bastion phish purge --older-than 90",
    )(command(purge))
    app.add_typer(phish_app, name="phish")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _store(url: str | None) -> Store:
    from bastion.store.db import Store

    store = Store.open(url)
    store.migrate()
    return store


def targets_import(
    file: Path = typer.Argument(..., help="CSV or LDIF file."),
    group: str = typer.Option(..., "--group", help="Group the targets go to."),
    exclude: Path | None = typer.Option(None, "--exclude", help="Addresses or @domains to leave out."),
    database_url: str | None = DATABASE,
) -> int:
    """Import targets."""
    from bastion.phish.service import import_targets
    from bastion.phish.targets import read_exclusions, read_targets

    result = read_targets(file)
    exclusions = read_exclusions(exclude) if exclude is not None else set()
    console = error_console()
    for line in result.errors:
        console.print(f"error: {line}")
    store = _store(database_url)
    try:
        with store.write() as session:
            counts = import_targets(session, group, result, exclusions, _actor())
    finally:
        store.close()
    typer.echo(
        f"{file}: {counts.added} added, {counts.updated} updated, {counts.excluded} excluded, "
        f"{counts.errors} rows refused (group {group})"
    )
    return EXIT_ERROR if result.errors else EXIT_CLEAN


def campaign_create(
    name: str = typer.Argument(..., help="Campaign name."),
    group: str = typer.Option(..., "--group", help="Target group."),
    email: Path = typer.Option(..., "--email", help="Email template (YAML or JSON)."),
    landing: Path = typer.Option(..., "--landing", help="Landing page (YAML or JSON)."),
    base_url: str = typer.Option(..., "--base-url", help="Public URL of the tracking server."),
    window_minutes: int = typer.Option(0, "--window-minutes", min=0, help="Spread sending over N minutes."),
    database_url: str | None = DATABASE,
) -> int:
    """Create a draft campaign."""
    from bastion.phish.service import create_campaign
    from bastion.phish.templates import load_email, load_landing

    template, page = load_email(email), load_landing(landing)
    store = _store(database_url)
    try:
        with store.write() as session:
            campaign = create_campaign(
                session, name, group, template, page, base_url, _actor(), window_minutes=window_minutes
            )
            typer.echo(f"campaign {campaign.id} {name!r} created as a draft")
    finally:
        store.close()
    return EXIT_CLEAN


def _allow(domains: list[str] | None) -> set[str]:
    listed = list(domains or []) + os.environ.get(ALLOW_ENV, "").split(",")
    return {d.strip().lower().lstrip("@") for d in listed if d.strip()}


def _smtp(host: str, port: int, user: str, starttls: bool, rate: float, ca: Path | None) -> SmtpSettings:
    from bastion.phish.sender import SmtpSettings

    password = os.environ.get(PASSWORD_ENV, "")
    if user and not password:
        raise UsageError(f"--smtp-user needs the password in ${PASSWORD_ENV}")
    return SmtpSettings(
        host=host, port=port, username=user, password=password, starttls=starttls, rate_per_s=rate, ca_file=ca
    )


def _print_send(report: SendReport) -> int:
    console = error_console()
    for line in report.errors:
        console.print(f"warning: {line}")
    summary = ", ".join(f"{n} {state}" for state, n in sorted(report.outcomes.items())) or "nothing due"
    typer.echo(summary)
    troubled = any(report.outcomes[s] for s in ("failed", "uncertain", "pending", "blocked"))
    return EXIT_FINDINGS if troubled else EXIT_CLEAN


def campaign_launch(
    campaign: str = CAMPAIGN,
    dry_run: Path | None = typer.Option(None, "--dry-run", help="Render every message into this directory."),
    local_start: str | None = typer.Option(
        None, "--local-start", help="HH:MM: open the window at this time in each target's time zone."
    ),
    smtp_host: str = SMTP_HOST,
    smtp_port: int = SMTP_PORT,
    smtp_user: str = SMTP_USER,
    starttls: bool = STARTTLS,
    smtp_ca: Path | None = SMTP_CA,
    rate: float = RATE,
    allow_domain: list[str] | None = ALLOW,
    database_url: str | None = DATABASE,
) -> int:
    """Launch a campaign."""
    from bastion.phish.schedule import parse_local_start
    from bastion.phish.sender import dry_run as render_all
    from bastion.phish.sender import send_campaign
    from bastion.phish.service import find_campaign, launch

    start = parse_local_start(local_start)
    store = _store(database_url)
    try:
        with store.read() as session:
            campaign_id = find_campaign(session, campaign).id
        if dry_run is not None:
            report = render_all(store, campaign_id, dry_run)
            typer.echo(f"{len(report.written)} messages rendered into {dry_run}; nothing sent")
            return EXIT_CLEAN
        allowed = _allow(allow_domain)
        settings = _smtp(smtp_host, smtp_port, smtp_user, starttls, rate, smtp_ca)
        if not allowed:
            raise UsageError(f"no allow-listed recipient domain (--allow-domain example.com or ${ALLOW_ENV})")
        with store.write() as session:
            scheduled = launch(session, find_campaign(session, campaign), _actor(), start)
        typer.echo(f"{scheduled} messages scheduled")
        return _print_send(send_campaign(store, campaign_id, settings, allowed))
    finally:
        store.close()


def campaign_send(
    campaign: str = CAMPAIGN,
    resend_uncertain: bool = typer.Option(
        False, "--resend-uncertain", help="Also resend messages whose delivery is uncertain (may duplicate)."
    ),
    smtp_host: str = SMTP_HOST,
    smtp_port: int = SMTP_PORT,
    smtp_user: str = SMTP_USER,
    starttls: bool = STARTTLS,
    smtp_ca: Path | None = SMTP_CA,
    rate: float = RATE,
    allow_domain: list[str] | None = ALLOW,
    database_url: str | None = DATABASE,
) -> int:
    """Send what is due."""
    from bastion.phish.sender import send_campaign
    from bastion.phish.service import find_campaign

    settings = _smtp(smtp_host, smtp_port, smtp_user, starttls, rate, smtp_ca)
    store = _store(database_url)
    try:
        with store.read() as session:
            campaign_id = find_campaign(session, campaign).id
        report = send_campaign(
            store, campaign_id, settings, _allow(allow_domain), resend_uncertain=resend_uncertain
        )
        code = _print_send(report)
        _apply_retention(store)
        return code
    finally:
        store.close()


def campaign_status(
    campaign: str = CAMPAIGN,
    fmt: Format = typer.Option(Format.TABLE, "--format", help="table or json."),
    database_url: str | None = DATABASE,
) -> int:
    """Show a campaign's state."""
    from bastion.phish.report import report_data
    from bastion.phish.service import find_campaign

    store = _store(database_url)
    try:
        with store.read() as session:
            data = report_data(session, find_campaign(session, campaign), named=False)
    finally:
        store.close()
    if fmt is Format.JSON:
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return EXIT_CLEAN
    total = data["total"]
    typer.echo(f"{data['campaign']['name']}: {data['campaign']['status']}")
    typer.echo("sends: " + (", ".join(f"{n} {s}" for s, n in sorted(data["sends"].items())) or "none"))
    for key in ("delivered", "opened", "clicked", "submitted", "reported"):
        typer.echo(f"{key:>10}: {total[key]}")
    typer.echo(f"report rate: {total['report_rate']} %  ·  phish-prone: {total['phish_prone']} %")
    typer.echo(f"automated requests (excluded): {data['automated']['total']}")
    for reason, count in data["automated"]["reasons"].items():
        typer.echo(f"  {count:>5}  {reason}")
    return EXIT_CLEAN


def campaign_stop(campaign: str = CAMPAIGN, database_url: str | None = DATABASE) -> int:
    """Stop a campaign."""
    from bastion.phish.service import find_campaign, stop

    store = _store(database_url)
    try:
        with store.write() as session:
            cancelled = stop(session, find_campaign(session, campaign), _actor())
    finally:
        store.close()
    typer.echo(f"stopped; {cancelled} unsent messages cancelled")
    return EXIT_CLEAN


def campaign_report(
    campaign: str = CAMPAIGN,
    named: bool = typer.Option(False, "--named", help="Names and addresses: for the security team only."),
    fmt: ReportFormat = typer.Option(ReportFormat.HTML, "--format", help="html or json."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file (default: stdout)."),
    min_group: int = typer.Option(5, "--min-group", min=1, help="Merge departments smaller than this."),
    database_url: str | None = DATABASE,
) -> int:
    """Write a campaign report."""
    from bastion.phish.report import report_data, report_html
    from bastion.phish.service import audit, find_campaign

    store = _store(database_url)
    try:
        with store.write() as session:
            found = find_campaign(session, campaign)
            if named:
                audit(session, _actor(), "phish.report.named", f"{found.name}: named report written")
            if fmt is ReportFormat.JSON:
                text = (
                    json.dumps(report_data(session, found, named=named, min_group=min_group), indent=2) + "\n"
                )
            else:
                text = report_html(session, found, named=named, min_group=min_group)
    finally:
        store.close()
    write_text(text, output, "report")
    return EXIT_CLEAN


def gophish(
    file: Path = typer.Argument(..., help="GoPhish templates or pages JSON export."),
    output: Path = typer.Option(..., "-o", "--output", help="Directory for the YAML files."),
    sender: str = typer.Option("it-support@example.com", "--sender", help="Sender when the export has none."),
) -> int:
    """Convert a GoPhish export."""
    import yaml

    from bastion import atomic
    from bastion.phish.gophish import read_gophish

    result = read_gophish(file, sender)
    for line in result.errors:
        error_console().print(f"error: {line}")
    output.mkdir(parents=True, exist_ok=True)
    written = 0
    for prefix, items in (("email", result.templates), ("landing", result.pages)):
        for index, item in enumerate(items, 1):
            data = item.model_dump(mode="json", exclude_defaults=False)
            path = output / f"{prefix}-{index:02d}.yml"
            atomic.write_text(
                path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True), what="template"
            )
            written += 1
    typer.echo(f"{written} files written to {output} ({len(result.errors)} items refused)")
    return EXIT_ERROR if result.errors else EXIT_CLEAN


def reports(
    imap_host: str = typer.Option(..., "--imap-host", help="IMAP server of the report mailbox."),
    imap_port: int = typer.Option(993, "--imap-port", min=1, max=65535, help="IMAP port."),
    imap_user: str = typer.Option(
        ..., "--imap-user", help="Mailbox user (password: $BASTION_IMAP_PASSWORD)."
    ),
    mailbox: str = typer.Option("INBOX", "--mailbox", help="Folder to read."),
    plain: bool = typer.Option(
        False, "--no-tls", help="IMAP without implicit TLS (STARTTLS when offered; required unless loopback)."
    ),
    imap_ca: Path | None = typer.Option(None, "--imap-ca", help="CA bundle to verify the IMAP server with."),
    database_url: str | None = DATABASE,
) -> int:
    """Poll the report mailbox."""
    from bastion.phish.inbox import ImapSettings, poll_imap

    password = os.environ.get(IMAP_PASSWORD_ENV, "")
    if not password:
        raise UsageError(f"the report mailbox's password goes in ${IMAP_PASSWORD_ENV}")
    settings = ImapSettings(
        imap_host, imap_port, imap_user, password, mailbox, tls=not plain, ca_file=imap_ca
    )
    store = _store(database_url)
    try:
        done = poll_imap(store, settings)
        _apply_retention(store)
    finally:
        store.close()
    typer.echo(
        f"{done.messages} messages read, {done.reports} reports recorded, "
        f"{done.without_token} without a token"
    )
    return EXIT_CLEAN


def retention_days() -> int:
    """``BASTION_PHISH_RETENTION_DAYS`` (default 180); :class:`UsageError` when it is not a number."""
    value = os.environ.get(RETENTION_ENV, "").strip()
    if not value:
        return DEFAULT_RETENTION_DAYS
    if not value.isdigit():
        raise UsageError(f"{RETENTION_ENV}: expected a number of days, got {value!r}")
    return int(value)


def _apply_retention(store: Store, days: int | None = None) -> list[str]:
    """Purge what is past the retention period (``send`` and ``reports`` do it on every run)."""
    from bastion.phish.service import purge as purge_campaigns

    with store.write() as session:
        names = purge_campaigns(session, retention_days() if days is None else days, _actor())
    if names:
        typer.echo(f"{len(names)} campaigns purged: {', '.join(names)}")
    return names


def purge(
    older_than: int | None = typer.Option(
        None,
        "--older-than",
        min=0,
        help=f"Days since the campaign stopped (default: ${RETENTION_ENV} or 180).",
    ),
    database_url: str | None = DATABASE,
) -> int:
    """Apply the retention period."""
    store = _store(database_url)
    try:
        names = _apply_retention(store, older_than)
    finally:
        store.close()
    if not names:
        typer.echo("0 campaigns purged")
    return EXIT_CLEAN
