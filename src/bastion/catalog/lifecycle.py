"""What can happen to a version: gated publish, approval by someone else, deprecation with a
date and a successor, retirement, and the scheduled re-check that marks versions failing current
policies non-compliant and tells their owner and consumers."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bastion.catalog.artefact import pack, unpack
from bastion.catalog.backend import AuditEntry, CatalogBackend
from bastion.catalog.gate import GateOptions, GateReport, check_template
from bastion.catalog.model import ProductSpec, State, VersionRecord, utcnow
from bastion.catalog.notify import CatalogEvent, Notifier
from bastion.catalog.semver import parse_semver
from bastion.catalog.templates import example_inputs, read_template
from bastion.errors import InputError, UsageError

__all__ = [
    "PublishResult",
    "RecheckResult",
    "approve",
    "deprecate",
    "find_product",
    "find_version",
    "publish",
    "recheck",
    "retire",
]


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the stored record, or the gate's reasons for refusing it."""

    report: GateReport
    record: VersionRecord | None = None
    """None when the gate refused the version (nothing was stored)."""


def find_product(backend: CatalogBackend, name: str) -> ProductSpec:
    """The product called ``name``; :class:`InputError` otherwise."""
    for spec in backend.products():
        if spec.name == name:
            return spec
    raise InputError(f"no product {name} in the catalog (bastion catalog product add)")


def find_version(backend: CatalogBackend, product: str, version: str) -> VersionRecord:
    """The record of ``product`` ``version``; :class:`InputError` otherwise."""
    wanted = str(parse_semver(version))
    for record in backend.versions(product):
        if record.version == wanted:
            return record
    raise InputError(f"{product} {version}: no such version in the catalog")


def publish(
    backend: CatalogBackend,
    template: Path,
    product: str,
    version: str,
    actor: str,
    options: GateOptions | None = None,
    now: datetime | None = None,
) -> PublishResult:
    """Check and publish ``template`` as ``product`` ``version``. Bad input (no such product, a
    version that is not semver or already exists, a template that does not parse or is over the
    size limit) is an :class:`InputError` before anything is written; a version the gate refuses
    is returned with its reasons and logged, nothing stored."""
    spec = find_product(backend, product)
    settings = backend.settings()
    semver = parse_semver(version)
    if any(r.version == str(semver) for r in backend.versions(spec.name)):
        raise InputError(f"{spec.name} {semver}: already published (versions are immutable)")
    info = read_template(template, spec.kind)
    artefact = pack(template, settings.max_artefact_bytes)
    options = options or GateOptions(fail_on=settings.fail_on)
    report = check_template(template, spec, info, options)
    when = now or utcnow()
    if not report.passed:
        detail = "; ".join([*report.reasons, *report.skipped])[:2000]
        backend.log(AuditEntry(when, actor, "publish-refused", spec.name, str(semver), detail))
        return PublishResult(report)
    record = VersionRecord(
        product=spec.name,
        version=str(semver),
        digest=artefact.digest,
        size=artefact.size,
        published_by=actor,
        published_at=when,
        state=State.DRAFT if settings.require_approval else State.APPROVED,
        inputs=info.inputs,
        outputs=info.outputs,
        example_inputs=example_inputs(info.inputs, {**info.constraints, **spec.constraints}),
        constraints=dict(info.constraints),
        checked_at=when,
    )
    backend.publish(record, artefact.data, actor)
    return PublishResult(report, record)


def approve(
    backend: CatalogBackend, product: str, version: str, actor: str, now: datetime | None = None
) -> VersionRecord:
    """Approve a draft; the approver must differ from the publisher and hold the approver role
    when the catalog names approvers. :class:`UsageError` otherwise."""
    record = find_version(backend, product, version)
    settings = backend.settings()
    if record.state is not State.DRAFT:
        raise UsageError(f"{product} {record.version} is {record.state.value}; only a draft can be approved")
    if actor == record.published_by:
        raise UsageError(
            f"{product} {record.version}: approval must come from someone other than its publisher"
        )
    if settings.approvers and actor not in settings.approvers:
        raise UsageError(f"{actor} does not hold the catalog's approver role")
    when = now or utcnow()
    updated = record.with_changes(state=State.APPROVED, approved_by=actor, approved_at=when)
    backend.update(updated, AuditEntry(when, actor, "approve", product, record.version))
    return updated


