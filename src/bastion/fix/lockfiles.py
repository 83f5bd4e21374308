"""Refresh lockfiles with each ecosystem's own tool (``lockfiles.yml``), or say why not.

Bastion raises versions in manifests itself, but never writes a lockfile by hand: resolving
a dependency graph is the package manager's job. When the tool is installed it runs (only
with ``--write``), without a shell and with a timeout. It runs offline-safe: a first try uses
only what the machine holds (``offline`` flags: the tool's cache, a vendored or mirrored
registry), the registry is asked only when that fails, and waits for an unreachable registry
are bounded. Whatever keeps a lockfile from being refreshed (no tool, no registry, the tool's
own error, a dry run) is an outcome with its reason, never a silent pass: the terminal and the
pull request say "lockfile not refreshed: <reason>" and the command to run.
"""

from __future__ import annotations

import enum
import os
import shutil
import subprocess  # bastion: ignore[sast.bandit.B404] package managers run with argument lists, no shell
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["LockCommand", "RefreshOutcome", "RefreshStatus", "lock_command_for", "lock_commands", "refresh"]

TIMEOUT_S = 300
"""Per command; the tools' own network timeouts (``env``) end an unreachable registry sooner."""
_DETAIL = 300
_HEAD = 1000
"""How much of a lockfile's start is searched for an entry's ``header``."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lockfile: str = Field(min_length=3)
    tool: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    per_package: bool
    command: list[str] = Field(min_length=1)
    offline: list[str] = Field(default_factory=list)
    offline_env: dict[str, str] = Field(default_factory=dict)
    offline_when: Literal["first", "unreachable"] = "first"
    env: dict[str, str] = Field(default_factory=dict)
    registry: str = Field(min_length=1)
    unreachable: list[str] = Field(min_length=1)
    header: str = ""
    version: str = ""


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    lockfiles: list[_Entry] = Field(min_length=1)


@dataclass(frozen=True)
class LockCommand:
    """How one kind of lockfile is refreshed."""

    lockfile: str
    tool: str
    per_package: bool
    command: tuple[str, ...]
    registry: str = "its package registry"
    """Where the tool resolves from, as the reason names it (``crates.io``)."""
    offline: tuple[str, ...] = ()
    """Flags (added at the end) for a first try that uses only what the machine holds."""
    offline_env: Mapping[str, str] = field(default_factory=dict)
    """Environment of that offline try (``GOPROXY=off``)."""
    offline_first: bool = True
    """Try offline before the registry; False: only when the registry cannot be reached (npm,
    whose offline resolution of ranges may pick older cached versions than the registry would)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Defaults that bound network waits; a variable already set wins."""
    unreachable: tuple[str, ...] = ()
    """Output fragments that mean the registry could not be reached (matched case-insensitively)."""
    header: str = ""
    """When set, this command is for lockfiles whose start holds it (``# yarn lockfile v1``)."""
    version: str = ""
    """When set, what ``TOOL --version`` must start with (``1.``): another major would rewrite
    the lockfile in its own format."""

    def argv(self, package: str = "", target: str = "") -> list[str]:
        """The command with ``{package}`` and ``{target}`` filled in."""
        return [part.replace("{package}", package).replace("{target}", target) for part in self.command]

    @property
    def has_offline_try(self) -> bool:
        """Whether a first, offline try is made."""
        return bool(self.offline or self.offline_env)


def lock_commands() -> dict[str, LockCommand]:
    """Lockfile name (lower case) -> its refresh command (the one for no particular ``header``);
    ``ValueError`` if the shipped data is broken."""
    return {name: specs[-1] for name, specs in _all_commands().items()}


def lock_command_for(root: Path, lockfile: str) -> LockCommand | None:
    """The command for ``lockfile`` (relative to ``root``) as its content says: an entry whose
    ``header`` the file starts with (yarn classic's ``# yarn lockfile v1``), else the plain one."""
    specs = _all_commands().get(PurePosixPath(lockfile).name.lower(), [])
    if any(spec.header for spec in specs):
        try:
            with (root / lockfile).open(encoding="utf-8", errors="replace") as handle:
                head = handle.read(_HEAD)
        except OSError:
            head = ""
        specs = [spec for spec in specs if not spec.header or spec.header in head]
    return specs[0] if specs else None


@cache
def _all_commands() -> dict[str, list[LockCommand]]:
    """Lockfile name (lower case) -> its commands, those with a ``header`` first."""
    text = resources.files("bastion.fix").joinpath("lockfiles.yml").read_text(encoding="utf-8")
    try:
        document = _File.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ValueError(f"bastion/fix/lockfiles.yml: {exc.errors()[0]['msg']}") from None
    found: dict[str, list[LockCommand]] = {}
    for entry in document.lockfiles:
        if entry.command[0] != entry.tool:
            raise ValueError(
                f"bastion/fix/lockfiles.yml: {entry.lockfile}: command must start with {entry.tool}"
            )
        found.setdefault(entry.lockfile.lower(), []).append(
            LockCommand(
                entry.lockfile,
                entry.tool,
                entry.per_package,
                tuple(entry.command),
                registry=entry.registry,
                offline=tuple(entry.offline),
                offline_env=dict(entry.offline_env),
                offline_first=entry.offline_when == "first",
                env=dict(entry.env),
                unreachable=tuple(entry.unreachable),
                header=entry.header,
                version=entry.version,
            )
        )
    for name, specs in found.items():
        specs.sort(key=lambda spec: not spec.header)
        if specs[-1].header:
            raise ValueError(f"bastion/fix/lockfiles.yml: {name}: one entry must have no header")
    return found


class RefreshStatus(enum.Enum):
    """What became of one lockfile."""

    REFRESHED = "refreshed"
    DRY_RUN = "dry-run"
    """Nothing runs without ``--write``."""
    NO_TOOL = "no-tool"
    UNREACHABLE = "unreachable"
    """The tool could not reach its registry, and what the machine holds was not enough."""
    FAILED = "failed"


@dataclass(frozen=True)
class RefreshOutcome:
    """What happened to one lockfile."""

    lockfile: str
    """Relative path."""
    commands: tuple[str, ...]
    """The commands, as a person would type them."""
    status: RefreshStatus
    tool: str = ""
    detail: str = ""
    """The tool's last error line (``UNREACHABLE``, ``FAILED``)."""
    registry: str = ""
    offline: bool = False
    """Refreshed from what the machine holds, without the registry."""
    tried_offline: bool = False
    """An offline try came first (and was not enough)."""

    @property
    def refreshed(self) -> bool:
        """Whether the lockfile now matches the raised versions."""
        return self.status is RefreshStatus.REFRESHED

    def describe(self) -> str:
        """One line for the terminal and the pull-request text."""
        shown = " && ".join(f"`{c}`" for c in self.commands)
        if self.refreshed:
            where = " (offline, from what this machine holds)" if self.offline else ""
            return f"{self.lockfile}: refreshed with {shown}{where}"
        match self.status:
            case RefreshStatus.DRY_RUN:
                return f"{self.lockfile}: lockfile not refreshed: dry run; --write runs {shown}"
            case RefreshStatus.NO_TOOL:
                reason = f"{self.tool} is not installed"
            case RefreshStatus.UNREACHABLE:
                reason = f"{self.tool} could not reach {self.registry} ({self.detail})"
                if self.tried_offline:
                    reason += ", and this machine holds no copy of what it needs"
            case _:
                reason = f"{self.tool} failed: {self.detail}"
        return f"{self.lockfile}: lockfile not refreshed: {reason}; run {shown}"


def refresh(
    root: Path,
    lockfile: str,
    packages: Sequence[tuple[str, str]],
    *,
    run: bool,
    spec: LockCommand | None = None,
) -> RefreshOutcome | None:
    """Refresh ``lockfile`` (relative to ``root``) for ``packages`` ((name, target) pairs) when
    ``run`` and its tool is installed; ``spec`` overrides the command ``lockfiles.yml`` gives for
    the file's name. None when no tool is known for it."""
    spec = spec or lock_command_for(root, lockfile)
    if spec is None:
        return None
    argvs = [spec.argv(name, target) for name, target in packages] if spec.per_package else [spec.argv()]
    shown = tuple(" ".join(argv) for argv in argvs)
    base = RefreshOutcome(lockfile, shown, RefreshStatus.DRY_RUN, tool=spec.tool, registry=spec.registry)
    if not run:
        return base
    executable = shutil.which(spec.tool)
    if executable is None:
        return replace(base, status=RefreshStatus.NO_TOOL)
    cwd = (root / lockfile).parent
    if spec.version:
        status, output = _run([executable, "--version"], cwd, os.environ)
        found = output.strip().splitlines()[-1] if output.strip() else f"exit {status}"
        if status != 0 or not found.startswith(spec.version):
            detail = (
                f"this lockfile needs {spec.tool} {spec.version}x, and the {spec.tool} on PATH is {found}"
            )
            return replace(base, status=RefreshStatus.FAILED, detail=detail[:_DETAIL])
    all_offline = spec.has_offline_try
    for argv in argvs:
        command = [executable, *argv[1:]]
        if spec.has_offline_try and spec.offline_first and _offline(spec, command, cwd):
            continue
        status, output = _run(command, cwd, {**spec.env, **os.environ})
        if status == 0:
            all_offline = False
            continue
        failure, detail = _failure(spec, output, status)
        fallback = spec.has_offline_try and not spec.offline_first and failure is RefreshStatus.UNREACHABLE
        if fallback and _offline(spec, command, cwd):
            continue
        return replace(base, status=failure, detail=detail, tried_offline=spec.has_offline_try)
    return replace(base, status=RefreshStatus.REFRESHED, offline=all_offline)


def _offline(spec: LockCommand, command: list[str], cwd: Path) -> bool:
    """Whether ``command`` succeeded with only what the machine holds (``spec.offline``)."""
    status, _ = _run(command + list(spec.offline), cwd, {**os.environ, **spec.offline_env})
    return status == 0


def _run(argv: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, str]:
    """Exit status and stderr+stdout of ``argv`` (-1 when it could not start or timed out)."""
    try:
        done = subprocess.run(  # bastion: ignore[sast.bandit.B603] argv from lockfiles.yml, no shell
            argv,
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
            encoding="utf-8",
            errors="replace",
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return -1, f"no answer within {TIMEOUT_S} s"
    except OSError as exc:
        return -1, str(exc)
    return done.returncode, "\n".join(part for part in (done.stderr, done.stdout) if part)


def _failure(spec: LockCommand, output: str, status: int) -> tuple[RefreshStatus, str]:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    network = [line for line in lines if any(f.lower() in line.lower() for f in spec.unreachable)]
    if network:  # the most telling line: the longest (cargo's curl error, npm's FetchError)
        return RefreshStatus.UNREACHABLE, max(network, key=len)[:_DETAIL]
    last = lines[-1] if lines else f"exit {status}"
    return RefreshStatus.FAILED, last[:_DETAIL]
