"""Configuration: ``bastion.toml`` or ``[tool.bastion]`` in pyproject.toml, validated by pydantic.

Every ``bastion scan`` flag has a twin key in the ``[scan]`` table; per-scanner options
live in ``[scanners.NAME]``. Precedence: command line, then the file, then defaults.
An unknown key or a wrong type is one :class:`~bastion.errors.ConfigError` line that
names the file, the key and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ByteSize, ConfigDict, Field, ValidationError, field_validator

from bastion.errors import ConfigError, InputError
from bastion.findings import Confidence, Severity
from bastion.report.formats import ReportFormat
from bastion.scan.base import HistoryMode, HistorySpec
from bastion.scan.engine import Concurrency
from bastion.structured import read_toml
from bastion.validation import first_error, is_unknown_key, reason_of

__all__ = [
    "BROKER_ENV",
    "BastionConfig",
    "JobsConfig",
    "ScanConfig",
    "find_config_file",
    "load_config",
    "load_repo_config",
    "resolve_broker",
]

CONFIG_FILE = "bastion.toml"
BROKER_ENV = "BASTION_BROKER_URL"

FailOn = Severity | Literal["none", "kev"]
PATH_KEYS = ("output", "baseline", "write_baseline")
SCANNER_PATH_LIST_KEYS = ("rules", "semgrep_rules", "policies")
"""Keys of ``[scanners.NAME]`` tables that list paths; resolved against the config file too."""
SCANNER_PATH_KEYS = ("database",)
"""Keys of ``[scanners.NAME]`` tables that hold one path (the deps advisory database)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class IgnoreEntry(_Strict):
    """One ``[[scan.ignore]]`` table: rules silenced under some paths, and why."""

    paths: list[str] = Field(min_length=1)
    rules: list[str] = Field(min_length=1)
    reason: str = Field(min_length=3)