def deprecate(
    backend: CatalogBackend,
    product: str,
    version: str,
    actor: str,
    until: date,
    successor: str,
    notifiers: Sequence[Notifier] = (),
    now: datetime | None = None,
) -> tuple[VersionRecord, list[str]]:
    """Deprecate an approved version, supported until ``until``, in favour of ``successor`` (an
    approved, later version); owners and consumers are told. Returns the record and delivery failures."""
    record = find_version(backend, product, version)
    if record.state is not State.APPROVED:
        raise UsageError(
            f"{product} {record.version} is {record.state.value}; only an approved version can be deprecated"
        )
    target = find_version(backend, product, successor)
    if target.state is not State.APPROVED or parse_semver(target.version) <= parse_semver(record.version):
        raise UsageError(f"successor {product} {target.version} must be a later, approved version")
    when = now or utcnow()
    updated = record.with_changes(state=State.DEPRECATED, deprecated_on=until, successor=target.version)
    detail = f"until {until.isoformat()}, successor {target.version}"
    backend.update(updated, AuditEntry(when, actor, "deprecate", product, record.version, detail))
    event = CatalogEvent("deprecated", find_product(backend, product), updated, (detail,))
    return updated, [line for n in notifiers for line in n.send(event)]


def retire(
    backend: CatalogBackend,
    product: str,
    version: str,
    actor: str,
    notifiers: Sequence[Notifier] = (),
    now: datetime | None = None,
) -> tuple[VersionRecord, list[str]]:
    """Retire a deprecated version: no one may use it any more."""
    record = find_version(backend, product, version)
    if record.state is not State.DEPRECATED:
        raise UsageError(
            f"{product} {record.version} is {record.state.value}; deprecate it before retiring it"
        )
    when = now or utcnow()
    updated = record.with_changes(state=State.RETIRED)
    backend.update(updated, AuditEntry(when, actor, "retire", product, record.version))
    event = CatalogEvent("retired", find_product(backend, product), updated)
    return updated, [line for n in notifiers for line in n.send(event)]


@dataclass(frozen=True)
class RecheckResult:
    """One version re-checked."""

    record: VersionRecord
    changed: bool
    """Whether its compliance flipped."""
    failures: tuple[str, ...] = ()
    """Notices that could not be delivered."""


def recheck(
    backend: CatalogBackend,
    actor: str,
    options: GateOptions | None = None,
    notifiers: Sequence[Notifier] = (),
    now: datetime | None = None,
) -> list[RecheckResult]:
    """Run the gate again on every approved or deprecated version's stored artefact with today's
    policies and advisories; a version that now fails is marked non-compliant (and one that passes
    again compliant), and its owner and consumers are told."""
    settings = backend.settings()
    options = options or GateOptions(fail_on=settings.fail_on)
    when = now or utcnow()
    results = []
    for spec in backend.products():
        for record in sorted(backend.versions(spec.name), key=lambda r: parse_semver(r.version)):
            if record.state not in {State.APPROVED, State.DEPRECATED}:
                continue
            with tempfile.TemporaryDirectory(prefix="bastion-catalog-") as tmp:
                root = Path(tmp)
                unpack(backend.artefact(record.digest), root, max(settings.max_artefact_bytes, record.size))
                report = check_template(root, spec, read_template(root, spec.kind), options)
            reasons = (*report.reasons, *report.skipped)
            compliant = report.passed
            updated = record.with_changes(
                compliant=compliant, noncompliant_reasons=() if compliant else reasons, checked_at=when
            )
            changed = compliant != record.compliant
            failures: list[str] = []
            if changed:
                action = "compliant" if compliant else "non-compliant"
                backend.update(
                    updated,
                    AuditEntry(when, actor, action, spec.name, record.version, "; ".join(reasons)[:2000]),
                )
                if not compliant:
                    event = CatalogEvent("non-compliant", spec, updated, reasons)
                    failures = [line for n in notifiers for line in n.send(event)]
            else:
                backend.update(
                    updated,
                    AuditEntry(when, actor, "recheck", spec.name, record.version, action_detail(compliant)),
                )
            results.append(RecheckResult(updated, changed, tuple(failures)))
    return results


def action_detail(compliant: bool) -> str:
    """The audit detail of an unchanged re-check."""
    return "still compliant" if compliant else "still non-compliant"
