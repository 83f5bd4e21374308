"""Collect the IaC files of a target, parse them into resources, run the policies."""

from __future__ import annotations

import fnmatch
import gc
import posixpath
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from bastion.findings import Finding, Location, make_fingerprint
from bastion.rules import RuleInfo
from bastion.scan.base import NoticeKind, ScanContext, ScannerDefaults, ScanTarget, SourceFile
from bastion.scan.iac.conditions import Context, evaluate
from bastion.scan.iac.docker import is_dockerfile, parse_dockerfile
from bastion.scan.iac.documents import DocumentError, parse_json_file, parse_yaml_file
from bastion.scan.iac.model import Outcome, Resource, Result
from bastion.scan.iac.policy import Policy, builtin_policies, load_policy_dir
from bastion.scan.iac.pychecks import PYTHON_CHECKS
from bastion.scan.iac.terraform import TerraformProject, is_terraform, is_tfvars
from bastion.suppressions import find_suppressions
from bastion.validation import validate_options

__all__ = ["IacOptions", "IacScanner", "check_resources", "collect_resources"]

HELM_MARK = "{{"
SECRET_CWES = {798, 312, 522, 256}


class IacOptions(BaseModel):
    """The ``[scanners.iac]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policies: list[Path] = []
    """Directories of a team's own policy files, added to the built-in ones."""
    disable: list[str] = []
    """Policy ids or globs (``iac.k8s.*``) not to run."""
    builtin: bool = True
    """Run the built-in policies."""


def parse_options(options: Mapping[str, Any]) -> IacOptions:
    """Validate ``[scanners.iac]``; :class:`ConfigError` naming the key."""
    return validate_options(IacOptions, "scanners.iac", options)


def _policies(options: IacOptions) -> list[Policy]:
    found = list(builtin_policies()) if options.builtin else []
    for directory in options.policies:
        found.extend(load_policy_dir(directory))
    return [p for p in found if not any(fnmatch.fnmatchcase(p.id, g) for g in options.disable)]


def collect_resources(target: ScanTarget, context: ScanContext) -> list[Resource]:
    """Every resource in the target's IaC files; unreadable files become notices."""
    by_path = {f.relpath: f for f in target.files}

    def read(relpath: str) -> str | None:
        file = by_path.get(relpath)
        if file is None:
            file = SourceFile(str(target.root / relpath), relpath, 0)
        return context.read_text(file)

    def notify(path: str, message: str) -> None:
        context.notice(NoticeKind.SCANNER, message, path)

    resources: list[Resource] = []
    tf_dirs: dict[str, list[str]] = {}
    for file in target.files:
        name = file.name
        if is_terraform(name) or is_tfvars(name):
            tf_dirs.setdefault(posixpath.dirname(file.relpath), []).append(name)
        elif is_dockerfile(name):
            text = context.read_text(file)
            if text is not None:
                resources.extend(parse_dockerfile(file.relpath, text))
        elif file.suffix in (".yaml", ".yml", ".json", ".template"):
            resources.extend(_documents(file, context))
    project = TerraformProject(target.root, read, notify, context.skip_file)
    for directory, names in tf_dirs.items():
        project.load(directory, names)
    called = project.called_dirs()
    for directory in sorted(tf_dirs):
        if directory not in called:
            resources.extend(project.evaluate(directory))
    return resources


def _documents(file: SourceFile, context: ScanContext) -> list[Resource]:
    text = context.read_text(file)
    if text is None:
        return []
    if HELM_MARK in text and "/templates/" in f"/{file.relpath}":
        context.notice(
            NoticeKind.SCANNER, "Helm template not rendered; scan `helm template` output", file.relpath
        )
        return []
    try:
        if file.suffix == ".json":
            return parse_json_file(file.relpath, text)
        return parse_yaml_file(file.relpath, text)
    except DocumentError as exc:
        if file.suffix == ".json" or "apiVersion" in text or "Resources" in text or "services" in text:
            context.skip_file(file.relpath, f"{exc}; file not checked, the scan goes on")
        return []