class ScanConfig(_Strict):
    """The ``[scan]`` table: one key per ``bastion scan`` flag."""

    scanners: list[str] | None = None
    """Scanner names to run; all installed when unset."""
    exclude: list[str] = Field(default_factory=list)
    """gitignore-style patterns to leave out, relative to the target."""
    max_file_size: ByteSize = ByteSize(5_000_000)
    """Skip larger files (bytes, or a string such as ``"5MB"``)."""
    gitignore: bool = True
    """Honour .gitignore files."""
    fail_on: FailOn = Severity.HIGH
    """Lowest severity that fails the run, ``"none"``, or ``"kev"`` (only known-exploited findings)."""
    strict: bool = False
    """Fail the run when anything could not be checked (a skipped package or scanner)."""
    min_confidence: Confidence = Confidence.LOW
    """Findings below this confidence are dropped."""
    format: ReportFormat = ReportFormat.TABLE
    output: Path | None = None
    baseline: Path | None = None
    write_baseline: Path | None = None
    concurrency: Concurrency = Concurrency.PROCESS
    jobs: int = Field(default=0, ge=0)
    """Workers; 0 means one per CPU."""
    quiet: bool = False
    verbose: bool = False
    git_history: bool = False
    """Scan every commit reachable from every ref (history-aware scanners: secrets)."""
    since: str | None = None
    """With git_history: only commits after this revision."""
    staged: bool = False
    """Scan what is staged for the next commit (pre-commit hooks)."""
    ignore: list[IgnoreEntry] = Field(default_factory=list)
    """Rules silenced under some paths, each with a reason (config only, no flag)."""

    @field_validator("fail_on", mode="before")
    @classmethod
    def _parse_fail_on(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower()
            if text in {"none", "kev"}:
                return text
            try:
                return Severity.parse(text)
            except ValueError:
                choices = ", ".join(s.value for s in Severity)
                raise ValueError(f"choose from {choices}, kev or none") from None
        return value

    @property
    def history(self) -> HistorySpec | None:
        """The git history the flags ask for, or None for the working tree."""
        if self.staged:
            return HistorySpec(HistoryMode.STAGED)
        if self.since:
            return HistorySpec(HistoryMode.SINCE, self.since)
        if self.git_history:
            return HistorySpec(HistoryMode.ALL)
        return None

    @property
    def threshold(self) -> Severity | None:
        """``fail_on`` as a severity, or None for ``"none"`` and ``"kev"``."""
        return self.fail_on if isinstance(self.fail_on, Severity) else None

    @property
    def fail_on_kev(self) -> bool:
        """True for ``--fail-on kev``: only findings in the CISA KEV catalog fail the run."""
        return self.fail_on == "kev"


class JobsConfig(_Strict):
    """The ``[jobs]`` table: where scan jobs and event streams go past one process."""

    broker: str | None = None
    """Broker URL (``redis://...`` for the task queue and streams, ``nats://...`` for streams);
    unset: everything runs in-process. ``$BASTION_BROKER_URL`` overrides it."""


class BastionConfig(_Strict):
    """The whole configuration file."""

    scan: ScanConfig = Field(default_factory=ScanConfig)
    scanners: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Options for individual scanners, ``[scanners.sast] semgrep_rules = [...]``."""
    stages: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Pipeline stages, ``[stages.deploy] fail_on = "medium"``; validated by :mod:`bastion.ci.stages`."""
    coverage: dict[str, Any] = Field(default_factory=dict)
    """Coverage gate defaults, ``[coverage] min = 80``; validated by :mod:`bastion.coverage.settings`."""
    jobs: JobsConfig = Field(default_factory=JobsConfig)


def resolve_broker(
    flag: str | None, config: BastionConfig | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The one place the broker is chosen: ``--broker``, else ``$BASTION_BROKER_URL``, else
    ``[jobs] broker`` of ``config``, else None (in-process). Blank values count as unset."""
    env = os.environ if environ is None else environ
    for value in (flag, env.get(BROKER_ENV), config.jobs.broker if config is not None else None):
        if value is not None and value.strip():
            return value.strip()
    return None


def find_config_file(target: Path) -> Path | None:
    """The config file that applies to ``target``: bastion.toml, else pyproject.toml with a
    ``[tool.bastion]`` table, looked up in the target directory (or a file's parent)."""
    base = target if target.is_dir() else target.parent
    candidate = base / CONFIG_FILE
    if candidate.is_file():
        return candidate
    pyproject = base / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = read_toml(pyproject)
        except InputError:
            return None  # not ours to judge; a broken pyproject without our table is no config
        if isinstance(data.get("tool"), dict) and "bastion" in data["tool"]:
            return pyproject
    return None


def read_config_table(path: Path) -> dict[str, Any]:
    """The raw Bastion table of a config file; :class:`ConfigError` if unreadable."""
    data = read_toml(path, what="config file", error=ConfigError)
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("bastion", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.bastion] must be a table")
        return table
    return data


def load_config(path: Path | None, overrides: Mapping[str, Any] | None = None) -> BastionConfig:
    """Read and validate ``path`` (None for defaults), then apply ``[scan]`` overrides.

    ``overrides`` are command-line values; keys whose value is None are ignored.
    """
    raw = read_config_table(path) if path is not None else {}
    return _validate(raw, path, overrides)


def _validate(raw: dict[str, Any], path: Path | None, overrides: Mapping[str, Any] | None) -> BastionConfig:
    """Resolve the paths of a raw config table against its file, apply overrides and validate."""
    raw = dict(raw)
    scan = dict(raw.get("scan", {})) if isinstance(raw.get("scan", {}), dict) else raw.get("scan")
    if isinstance(scan, dict) and path is not None:
        # Paths in a config file are relative to the file, not to wherever bastion runs.
        for key in PATH_KEYS:
            if isinstance(scan.get(key), str) and not Path(scan[key]).is_absolute():
                scan[key] = str(path.parent / scan[key])
    if path is not None and isinstance(raw.get("scanners"), dict):
        raw["scanners"] = {
            name: _resolve_path_lists(table, path.parent) if isinstance(table, dict) else table
            for name, table in raw["scanners"].items()
        }
    if isinstance(scan, dict) and overrides:
        scan.update({k: v for k, v in overrides.items() if v is not None})
    merged = {**raw, "scan": scan if scan is not None else {}}
    source = str(path) if path is not None else "command line"
    try:
        return BastionConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_one_line(source, exc, overrides or {})) from None


def _resolve_path_lists(table: dict[str, Any], base: Path) -> dict[str, Any]:
    resolved = dict(table)
    for key in SCANNER_PATH_LIST_KEYS:
        value = resolved.get(key)
        if isinstance(value, list):
            resolved[key] = [
                str(base / item)
                if isinstance(item, str) and not Path(item).expanduser().is_absolute()
                else item
                for item in value
            ]
    for key in SCANNER_PATH_KEYS:
        value = resolved.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            resolved[key] = str(base / value)
    return resolved


def _one_line(source: str, exc: ValidationError, overrides: Mapping[str, Any]) -> str:
    error = first_error(exc)
    loc = [str(part) for part in error["loc"]]
    # Union members add their own names to the location; keep only the key path.
    key_parts = [p for p in loc if p != "Severity" and not p.startswith(("literal[", "function-"))]
    key = ".".join(key_parts) or "(root)"
    reason = reason_of(error)
    if len(key_parts) == 2 and key_parts[0] == "scan" and overrides.get(key_parts[1]) is not None:
        source = "command line"
        key = "--" + key_parts[1].replace("_", "-")
    value = error.get("input")
    shown = f" (got {value!r})" if not is_unknown_key(error) and not isinstance(value, dict) else ""
    extra = f" [{len(exc.errors()) - 1} more]" if len(exc.errors()) > 1 else ""
    return f"{source}: {key}: {reason}{shown}{extra}"


TRUST_FLAG = "--trust-repo-config"

# What a config file found in the scanned directory may set without the operator's trust
# (--trust-repo-config or --config FILE): keys that change nothing about what is checked or
# where Bastion writes, and keys that can only make the gate stricter. Everything else there
# (fail_on above the default, ignore, exclude, scanners, output, baseline, write_baseline,
# since, staged, min_confidence, a smaller max_file_size, [scanners.NAME] keys that disable
# checks) could hide a finding or send a file where the scanned code chooses.
_REPO_NEUTRAL_KEYS = frozenset(
    {"format", "quiet", "verbose", "concurrency", "jobs", "gitignore", "git_history", "strict"}
)
_REPO_SCANNER_KEYS: Mapping[str, frozenset[str]] = {
    "secrets": frozenset({"rules"}),
    "iac": frozenset({"policies"}),
    "sast": frozenset({"semgrep_rules"}),
    "deps": frozenset({"stale_days"}),
}
"""``[scanners.NAME]`` keys a scanned repository may set: extra rules and policies only add checks."""


def _tightens(key: str, config: ScanConfig, default: ScanConfig) -> bool:
    """Whether the repository's value of ``key`` keeps the gate at least as strict as the default."""
    if key in _REPO_NEUTRAL_KEYS:
        return True
    if key == "fail_on":
        threshold, floor = config.threshold, default.threshold
        return threshold is not None and floor is not None and threshold <= floor
    if key == "min_confidence":
        return config.min_confidence.rank <= default.min_confidence.rank
    if key == "max_file_size":
        return int(config.max_file_size) >= int(default.max_file_size)
    return False


def load_repo_config(
    path: Path, overrides: Mapping[str, Any] | None = None, *, verify: bool = False
) -> tuple[BastionConfig, list[str]]:
    """Load a config file found in the scanned directory without trusting it.

    Settings that could relax the gate or choose where Bastion writes are left out; returns the
    configuration and the dotted keys not applied (``scan.fail_on``, ``scanners.iac.disable``),
    so the caller can say so. :class:`ConfigError` for an invalid file, as :func:`load_config`,
    and for the keys :func:`check_discovered_config` refuses outright.
    """
    full = load_config(path, overrides)
    check_discovered_config(full, path, verify)
    raw = read_config_table(path)
    given = {k for k, v in (overrides or {}).items() if v is not None}
    scan = raw.get("scan", {})
    default = ScanConfig()
    dropped: list[str] = []
    kept_scan: dict[str, Any] = {}
    for key, value in scan.items():
        if key in given or _tightens(key, full.scan, default):
            kept_scan[key] = value
        else:
            dropped.append(f"scan.{key}")
    kept_scanners: dict[str, Any] = {}
    for name, table in (raw.get("scanners") or {}).items():
        allowed = _REPO_SCANNER_KEYS.get(name, frozenset())
        kept_scanners[name] = {k: v for k, v in table.items() if k in allowed}
        dropped.extend(f"scanners.{name}.{k}" for k in table if k not in allowed)
    if not dropped:
        return full, []
    trimmed = {**raw, "scan": kept_scan, "scanners": kept_scanners}
    return _validate(trimmed, path, overrides), dropped


# Keys a configuration found inside the scanned directory may not set: they would let an
# untrusted repository send the secrets Bastion finds (a developer's untracked .env, say)
# to a host of its choosing. The operator sets them with flags or an explicit --config.
_OPERATOR_ONLY = ("verify", "verify_base_urls")


def check_discovered_config(config: BastionConfig, path: Path, verify: bool) -> None:
    """Refuse settings in a config file found in the scanned directory that only the
    operator may make; ``verify`` is whether live verification is on (``--verify``)."""
    secrets = config.scanners.get("secrets", {})
    for key in _OPERATOR_ONLY:
        if key in secrets:
            raise ConfigError(
                f"{path}: scanners.secrets.{key}: not accepted from the scanned directory's config "
                "(it could send found secrets elsewhere); pass --verify, or the file with --config"
            )
    for key in ("python_env", "sbom"):
        if key in config.scanners.get("deps", {}):
            raise ConfigError(
                f"{path}: scanners.deps.{key}: not accepted from the scanned directory's config "
                "(it would run a program or replace what is scanned); pass --env or --sbom"
            )
    if verify and secrets.get("rules"):
        raise ConfigError(
            f"{path}: scanners.secrets.rules: rule files from the scanned directory cannot be used "
            "with --verify (their verifiers would receive the secrets); pass --rules instead"
        )
