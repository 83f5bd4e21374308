"""Policy files: one YAML schema for every policy, built-in or a team's own (``--policies DIR``).

A file holds ``policies: [..]``; each policy has ``id`` (``iac.<provider>.<name>``), ``title``,
``severity``, ``resource`` (a type or a list), an optional ``when`` condition (the policy
applies only where it holds), ``check`` (the condition a compliant resource meets, see
``conditions.py``), ``fix``, optional ``cwe``, ``frameworks`` tags and ``examples`` (``pass``
and ``fail`` lists of attribute maps, or ``{resources: [..]}`` for connection checks), which
the test suite evaluates for every built-in policy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from bastion.atomic import atomic_open
from bastion.errors import InputError
from bastion.findings import Severity
from bastion.rules import RuleInfo
from bastion.scan.iac.yamlsafe import YamlError, load_all
from bastion.structured import read_text

__all__ = ["Policy", "builtin_policies", "load_policy_dir", "load_policy_file", "parse_policies"]


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
    checkov: tuple[str, ...] = ()
    """checkov's ids for the same check (``CKV_AWS_24``), for migration and suppressions."""
    tfsec: tuple[str, ...] = ()
    """tfsec/trivy ids for the same check (``aws-ec2-no-public-ingress-sgr``)."""
    kics: tuple[str, ...] = ()
    """KICS query ids for the same check (``65905cec-d691-4320-b320-2000436cb696``)."""
    description: str = ""
    """Longer explanation, when the policy file gives one."""

    def rule_info(self) -> RuleInfo:
        """The policy as the one rule contract every part of Bastion reads."""
        equivalent = {
            "checkov": ",".join(self.checkov),
            "tfsec": ",".join(self.tfsec),
            "kics": ",".join(self.kics),
        }
        return RuleInfo(
            id=self.id,
            title=self.title,
            severity=self.severity,
            scanner="iac",
            cwe=self.cwe,
            fix=self.fix,
            equivalent_ids={tool: ids for tool, ids in equivalent.items() if ids},
            description=self.description,
        )


def _policy(raw: Any, where: str) -> Policy:
    """The policy ``raw`` validated by :class:`~bastion.scan.iac.schema.PolicySpec`;
    ``ValueError`` with the one-line reason."""
    # The schema is a pydantic model whose class takes about 50 ms to build: load it only when a
    # policy file is read, not on the runs that take the checked built-in policies from the cache.
    from bastion.scan.iac.schema import validate_policy

    spec = validate_policy(raw, where)
    return Policy(
        id=spec.id,
        title=spec.title,
        severity=spec.severity,
        resources=spec.resource,
        check=spec.check,
        when=spec.when,
        fix=spec.fix,
        cwe=spec.cwe,
        examples=spec.examples,
        checkov=spec.checkov,
        tfsec=spec.tfsec,
        kics=spec.kics,
        description=spec.description,
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
    return parse_policies(read_text(path, what="policy file"), str(path))


def load_policy_dir(directory: Path) -> list[Policy]:
    """Every ``*.yml``/``*.yaml`` policy file under ``directory``."""
    if not directory.is_dir():
        raise InputError(f"{directory}: policy directory not found")
    found: list[Policy] = []
    for path in sorted([*directory.rglob("*.yml"), *directory.rglob("*.yaml")]):
        found.extend(load_policy_file(path))
    return found


_CACHE_FORMAT = "5"
"""Bump when the fields written by :func:`_to_json` change."""


def _to_json(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "title": policy.title,
        "severity": policy.severity.value,
        "resources": list(policy.resources),
        "check": policy.check,
        "when": policy.when,
        "fix": policy.fix,
        "cwe": list(policy.cwe),
        "examples": policy.examples,
        "origin": policy.origin,
        "checkov": list(policy.checkov),
        "tfsec": list(policy.tfsec),
        "kics": list(policy.kics),
        "description": policy.description,
    }


def _from_json(raw: dict[str, Any]) -> Policy:
    return Policy(
        id=raw["id"],
        title=raw["title"],
        severity=Severity(raw["severity"]),
        resources=tuple(raw["resources"]),
        check=raw["check"],
        when=raw["when"],
        fix=raw["fix"],
        cwe=tuple(raw["cwe"]),
        examples=raw["examples"],
        checkov=tuple(raw.get("checkov", ())),
        tfsec=tuple(raw.get("tfsec", ())),
        kics=tuple(raw.get("kics", ())),
        description=raw["description"],
        origin=raw["origin"],
    )


def _cache_file(files: list[tuple[str, str]]) -> Path | None:
    """Where the checked policies of exactly these shipped files are kept, keyed by their text."""
    digest = hashlib.sha256(_CACHE_FORMAT.encode())
    for name, text in files:
        digest.update(f"\0{name}\0{len(text)}\0".encode())
        digest.update(text.encode("utf-8"))
    try:
        directory = Path(platformdirs.user_cache_dir("bastion", appauthor=False))
    except (OSError, ValueError):
        return None
    return directory / f"iac-policies-{digest.hexdigest()[:32]}.json"


def _read_cache(path: Path | None) -> list[Policy] | None:
    if path is None:
        return None
    try:
        return [_from_json(raw) for raw in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, unreadable or not ours: parse the YAML


def _write_cache(path: Path | None, policies: list[Policy]) -> None:
    if path is None:
        return
    payload = [_to_json(p) for p in policies]
    try:
        text = json.dumps(payload, separators=(",", ":"))
        if json.loads(text) != payload:
            return  # something JSON cannot hold as is (a non-string key, say): do not cache
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path) as sink:
            sink.write(text)
    except (OSError, TypeError, ValueError):
        return  # the cache is only a shortcut


@lru_cache(maxsize=1)
def builtin_policies() -> tuple[Policy, ...]:
    """The policies shipped in ``bastion/scan/iac/policies``; ids are unique.

    Reading and checking the YAML costs about 50 ms per run, so the checked policies are also
    kept as JSON in Bastion's user cache directory, under a name made from the SHA-256 of every
    shipped file's name and text: any change to a policy file reads the YAML again.
    """
    base = importlib_resources.files("bastion.scan.iac") / "policies"
    files = [
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in sorted(base.iterdir(), key=lambda e: e.name)
        if entry.name.endswith((".yml", ".yaml"))
    ]
    cache = _cache_file(files)
    found = _read_cache(cache)
    if found is None:
        found = []
        for name, text in files:
            found.extend(parse_policies(text, f"policies/{name}", shipped=True))
        _write_cache(cache, found)
    seen: set[str] = set()
    for policy in found:
        if policy.id in seen:
            raise InputError(f"{policy.origin}: policy id {policy.id} is defined twice")
        seen.add(policy.id)
    return tuple(found)
