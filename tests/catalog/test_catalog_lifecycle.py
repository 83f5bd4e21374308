"""Lifecycle: approval by another person holding the approver role, draft -> approved ->
deprecated -> retired, and the scheduled re-check that marks versions failing a new policy
non-compliant and tells the owner and consumers by webhook (loopback HTTP) and e-mail (aiosmtpd)."""

from __future__ import annotations

import shutil
import socket
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bastion.catalog.gate import GateOptions
from bastion.catalog.lifecycle import approve, deprecate, find_version, publish, recheck, retire
from bastion.catalog.local import LocalCatalog
from bastion.catalog.model import State
from bastion.catalog.notify import CatalogEvent, SmtpNotifier, WebhookNotifier, recipients
from bastion.errors import InputError, UsageError
from conftest import NEW_POLICIES, PRODUCTS, Hooks, product_versions

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADVISORIES = Path(__file__).resolve().parents[1] / "fixtures" / "advisories" / "osv" / "pypa"


def _with_webhooks(catalog: LocalCatalog, product: str, base: str) -> None:
    path = catalog.root / "products" / product / "product.yml"
    data = yaml.safe_load(path.read_text())
    data["owner_webhook"] = f"{base}/owner"
    data["consumers"] = [
        {"name": "payments", "email": "payments-devs@example.com", "webhook": f"{base}/payments"},
        {"name": "archive", "webhook": f"{base}/broken"},
    ]
    path.write_text(yaml.safe_dump(data))


def test_approval_needs_someone_else_with_the_role(empty_catalog: LocalCatalog) -> None:
    (empty_catalog.root / "catalog.yml").write_text("require_approval: true\napprovers: [dave, erin]\n")
    publish(empty_catalog, PRODUCTS / "aws-vpc" / "2.0.0", "aws-vpc", "2.0.0", "carol", now=NOW)
    with pytest.raises(UsageError, match="approval must come from someone other than its publisher"):
        approve(empty_catalog, "aws-vpc", "2.0.0", "carol")
    with pytest.raises(UsageError, match="mallory does not hold the catalog's approver role"):
        approve(empty_catalog, "aws-vpc", "2.0.0", "mallory")
    record = approve(empty_catalog, "aws-vpc", "2.0.0", "dave", now=NOW)
    assert (record.state, record.approved_by, record.approved_at) == (State.APPROVED, "dave", NOW)
    assert find_version(empty_catalog, "aws-vpc", "2.0.0").state is State.APPROVED
    with pytest.raises(UsageError, match="is approved; only a draft can be approved"):
        approve(empty_catalog, "aws-vpc", "2.0.0", "erin")


def test_without_required_approval_a_passing_version_is_approved_at_once(empty_catalog: LocalCatalog) -> None:
    (empty_catalog.root / "catalog.yml").write_text("require_approval: false\n")
    record = publish(
        empty_catalog, PRODUCTS / "aws-kms-key" / "1.0.1", "aws-kms-key", "1.0.1", "carol"
    ).record
    assert record is not None and record.state is State.APPROVED


def test_deprecate_then_retire_tells_users(
    full_catalog: LocalCatalog, hooks: str, mailbox: tuple[int, list[Any]]
) -> None:
    port, mails = mailbox
    _with_webhooks(full_catalog, "aws-vpc", hooks)
    notifiers = [WebhookNotifier(), SmtpNotifier("127.0.0.1", port)]
    with pytest.raises(UsageError, match=r"successor aws-vpc 1\.4\.0 must be a later, approved version"):
        deprecate(full_catalog, "aws-vpc", "2.0.0", "erin", date(2027, 3, 31), "1.4.0")
    record, failures = deprecate(
        full_catalog, "aws-vpc", "1.4.0", "erin", date(2027, 3, 31), "2.0.0", notifiers, NOW
    )
    assert (record.state, record.deprecated_on, record.successor) == (
        State.DEPRECATED,
        date(2027, 3, 31),
        "2.0.0",
    )
    assert failures == ["webhook 127.0.0.1: HTTP 500"]
    assert [path for path, _ in Hooks.posts] == ["/owner", "/payments", "/broken"]
    body = Hooks.posts[0][1]
    assert body == {
        "source": "bastion-catalog",
        "event": "deprecated",
        "product": "aws-vpc",
        "version": "1.4.0",
        "owner": "network-team@example.com",
        "reasons": ["until 2027-03-31, successor 2.0.0"],
        "successor": "2.0.0",
        "deprecated_on": "2027-03-31",
    }
    assert mails[0]["To"] == "network-team@example.com, payments-devs@example.com"
    assert mails[0]["Subject"] == "[bastion catalog] aws-vpc 1.4.0 is deprecated"
    assert "Upgrade to aws-vpc 2.0.0." in mails[0].get_payload()
    with pytest.raises(UsageError, match="only an approved version can be deprecated"):
        deprecate(full_catalog, "aws-vpc", "1.4.0", "erin", date(2027, 3, 31), "2.0.0")
    with pytest.raises(UsageError, match="deprecate it before retiring it"):
        retire(full_catalog, "aws-vpc", "2.0.0", "erin")
    retired, _ = retire(full_catalog, "aws-vpc", "1.4.0", "erin", notifiers, NOW)
    assert retired.state is State.RETIRED
    assert Hooks.posts[-1][1]["event"] == "retired"
    assert mails[-1]["Subject"] == "[bastion catalog] aws-vpc 1.4.0 is retired"
    log = [(e.action, e.actor, e.version) for e in full_catalog.audit() if e.product == "aws-vpc"]
    assert log[-2:] == [("deprecate", "erin", "1.4.0"), ("retire", "erin", "1.4.0")]


