"""Policy files: one YAML schema for every policy, built-in or a team's own (``--policies DIR``).

A file holds ``policies: [..]``; each policy has ``id`` (``iac.<provider>.<name>``), ``title``,
``severity``, ``resource`` (a type or a list), an optional ``when`` condition (the policy
applies only where it holds), ``check`` (the condition a compliant resource meets, see
``conditions.py``), ``fix``, optional ``cwe``, ``frameworks`` tags and ``examples`` (``pass``
and ``fail`` lists of attribute maps, or ``{resources: [..]}`` for connection checks), which
the test suite evaluates for every built-in policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

from bastion.errors import InputError
from bastion.findings import Severity
from bastion.scan.iac.conditions import check_condition
from bastion.scan.iac.pychecks import PYTHON_CHECKS
from bastion.scan.iac.yamlsafe import YamlError, load_all

__all__ = ["Policy", "builtin_policies", "load_policy_dir", "load_policy_file", "parse_policies"]

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_KEYS = {"id", "title", "severity", "resource", "when", "check", "fix", "cwe", "examples", "description"}


@dataclass(frozen=True)
class Policy:
    """One check over resources of some types."""

    id: str
    title: str
    severity: Severity
    resources: tuple[str, ...]
    check: dict[str, Any]
    when: dict[str, Any] | None = None
    fix: str = ""
    cwe: tuple[int, ...] = ()
    examples: dict[str, list[Any]] = field(default_factory=dict)
    origin: str = ""
    """File the policy came from."""


def _policy(raw: Any, where: str) -> Policy:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a policy must be a mapping")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    for key in ("id", "title", "severity", "resource", "check"):
        if key not in raw:
            raise ValueError(f"{where}: missing required key {key!r}")
    pid = raw["id"]
    if not isinstance(pid, str) or not _ID.match(pid) or not pid.startswith("iac."):
        raise ValueError(f"{where}.id: {pid!r} must look like iac.<provider>.<name> (lower case)")
    where = f"{where} ({pid})"
    try:
        severity = Severity.parse(str(raw["severity"]))
    except ValueError as exc:
        raise ValueError(f"{where}.severity: {exc}") from None
    kinds = raw["resource"] if isinstance(raw["resource"], list) else [raw["resource"]]
    if not kinds or not all(isinstance(k, str) and k for k in kinds):
        raise ValueError(f"{where}.resource: must be a type name or a list of them")
    check_condition(raw["check"], f"{where}.check", PYTHON_CHECKS)
    if raw.get("when") is not None:
        check_condition(raw["when"], f"{where}.when", PYTHON_CHECKS)
    cwe = raw.get("cwe", [])
    if not isinstance(cwe, list) or not all(isinstance(c, int) for c in cwe):
        raise ValueError(f"{where}.cwe: must be a list of integers")
    examples = raw.get("examples", {}) or {}
    if not isinstance(examples, dict) or set(examples) - {"pass", "fail"}:
        raise ValueError(f"{where}.examples: must be a mapping with pass and fail lists")
    return Policy(
        id=pid,
        title=str(raw["title"]),
        severity=severity,
        resources=tuple(kinds),
        check=raw["check"],
        when=raw.get("when"),
        fix=str(raw.get("fix", "")),
        cwe=tuple(cwe),
        examples={k: list(v) for k, v in examples.items()},
    )


_TRUSTED_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_shipped(text: str) -> list[Any]:
    """Documents of a policy file shipped inside Bastion: libyaml's safe loader building plain dicts.

    The files are part of the package, so the line-keeping mappings and alias-expansion guard of
    :func:`load_all` (made for files from the scanned repository or a team's own policy directory)
    only cost time here: about half of loading the built-in policies.
    """
    try:
        return list(yaml.load_all(text, Loader=_TRUSTED_LOADER))  # nosec B506 - a SafeLoader
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None


def parse_policies(text: str, origin: str, *, shipped: bool = False) -> list[Policy]:
    """Policies of one file's text; :class:`InputError` naming ``origin`` and the field.

    ``shipped`` is for Bastion's own policy files only (see :func:`_load_shipped`).
    """
    try:
        documents = _load_shipped(text) if shipped else load_all(text)
    except YamlError as exc:
        raise InputError(f"{origin}: {exc}") from None
    found: list[Policy] = []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict) or not isinstance(document.get("policies"), list):
            raise InputError(f"{origin}: a policy file holds a 'policies' list")
        for index, raw in enumerate(document["policies"]):
            try:
                policy = _policy(raw, f"policies[{index}]")
            except ValueError as exc:
                raise InputError(f"{origin}: {exc}") from None
            found.append(Policy(**{**policy.__dict__, "origin": origin}))
    return found


def load_policy_file(path: Path) -> list[Policy]:
    """Read one policy file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read policy file: {exc}") from None
    return parse_policies(text, str(path))


def load_policy_dir(directory: Path) -> list[Policy]:
    """Every ``*.yml``/``*.yaml`` policy file under ``directory``."""
    if not directory.is_dir():
        raise InputError(f"{directory}: policy directory not found")
    found: list[Policy] = []
    for path in sorted([*directory.rglob("*.yml"), *directory.rglob("*.yaml")]):
        found.extend(load_policy_file(path))
    return found


@lru_cache(maxsize=1)
def builtin_policies() -> tuple[Policy, ...]:
    """The policies shipped in ``bastion/scan/iac/policies``; ids are unique."""
    base = importlib_resources.files("bastion.scan.iac") / "policies"
    found: list[Policy] = []
    for entry in sorted(base.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yml", ".yaml")):
            found.extend(
                parse_policies(entry.read_text(encoding="utf-8"), f"policies/{entry.name}", shipped=True)
            )
    seen: set[str] = set()
    for policy in found:
        if policy.id in seen:
            raise InputError(f"{policy.origin}: policy id {policy.id} is defined twice")
        seen.add(policy.id)
    return tuple(found)