def check_resources(
    resources: list[Resource], policies: list[Policy]
) -> Iterator[tuple[Policy, Resource, Result]]:
    """Every (policy, resource, verdict) where a policy applies to a resource."""
    ctx = Context(resources, PYTHON_CHECKS)
    by_type: dict[str, list[Policy]] = {}
    for policy in policies:
        for kind in policy.resources:
            by_type.setdefault(kind, []).append(policy)
    for resource in resources:
        seen: set[str] = set()
        for kind in resource.types():
            for policy in by_type.get(kind, ()):
                if policy.id in seen:
                    continue
                seen.add(policy.id)
                if policy.when is not None:
                    gate = evaluate(policy.when, resource.attrs, resource, ctx)
                    if gate.outcome is Outcome.FAIL:
                        continue
                    if gate.outcome is Outcome.UNKNOWN:
                        yield policy, resource, gate
                        continue
                yield policy, resource, evaluate(policy.check, resource.attrs, resource, ctx)


class IacScanner(ScannerDefaults):
    """Policy engine over infrastructure-as-code."""

    name = "iac"
    description = (
        "infrastructure-as-code policies: Terraform, CloudFormation, ARM, Kubernetes, Dockerfile, compose"
    )
    shardable = False
    """Not shardable: a Terraform module and its callers, or a resource and what it connects to,
    sit in different files."""
    reads_history = False

    def rules(self) -> Sequence[RuleInfo]:
        """Every built-in policy as :class:`~bastion.rules.RuleInfo`, with its checkov, tfsec and KICS ids
        (the policy directories named in ``[scanners.iac]`` are the team's own)."""
        return tuple(policy.rule_info() for policy in builtin_policies())

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Fail before scanning on a bad ``[scanners.iac]`` table or policy directory."""
        _policies(parse_options(options))

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        """Yield a finding per failed check; unknown verdicts become notices."""
        with _cycle_collector_paused():
            findings = self._findings(target, context)
        yield from findings

    def _findings(self, target: ScanTarget, context: ScanContext) -> list[Finding]:
        policies = _policies(parse_options(context.options))
        resources = collect_resources(target, context)
        texts: dict[str, list[Any]] = {}
        unknown: dict[tuple[str, str, int, str], list[str]] = {}
        findings: list[Finding] = []
        evaluations = 0
        for policy, resource, result in check_resources(resources, policies):
            evaluations += 1
            if result.outcome is Outcome.PASS:
                continue
            line = resource.line_of(result.path) if result.path else resource.start_line
            if result.outcome is Outcome.UNKNOWN:
                key = (resource.path, resource.name, line, resource.show(result.reason))
                unknown.setdefault(key, []).append(policy.id)
                continue
            findings.append(_finding(policy, resource, result, line, target.root, texts))
        for (path, name, line, reason), ids in unknown.items():
            context.notice(NoticeKind.SCANNER, _unknown_message(ids, name, line, reason), path)
        if unknown:
            context.notice(NoticeKind.SCANNER, unknown_summary(unknown, evaluations))
        per_file: dict[str, int] = {}
        for (path, _name, _line, _reason), ids in unknown.items():
            per_file[path] = per_file.get(path, 0) + len(ids)
        for path, count in sorted(per_file.items()):
            # not fully checked: --strict fails, and an upload does not mark this file's findings fixed
            context.skip_file(path, f"{count} policy checks ended unknown (values known only at deploy time)")
        return findings


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Hold Python's cycle collector while parse trees and resources are built.

    Building them allocates hundreds of thousands of long-lived objects, which makes the collector
    walk the whole heap again and again (about 12 % of the scan at 1,759 resources: 4 full passes
    that found 17k cyclic objects among the million or so allocated). Reference counting still frees
    everything else at once; the few cycles wait for the first collection after the scan. The
    collector is switched back on, when it was on, as soon as the verdicts are in.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_CAUSES = (
    ("has no default", "a variable or parameter without a value"),
    ("is not declared", "a variable that is not declared"),
    ("read from the provider", "a data source read from the cloud"),
    ("known after apply", "another resource's attribute, known after apply"),
    ("known at deploy time", "another resource's attribute, known at deploy time"),
    ("is expanded at plan time", "a dynamic block"),
    ("is unknown", "count/for_each not computable"),
    ("not evaluated", "an expression or function not evaluated"),
)


def unknown_summary(unknown: Mapping[tuple[str, str, int, str], list[str]], evaluations: int) -> str:
    """One line: how many policy evaluations ended unknown, of how many, and why (by cause)."""
    causes: dict[str, int] = {}
    for (_path, _name, _line, reason), ids in unknown.items():
        cause = next((label for needle, label in _CAUSES if needle in reason), "other")
        causes[cause] = causes.get(cause, 0) + len(ids)
    total = sum(causes.values())
    share = 100 * total / max(evaluations, 1)
    why = ", ".join(f"{count} {cause}" for cause, count in sorted(causes.items(), key=lambda c: -c[1]))
    return f"iac: {total} of {evaluations} policy evaluations ({share:.1f} %) ended unknown: {why}"


def _unknown_message(ids: list[str], name: str, line: int, reason: str) -> str:
    """One notice for every policy left unknown by the same unresolved value."""
    if len(ids) == 1:
        return f"unknown: {ids[0]} on {name} (line {line}): {reason}"
    shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    return f"unknown: {len(ids)} policies on {name} (line {line}): {reason} ({shown})"


def _call_location(resource: Resource, rule: str, root: Path, texts: dict[str, list[Any]]) -> Location | None:
    """The module call that carries a suppression for ``rule``, if one does."""
    for call in resource.module_call:
        if call.path not in texts:
            try:
                texts[call.path] = find_suppressions(
                    (root / call.path).read_text(encoding="utf-8", errors="replace")
                )
            except OSError:
                texts[call.path] = []
        for suppression in texts[call.path]:
            if suppression.span is not None:  # KICS's comments cover the lines they name, not module calls
                continue
            inside = call.start_line <= suppression.line <= call.end_line
            above = suppression.standalone and suppression.line == call.start_line - 1
            if (inside or above) and any(fnmatch.fnmatchcase(rule, p) for p in suppression.rules):
                return Location(path=call.path, start_line=call.start_line, end_line=call.end_line)
    return None


def _finding(
    policy: Policy, resource: Resource, result: Result, line: int, root: Path, texts: dict[str, list[Any]]
) -> Finding:
    location = Location(path=resource.path, start_line=resource.start_line, end_line=resource.end_line)
    if resource.type == "dockerfile":
        location = Location(path=resource.path, start_line=line, end_line=line)
    call = _call_location(resource, policy.id, root, texts) if resource.module_call else None
    metadata: dict[str, Any] = {"resource": resource.name, "resource_type": resource.type, "line": line}
    if policy.checkov or policy.tfsec or policy.kics:
        metadata["equivalent_ids"] = [*policy.checkov, *policy.tfsec, *policy.kics]
    if resource.module_call:
        metadata["module_call"] = [f"{c.path}:{c.start_line}" for c in resource.module_call]
    if call is not None:
        metadata["defined_at"] = f"{resource.path}:{line}"
        location = call
    reason = resource.show(result.reason or "the check does not hold")
    if SECRET_CWES & set(policy.cwe):  # never repeat a credential the policy found
        shown = resource.show(f"`{result.path}`") if result.path else "a value"
        reason = f"{shown} holds what looks like a literal credential (not shown)"
    return Finding(
        rule_id=policy.id,
        scanner="iac",
        title=policy.title,
        severity=policy.severity,
        location=location,
        message=f"{resource.name}: {reason} (line {line})",
        fingerprint=make_fingerprint(policy.id, location, f"{resource.name} {result.path}"),
        evidence=f"{resource.type} {resource.name}",
        cwe=policy.cwe,
        fix=policy.fix,
        metadata=metadata,
    )
