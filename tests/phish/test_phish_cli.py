"""``bastion phish`` end to end through the CLI: import, create, dry-run, launch on loopback SMTP,
status, stop, report, GoPhish conversion, purge, and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from phish_world import FIXTURES, Mailbox

from bastion.cli.main import main
from bastion.phish.templates import load_email, load_landing


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    """The --database-url option for a fresh SQLite file."""
    return ["--database-url", f"sqlite:///{tmp_path / 'phish.db'}"]


def _create(db: list[str]) -> None:
    targets = ["phish", "targets", "import", str(FIXTURES / "targets.csv"), "--group", "staff"]
    assert main([*targets, "--exclude", str(FIXTURES / "exclusions.txt"), *db]) == 2
    create = ["phish", "campaign", "create", "q1", "--group", "staff", "--email", str(FIXTURES / "email.yml")]
    landing = ["--landing", str(FIXTURES / "landing-login.yml"), "--base-url", "https://phish.example.com"]
    assert main([*create, *landing, *db]) == 0


def test_import_create_launch_status_stop_report(
    db: list[str], mailbox: Mailbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(db)
    out, err = capsys.readouterr()
    assert "5 added, 0 updated, 1 excluded, 4 rows refused (group staff)" in out
    assert err.count("error: ") == 4 and "targets.csv:5: invalid email address" in err
    assert "campaign 1 'q1' created as a draft" in out
    assert main(["phish", "campaign", "launch", "q1", "--dry-run", str(tmp_path / "eml"), *db]) == 0
    assert len(list((tmp_path / "eml").glob("*.eml"))) == 4 and mailbox.messages == []
    launch = ["phish", "campaign", "launch", "q1", "--smtp-port", str(mailbox.port), "--rate", "0", *db]
    assert main(launch) == 2
    assert "no allow-listed recipient domain" in capsys.readouterr().err
    assert main([*launch, "--allow-domain", "example.com"]) == 0
    assert "4 messages scheduled" in capsys.readouterr().out and len(mailbox.messages) == 4
    assert main([*launch, "--allow-domain", "example.com"]) == 2
    assert "is running, not a draft" in capsys.readouterr().err
    send = [
        "phish",
        "campaign",
        "send",
        "1",
        "--smtp-port",
        str(mailbox.port),
        "--allow-domain",
        "example.com",
    ]
    assert main([*send, *db]) == 0 and capsys.readouterr().out.strip() == "nothing due"
    assert main(["phish", "campaign", "status", "q1", *db]) == 0
    status = capsys.readouterr().out
    assert "sends: 4 sent" in status and " delivered: 4" in status
    assert main(["phish", "campaign", "status", "q1", "--format", "json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["delivered"] == 4
    assert main(["phish", "campaign", "stop", "q1", *db]) == 0
    assert "stopped; 0 unsent messages cancelled" in capsys.readouterr().out
    report = tmp_path / "q1.html"
    assert main(["phish", "campaign", "report", "q1", "-o", str(report), *db]) == 0
    assert "Phishing exercise: q1" in report.read_text(encoding="utf-8")
    assert main(["phish", "purge", "--older-than", "0", *db]) == 0
    assert "1 campaigns purged: q1" in capsys.readouterr().out


def test_send_failures_exit_1(db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    _create(db)
    assert (
        main(["phish", "campaign", "launch", "q1", "--allow-domain", "example.org", "--rate", "0", *db]) == 1
    )
    assert "4 blocked" in capsys.readouterr().out


def test_errors_are_one_line_exit_2(
    db: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["phish", "campaign", "status", "nope", *db]) == 2
    assert capsys.readouterr().err.strip() == "error: no phishing campaign 'nope'"
    landing = ["--landing", str(FIXTURES / "landing-login.yml")]
    bad = [
        "phish",
        "campaign",
        "create",
        "x",
        "--group",
        "g",
        "--email",
        str(FIXTURES / "escape.yml"),
        *landing,
    ]
    assert main([*bad, "--base-url", "https://p.example", *db]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused by the sandbox" in err
    _create(db)
    capsys.readouterr()
    again = ["phish", "campaign", "create", "q1", "--group", "staff", "--email", str(FIXTURES / "email.yml")]
    assert main([*again, *landing, "--base-url", "ftp://x", *db]) == 2
    assert "exists already" in capsys.readouterr().err
    assert (
        main(["phish", "campaign", "create", "q2", *again[4:], *landing, "--base-url", "ftp://x", *db]) == 2
    )
    assert "--base-url: expected http(s)://" in capsys.readouterr().err
    assert main(["phish", "campaign", "launch", "q1", "--local-start", "9am", *db]) == 2
    monkeypatch.delenv("BASTION_SMTP_PASSWORD", raising=False)
    assert main(["phish", "campaign", "send", "q1", "--smtp-user", "relay", *db]) == 2
    assert "BASTION_SMTP_PASSWORD" in capsys.readouterr().err


def test_gophish_conversion_writes_loadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "converted"
    assert main(["phish", "gophish", str(FIXTURES / "gophish-templates.json"), "-o", str(out)]) == 2
    assert "1 files written" in capsys.readouterr().out
    assert main(["phish", "gophish", str(FIXTURES / "gophish-pages.json"), "-o", str(out / "pages")]) == 0
    assert load_email(out / "email-01.yml").name == "Password expiry"
    assert load_landing(out / "pages" / "landing-01.yml").kind.value == "login"


def test_launch_through_starttls_relay_with_login(
    db: list[str], tls_mailbox: Mailbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(db)
    monkeypatch.setenv("BASTION_SMTP_PASSWORD", "relay-secret")
    relay = ["--smtp-port", str(tls_mailbox.port), "--starttls", "--smtp-ca", str(tls_mailbox.ca_file)]
    launch = [
        "phish",
        "campaign",
        "launch",
        "q1",
        *relay,
        "--smtp-user",
        "relay",
        "--allow-domain",
        "example.com",
    ]
    assert main([*launch, "--rate", "0", *db]) == 0
    out, err = capsys.readouterr()
    assert "4 sent" in out and len(tls_mailbox.messages) == 4
    assert "relay-secret" not in out + err


def test_retention_applies_on_every_send(
    db: list[str], mailbox: Mailbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(db)
    send = ["--smtp-port", str(mailbox.port), "--allow-domain", "example.com", "--rate", "0", *db]
    assert main(["phish", "campaign", "launch", "q1", *send]) == 0
    assert main(["phish", "campaign", "stop", "q1", *db]) == 0
    assert main(["phish", "purge", *db]) == 0
    assert "0 campaigns purged" in capsys.readouterr().out  # 180 days by default
    monkeypatch.setenv("BASTION_PHISH_RETENTION_DAYS", "soon")
    assert main(["phish", "purge", *db]) == 2
    create = ["phish", "campaign", "create", "q2", "--group", "staff", "--email", str(FIXTURES / "email.yml")]
    landing = ["--landing", str(FIXTURES / "landing-login.yml"), "--base-url", "https://phish.example.com"]
    assert main([*create, *landing, *db]) == 0
    assert main(["phish", "campaign", "launch", "q2", *send]) == 0
    capsys.readouterr()
    monkeypatch.setenv("BASTION_PHISH_RETENTION_DAYS", "0")
    assert main(["phish", "campaign", "send", "q2", *send]) == 0
    assert capsys.readouterr().out.splitlines() == ["nothing due", "1 campaigns purged: q1"]