def test_recheck_marks_history_and_new_policy_failures_non_compliant(
    full_catalog: LocalCatalog, hooks: str, mailbox: tuple[int, list[Any]]
) -> None:
    port, mails = mailbox
    _with_webhooks(full_catalog, "aws-kms-key", hooks)
    notifiers = [WebhookNotifier(), SmtpNotifier("127.0.0.1", port)]
    first = recheck(full_catalog, "scheduler", notifiers=notifiers, now=NOW)
    by_version = {(r.record.product, r.record.version): r for r in first}
    assert len(first) == 24  # every approved version, old and current
    for product in sorted(p.name for p in PRODUCTS.iterdir()):
        old, current = product_versions(PRODUCTS / product)
        assert not by_version[(product, old.name)].record.compliant, product  # older: fails today's policies
        assert by_version[(product, current.name)].record.compliant, product
        assert by_version[(product, old.name)].changed and not by_version[(product, current.name)].changed
    kms_old = by_version[("aws-kms-key", "1.0.0")]
    assert kms_old.changed and kms_old.record.noncompliant_reasons[0].startswith(
        "iac.aws.kms-rotation (medium)"
    )
    assert by_version[("aws-kms-key", "1.0.1")].record.compliant
    assert [p for p, b in Hooks.posts if b["version"] == "1.0.0"] == ["/owner", "/payments", "/broken"]
    assert any(m["Subject"] == "[bastion catalog] aws-kms-key 1.0.0 is non-compliant" for m in mails)

    Hooks.posts.clear()
    second = recheck(
        full_catalog, "scheduler", GateOptions(extra_iac_policies=(NEW_POLICIES,)), notifiers, NOW
    )
    changed = [(r.record.product, r.record.version) for r in second if r.changed]
    assert changed == [("aws-kms-key", "1.0.1")]  # the new policy; nothing else flips
    current = find_version(full_catalog, "aws-kms-key", "1.0.1")
    assert not current.compliant
    assert current.noncompliant_reasons == (
        "iac.acme.kms-multi-region (high) at main.tf:12: KMS key is multi-region",
    )
    assert {b["event"] for _, b in Hooks.posts} == {"non-compliant"}
    assert Hooks.posts[0][1]["reasons"] == list(current.noncompliant_reasons)
    assert [r.failures for r in second if r.changed] == [("webhook 127.0.0.1: HTTP 500",)]

    third = recheck(full_catalog, "scheduler", now=NOW)  # the policy withdrawn: compliant again
    assert [(r.record.version, r.record.compliant) for r in third if r.changed] == [("1.0.1", True)]
    actions = [e.action for e in full_catalog.audit() if e.product == "aws-kms-key" and e.version == "1.0.1"]
    assert actions[-3:] == ["recheck", "non-compliant", "compliant"]


