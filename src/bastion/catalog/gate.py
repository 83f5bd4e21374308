"""The publish gate: a template version passes when the iac, secrets and deps scanners find
nothing at or above the catalog's threshold, its own extra policies hold, and the defaults of
its inputs keep the product's constraints. Every reason a version fails is kept, in words."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bastion.catalog.model import ProductSpec
from bastion.catalog.templates import TemplateInfo, template_files
from bastion.config import ScanConfig
from bastion.findings import Finding, Severity
from bastion.runner import scan_project
from bastion.scan.engine import Concurrency
from bastion.scan.registry import Registry

__all__ = ["GATE_SCANNERS", "GateOptions", "GateReport", "check_template"]

_UNKNOWN_AT_DEPLOY = re.compile(
    r"^skipped iac \S.*: \d+ policy checks ended unknown \(values known only at deploy time\)$"
)
"""The IaC scanner's skip record for checks that depend on deploy-time values."""

GATE_SCANNERS = ("iac", "secrets", "deps")
"""The scanners every version must pass."""


@dataclass(frozen=True)
class GateOptions:
    """How strict the gate is and what it runs."""

    fail_on: Severity = Severity.MEDIUM
    extra_iac_policies: tuple[Path, ...] = ()
    """Directories of IaC policies added to the built-in ones (a new policy to re-check against)."""
    registry: Registry | None = None
    """The scanners to load (installed entry points when None)."""


@dataclass(frozen=True)
class GateReport:
    """What the gate decided and why."""

    reasons: tuple[str, ...] = ()
    """One line per failure: a blocking finding, a policy, a constraint, a scanner that could not run."""
    findings: tuple[Finding, ...] = ()
    """Every scanner finding reported, blocking or not."""
    skipped: tuple[str, ...] = field(default_factory=tuple)
    """What could not be checked; a version that was not checked does not pass."""
    deploy_time: tuple[str, ...] = ()
    """IaC policy checks whose outcome depends on the values a consumer passes (a template's
    inputs): expected in a template, not a refusal; the product's constraints bound those values."""

    @property
    def passed(self) -> bool:
        """True when nothing failed and nothing went unchecked."""
        return not self.reasons and not self.skipped


def check_template(root: Path, product: ProductSpec, info: TemplateInfo, options: GateOptions) -> GateReport:
    """Run the gate on the template directory ``root``."""
    config = ScanConfig(
        scanners=list(GATE_SCANNERS),
        fail_on=options.fail_on,
        gitignore=False,
        concurrency=Concurrency.THREAD,
        jobs=1,
    )
    scanner_options: dict[str, dict[str, object]] = {}
    if options.extra_iac_policies:
        scanner_options["iac"] = {"policies": [str(p) for p in options.extra_iac_policies]}
    result = scan_project(root, config, options.registry or Registry.from_entry_points(), scanner_options)
    reasons = [
        f"{f.rule_id} ({f.severity.value}) at {f.location.describe()}: {f.title}"
        for f in sorted(result.blocking, key=lambda f: (f.rule_id, f.location.describe()))
    ]
    # a failed scanner, and anything a scanner could not check (a file it could not read, a
    # dependency without advisory data, no advisory database at all), leaves the version unchecked;
    # IaC checks that depend on the consumer's inputs are expected in a template and only noted
    unchecked = [line for line in result.unchecked if not _UNKNOWN_AT_DEPLOY.match(line)]
    skipped = [failure.describe() for failure in result.scan.failures] + unchecked
    depends = [line for line in result.unchecked if _UNKNOWN_AT_DEPLOY.match(line)]
    reasons.extend(_extra_policies(root, product))
    reasons.extend(_constraints(product, info))
    return GateReport(tuple(reasons), tuple(result.findings), tuple(skipped), tuple(depends))


def _extra_policies(root: Path, product: ProductSpec) -> list[str]:
    reasons: list[str] = []
    files = list(template_files(root))
    for policy in product.policies:
        texts = [
            path.read_text(encoding="utf-8", errors="replace")
            for path in files
            if fnmatch.fnmatch(path.name, policy.files)
            or fnmatch.fnmatch(path.relative_to(root).as_posix(), policy.files)
        ]
        if policy.require and not any(re.search(policy.require, text) for text in texts):
            reasons.append(f"policy {policy.id} ({policy.severity.value}): {policy.title}: nothing matches")
        if policy.forbid:
            hits = [text for text in texts if re.search(policy.forbid, text)]
            if hits:
                reasons.append(
                    f"policy {policy.id} ({policy.severity.value}): {policy.title}: forbidden content"
                )
    return reasons


def _constraints(product: ProductSpec, info: TemplateInfo) -> Sequence[str]:
    reasons: list[str] = []
    names = {param.name: param for param in info.inputs}
    for name, constraint in sorted(product.constraints.items()):
        param = names.get(name)
        if param is None:
            reasons.append(f"constraint on {name}: the template has no input {name}")
        elif param.default is not None and (problem := constraint.violation(param.default)):
            reasons.append(f"constraint on {name}: default {problem}")
    for name, constraint in sorted(info.constraints.items()):
        param = names.get(name)
        if (
            param is not None
            and param.default is not None
            and (problem := constraint.violation(param.default))
        ):
            reasons.append(f"template's own constraint on {name}: default {problem}")
    return reasons
