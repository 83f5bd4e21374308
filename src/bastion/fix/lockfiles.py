"""Refresh lockfiles with each ecosystem's own tool (``lockfiles.yml``), or say how to.

Bastion raises versions in manifests itself, but never writes a lockfile by hand: resolving
a dependency graph is the package manager's job. When the tool is installed it runs (only
with ``--write``), without a shell and with a timeout; when it is not, the outcome is a note
naming the command, so the pull request says what is left to do.
"""

from __future__ import annotations

import shutil
import subprocess  # bastion: ignore[sast.bandit.B404] package managers run with argument lists, no shell
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["LockCommand", "RefreshOutcome", "lock_commands", "refresh"]

TIMEOUT_S = 600


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lockfile: str = Field(min_length=3)
    tool: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    per_package: bool
    command: list[str] = Field(min_length=1)


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

    def argv(self, package: str = "", target: str = "") -> list[str]:
        """The command with ``{package}`` and ``{target}`` filled in."""
        return [part.replace("{package}", package).replace("{target}", target) for part in self.command]


@cache
def lock_commands() -> dict[str, LockCommand]:
    """Lockfile name (lower case) -> its refresh command; ``ValueError`` if the shipped data is broken."""
    text = resources.files("bastion.fix").joinpath("lockfiles.yml").read_text(encoding="utf-8")
    try:
        document = _File.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ValueError(f"bastion/fix/lockfiles.yml: {exc.errors()[0]['msg']}") from None
    found: dict[str, LockCommand] = {}
    for entry in document.lockfiles:
        if entry.command[0] != entry.tool:
            raise ValueError(
                f"bastion/fix/lockfiles.yml: {entry.lockfile}: command must start with {entry.tool}"
            )
        found[entry.lockfile.lower()] = LockCommand(
            entry.lockfile, entry.tool, entry.per_package, tuple(entry.command)
        )
    return found


@dataclass(frozen=True)
class RefreshOutcome:
    """What happened to one lockfile."""

    lockfile: str
    """Relative path."""
    commands: tuple[str, ...]
    """The commands, as a person would type them."""
    ran: bool
    """True when the tool ran (and succeeded, unless ``error``)."""
    error: str = ""

    def describe(self) -> str:
        """One line for the terminal and the pull-request text."""
        shown = " && ".join(f"`{c}`" for c in self.commands)
        if self.error:
            return f"{self.lockfile}: {shown} failed: {self.error}"
        if self.ran:
            return f"{self.lockfile}: refreshed with {shown}"
        return f"{self.lockfile}: run {shown} to refresh it"


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
    spec = spec or lock_commands().get(PurePosixPath(lockfile).name.lower())
    if spec is None:
        return None
    argvs = [spec.argv(name, target) for name, target in packages] if spec.per_package else [spec.argv()]
    shown = tuple(" ".join(argv) for argv in argvs)
    executable = shutil.which(spec.tool)
    if not run or executable is None:
        return RefreshOutcome(lockfile, shown, ran=False)
    cwd = (root / lockfile).parent
    for argv in argvs:
        try:
            done = subprocess.run(  # bastion: ignore[sast.bandit.B603] argv from lockfiles.yml, no shell
                [executable, *argv[1:]],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                check=False,
                encoding="utf-8",
                errors="replace",
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return RefreshOutcome(lockfile, shown, ran=False, error=str(exc))
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            return RefreshOutcome(lockfile, shown, ran=False, error=reason[:300])
    return RefreshOutcome(lockfile, shown, ran=True)