def test_notice_delivery_failures_are_reported_not_raised(full_catalog: LocalCatalog) -> None:
    spec = next(s for s in full_catalog.products() if s.name == "aws-s3-bucket")
    record = find_version(full_catalog, "aws-s3-bucket", "1.1.0")
    event = CatalogEvent("non-compliant", spec, record, ("x",))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert SmtpNotifier("127.0.0.1", closed).send(event) == [
        f"smtp 127.0.0.1:{closed}: ConnectionRefusedError"
    ]
    spec_with_hook = spec.model_copy(update={"owner_webhook": f"http://127.0.0.1:{closed}/hook?token=s3cr3t"})
    with httpx.Client(timeout=2) as http:
        failures = WebhookNotifier(http).send(CatalogEvent("retired", spec_with_hook, record))
    assert failures == ["webhook 127.0.0.1: ConnectError"]  # the URL's token is never repeated
    assert recipients(spec.model_copy(update={"owner": "storage team"})) == (
        ["payments-devs@example.com"],
        [],
    )
    assert (
        SmtpNotifier("127.0.0.1", closed).send(
            CatalogEvent("x", spec.model_copy(update={"owner": "t", "consumers": []}), record)
        )
        == []
    )


def test_unknown_version_and_damaged_artefact(full_catalog: LocalCatalog) -> None:
    with pytest.raises(InputError, match=r"aws-vpc 9\.9\.9: no such version"):
        approve(full_catalog, "aws-vpc", "9.9.9", "dave")
    record = find_version(full_catalog, "aws-vpc", "2.0.0")
    blob = full_catalog.root / "artefacts" / "sha256" / f"{record.digest.split(':')[1]}.tar.gz"
    blob.unlink()
    with pytest.raises(InputError, match="cannot read artefact"):
        recheck(full_catalog, "scheduler")
    with pytest.raises(InputError, match="no such version"):
        full_catalog.update(record.with_changes(version="7.7.7"), full_catalog.audit()[0])


def test_a_new_advisory_makes_a_published_version_non_compliant(
    empty_catalog: LocalCatalog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hooks: str,
    mailbox: tuple[int, list[Any]],
) -> None:
    """The deps scanner reads today's advisory database: a version published clean fails the
    re-check once an advisory for a dependency it pins is imported, and its users hear of it."""
    from bastion.advisories.db import connect
    from bastion.advisories.importer import import_osv
    from bastion.catalog.consumers import CatalogIndex, scan_consumer

    port, mails = mailbox
    _with_webhooks(empty_catalog, "python-base-image", hooks)
    template = tmp_path / "image"
    shutil.copytree(PRODUCTS / "python-base-image" / "3.12.1", template)
    (template / "requirements.txt").write_text("requests==2.30.0\n")
    unchecked = publish(empty_catalog, template, "python-base-image", "3.13.0", "carol", now=NOW)
    assert unchecked.record is None and unchecked.report.reasons == ()  # no advisory database: no pass
    assert unchecked.report.skipped[0].startswith("skipped deps: no advisory database at ")
    database = tmp_path / "advisories.sqlite3"
    conn = connect(database, create=True)
    import_osv(conn, ADVISORIES / "flask")  # a database that knows nothing against requests yet
    conn.commit()
    conn.close()
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(database))
    published = publish(empty_catalog, template, "python-base-image", "3.13.0", "carol", now=NOW)
    assert published.record is not None and published.report.reasons == ()
    approve(empty_catalog, "python-base-image", "3.13.0", "dave", NOW)
    notifiers = [WebhookNotifier(), SmtpNotifier("127.0.0.1", port)]
    assert [r.changed for r in recheck(empty_catalog, "scheduler", notifiers=notifiers, now=NOW)] == [False]
    assert Hooks.posts == [] and mails == []

    conn = connect(database)
    import_osv(conn, ADVISORIES / "requests")  # `bastion db update` brings the advisory
    conn.commit()
    conn.close()
    (result,) = recheck(empty_catalog, "scheduler", notifiers=notifiers, now=NOW)
    assert result.changed and not result.record.compliant
    assert result.record.noncompliant_reasons[0].startswith(
        "deps.CVE-2023-32681 (high) at requirements.txt:1: Vulnerable dependency: requests 2.30.0"
    )
    assert [(path, body["event"]) for path, body in Hooks.posts] == [
        ("/owner", "non-compliant"),
        ("/payments", "non-compliant"),
        ("/broken", "non-compliant"),
    ]
    assert mails[0]["To"] == "app-platform@example.com, payments-devs@example.com"
    assert "deps.CVE-2023-32681" in mails[0].get_payload()

    repo = tmp_path / "service"
    repo.mkdir()
    (repo / "Dockerfile").write_text('FROM registry.example.com/base/python:3.13.0\nCMD ["python"]\n')
    (finding,) = scan_consumer(repo, CatalogIndex.build(empty_catalog), NOW.date()).findings
    assert (finding.rule_id, finding.location.start_line) == ("catalog.version-non-compliant", 1)
    assert "no approved, compliant version exists yet" in finding.message
