"""Pipeline stages: ``[stages.NAME]`` tables that pick scanners, thresholds, policies and
deploy-time inputs per stage, resolved for ``bastion scan --stage NAME``.

Built-in stages (``stages.yml``: commit, build, deploy) are defaults; a table in bastion.toml
replaces the keys it sets. Precedence: command-line flags, then the stage, then ``[scan]``.
A config found in the scanned directory belongs to the scanned code, so, as for ``[scan]``,
its stage keys that could relax the gate (fewer scanners, excludes, a laxer threshold or
confidence) are not applied without ``--trust-repo-config`` or ``--config``, and its inputs
must stay inside the scanned directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.errors import ConfigError, UsageError
from bastion.findings import Confidence, Severity
from bastion.validation import validate_options

__all__ = ["Stage", "StageSpec", "builtin_stages", "resolve_stage", "stage_for_scan"]

_SCAN_KEYS = ("scanners", "fail_on", "strict", "min_confidence", "exclude", "staged")
"""Stage keys that are also ``[scan]`` keys, handed to the scan as its settings."""


class StageSpec(BaseModel):
    """One ``[stages.NAME]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    scanners: list[str] | None = None
    fail_on: str | None = None
    strict: bool | None = None
    min_confidence: str | None = None
    exclude: list[str] | None = None
    staged: bool | None = None
    policies: list[str] = Field(default_factory=list)
    """IaC policy directories added for this stage."""
    terraform_plan: list[str] = Field(default_factory=list)
    """Terraform plan JSON files (``terraform show -json plan.out``)."""
    manifests: list[str] = Field(default_factory=list)
    """Rendered Kubernetes manifests: files or directories."""

    @field_validator("fail_on")
    @classmethod
    def _fail_on(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in {"none", "kev"}:
            Severity.parse(value)
        return value

    @field_validator("min_confidence")
    @classmethod
    def _confidence(cls, value: str | None) -> str | None:
        if value is not None:
            Confidence(value.strip().lower())
        return value


@dataclass(frozen=True)
class Stage:
    """A resolved stage: what ``bastion scan`` applies."""

    name: str
    settings: Mapping[str, Any]
    """``[scan]`` keys the stage sets (below command-line flags)."""
    policies: tuple[Path, ...] = ()
    """IaC policy directories to add."""
    inputs: tuple[Path, ...] = ()
    """Deploy-time files or directories to scan besides the target (plans, manifests)."""
    not_applied: tuple[str, ...] = field(default_factory=tuple)
    """``stages.NAME.KEY`` settings of an untrusted config that were left out."""

    def under(self, flags: Mapping[str, Any]) -> dict[str, Any]:
        """``bastion scan``'s command-line overrides with this stage's settings beneath them:
        a flag the user gave wins, the stage fills the rest (``[scan]`` comes after both)."""
        given = {key: value for key, value in flags.items() if value is not None}
        return {**flags, **{k: v for k, v in self.settings.items() if k not in given}}


@cache
def builtin_stages() -> dict[str, StageSpec]:
    """The stages Bastion ships (``stages.yml``); ``ValueError`` if the shipped data is broken."""
    text = resources.files("bastion.ci").joinpath("stages.yml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    try:
        return {name: StageSpec.model_validate(spec) for name, spec in document["stages"].items()}
    except (ValidationError, KeyError, AttributeError) as exc:
        raise ValueError(f"bastion/ci/stages.yml: invalid: {exc}") from None


def _configured(table: Mapping[str, Any], source: str) -> dict[str, StageSpec]:
    stages = table.get("stages", {})
    if not isinstance(stages, dict):
        raise ConfigError(f"{source}: [stages] must be a table of stages")
    found: dict[str, StageSpec] = {}
    for name, spec in stages.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{source}: stages.{name} must be a table")
        try:
            found[name] = validate_options(StageSpec, f"stages.{name}", spec)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return found


def resolve_stage(
    name: str, table: Mapping[str, Any], config_file: Path | None, *, trusted: bool, target: Path
) -> Stage:
    """The stage ``name`` from the built-ins and ``table`` (the raw Bastion config table of
    ``config_file``); paths resolve against the config file's folder (else the current one).
    ``trusted`` is False for a config found in the scanned directory. :class:`UsageError` for a
    stage that exists nowhere, :class:`ConfigError` for an invalid table."""
    source = str(config_file) if config_file is not None else "command line"
    configured = _configured(table, source)
    builtin = builtin_stages()
    if name not in configured and name not in builtin:
        known = ", ".join(sorted({*builtin, *configured}))
        raise UsageError(
            f"--stage {name}: no such stage (known: {known}); add [stages.{name}] to bastion.toml"
        )
    base = builtin.get(name, StageSpec())
    own = configured.get(name)
    given = own.model_dump(exclude_unset=True) if own is not None else {}
    dropped: list[str] = []
    if not trusted:
        given, dropped = _untrusted(name, given, base, target, config_file)
    spec = base.model_copy(update=given)
    folder = config_file.parent if config_file is not None else Path.cwd()
    settings = {key: getattr(spec, key) for key in _SCAN_KEYS if getattr(spec, key) is not None}
    inputs = tuple(_under(folder, p) for p in (*spec.terraform_plan, *spec.manifests))
    for path in inputs:
        if not path.exists():
            raise ConfigError(f"{source}: stages.{name}: input {path} not found")
    return Stage(
        name=name,
        settings=settings,
        policies=tuple(_under(folder, p) for p in spec.policies),
        inputs=inputs,
        not_applied=tuple(dropped),
    )


def _under(folder: Path, item: str) -> Path:
    path = Path(item).expanduser()
    return path if path.is_absolute() else folder / path


def _untrusted(
    name: str, given: dict[str, Any], base: StageSpec, target: Path, config_file: Path | None
) -> tuple[dict[str, Any], list[str]]:
    """Keep only what a scanned repository may set in its own stage: stricter thresholds,
    policies (more checks) and inputs inside the target."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    floor = (
        Severity.parse(base.fail_on)
        if base.fail_on and base.fail_on not in {"none", "kev"}
        else Severity.HIGH
    )
    root = target.resolve() if target.is_dir() else target.resolve().parent
    folder = config_file.parent.resolve() if config_file is not None else root
    for key, value in given.items():
        if _may_set(key, value, floor, folder, root):
            kept[key] = value
        else:
            dropped.append(f"stages.{name}.{key}")
    return kept, dropped


def _may_set(key: str, value: Any, floor: Severity, folder: Path, root: Path) -> bool:
    """Whether an untrusted stage may set ``key`` to ``value``: it only adds checks or
    tightens the gate."""
    if key in {"description", "policies"}:
        return True
    if key == "strict":
        return value is True
    if key == "fail_on":
        text = str(value).strip().lower()
        return text not in {"none", "kev"} and Severity.parse(text) <= floor
    if key in {"terraform_plan", "manifests"}:
        return all(_inside(folder / p, root) for p in value)
    return False


def _inside(path: Path, root: Path) -> bool:
    resolved = path.resolve()
    return resolved == root or root in resolved.parents


def stage_for_scan(name: str, config_file: Path | None, *, trusted: bool, target: Path) -> Stage:
    """The stage ``bastion scan --stage NAME`` applies: built-ins plus ``[stages]`` of
    ``config_file`` (None: built-ins only); see :func:`resolve_stage`."""
    table: Mapping[str, Any] = {}
    if config_file is not None:
        from bastion.config import read_config_table  # config imports the scan engine; only when used

        table = read_config_table(config_file)
    return resolve_stage(name, table, config_file, trusted=trusted, target=target)
