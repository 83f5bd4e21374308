"""Turn an upgrade plan into edited manifest texts, a diff and lockfile refreshes.

Nothing is written unless :func:`write_changes` is called (``bastion fix --write``); the plan,
the diff and the pull-request text are computed from in-memory copies of the manifests.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bastion.atomic import write_text
from bastion.fix.compiled import compile_command
from bastion.fix.lockfiles import LockCommand, RefreshOutcome, lock_command_for, lock_commands, refresh
from bastion.fix.manifests import Bump, edit_manifest, manifest_for
from bastion.fix.plan import Upgrade
from bastion.structured import read_text

__all__ = ["Applied", "FixResult", "build_fix", "refresh_lockfiles", "write_changes"]


@dataclass(frozen=True)
class Applied:
    """What the fix did for one upgrade."""

    upgrade: Upgrade
    manifest: str | None
    """The manifest edited, or None when none was."""
    note: str = ""
    """Why the manifest was not edited (or what else to know)."""


@dataclass
class FixResult:
    """The whole fix: per-upgrade outcomes, the new manifest texts, and lockfile refreshes."""

    root: Path
    applied: list[Applied] = field(default_factory=list)
    before: dict[str, str] = field(default_factory=dict)
    """Manifest path -> text as found."""
    after: dict[str, str] = field(default_factory=dict)
    """Manifest path -> text with the upgrades applied (only manifests that changed)."""
    lockfiles: list[RefreshOutcome] = field(default_factory=list)

    @property
    def fixed(self) -> list[Applied]:
        """Upgrades applied to a manifest, or left to a lockfile refresh that raises them."""
        return [a for a in self.applied if a.manifest is not None or self._lock_handles(a)]

    @property
    def unfixed(self) -> list[Applied]:
        """Upgrades this fix does not make: no fixed version, or no manifest or lockfile to change."""
        fixed = {id(a) for a in self.fixed}
        return [a for a in self.applied if id(a) not in fixed]

    def _lock_handles(self, applied: Applied) -> bool:
        spec = lock_command_for(self.root, applied.upgrade.path)
        return applied.upgrade.target is not None and spec is not None and spec.per_package

    def diff(self) -> str:
        """A unified diff of every changed manifest, paths relative to the root (``git apply`` ready)."""
        chunks: list[str] = []
        for path in sorted(self.after):
            chunks.extend(
                difflib.unified_diff(
                    self.before[path].splitlines(keepends=True),
                    self.after[path].splitlines(keepends=True),
                    fromfile=f"a/{path}",
                    tofile=f"b/{path}",
                )
            )
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in chunks
        )


def build_fix(root: Path, upgrades: Sequence[Upgrade]) -> FixResult:
    """Apply ``upgrades`` to in-memory copies of the manifests under ``root``."""
    result = FixResult(root)
    for upgrade in upgrades:
        if upgrade.target is None:
            result.applied.append(Applied(upgrade, None, _no_target(upgrade)))
            continue
        bump = Bump(upgrade.ecosystem, upgrade.package, upgrade.current, upgrade.target, upgrade.path)
        notes: list[str] = []
        for manifest in _candidates(root, manifest_for(upgrade.path)):
            if manifest not in result.before:
                result.before[manifest] = read_text(root / manifest, what="manifest")
            outcome = edit_manifest(manifest, result.after.get(manifest, result.before[manifest]), bump)
            if outcome.text is None:
                notes.append(f"{manifest}: {outcome.note}")
                continue
            if outcome.text != result.before[manifest]:
                result.after[manifest] = outcome.text
            result.applied.append(Applied(upgrade, manifest, outcome.note))
            break
        else:
            note = "; ".join(notes) or f"{manifest_for(upgrade.path)} not found next to {upgrade.path}"
            result.applied.append(Applied(upgrade, None, note))
    return result


def _candidates(root: Path, manifest: str) -> list[str]:
    """The manifest, then for a Maven module its parent poms (a version managed in a parent's
    dependencyManagement or properties is raised there), each only if it exists."""
    found = [manifest] if _inside(root, manifest) else []
    if PurePosixPath(manifest).name == "build.gradle" and _inside(root, f"{manifest}.kts"):
        found.append(f"{manifest}.kts")  # the Kotlin DSL
    if PurePosixPath(manifest).name.lower() == "packages.lock.json":
        folder = PurePosixPath(manifest).parent
        projects = sorted((root / folder).glob("*.*proj")) + sorted(
            (root / folder).glob("Directory.Packages.props")
        )
        found = [str(folder / p.name) if str(folder) != "." else p.name for p in projects]
        found = [path for path in found if _inside(root, path)]
    if PurePosixPath(manifest).name == "pom.xml":
        folder = PurePosixPath(manifest).parent
        for _ in range(3):  # module -> parent -> grandparent is as deep as real builds go
            if folder == PurePosixPath("."):
                break
            folder = folder.parent
            parent = str(folder / "pom.xml") if str(folder) != "." else "pom.xml"
            if _inside(root, parent):
                found.append(parent)
    return found


def _inside(root: Path, relpath: str) -> bool:
    """A regular file under ``root`` once links are followed: a manifest that is a symlink to
    somewhere else is neither read nor rewritten."""
    path = root / relpath
    base = root.resolve()
    return path.is_file() and base in path.resolve().parents


def _no_target(upgrade: Upgrade) -> str:
    if any(a.fixed_versions for a in upgrade.advisories):
        return "no single version fixes every known advisory of it: upgrade by hand or mitigate"
    return "no fixed version is known: remove it or mitigate"


def refresh_lockfiles(result: FixResult, *, run: bool) -> None:
    """Refresh (``run``) or describe refreshing every lockfile an upgrade came from."""
    by_lockfile: dict[str, list[tuple[str, str]]] = {}
    compiled: dict[str, LockCommand] = {}
    for applied in result.applied:
        upgrade = applied.upgrade
        if upgrade.target is None:
            continue
        command = compile_command(result.root, upgrade.path) if applied.manifest == upgrade.path else None
        if command is not None:
            compiled[upgrade.path] = command
        if command is not None or PurePosixPath(upgrade.path).name.lower() in lock_commands():
            by_lockfile.setdefault(upgrade.path, []).append((upgrade.package, upgrade.target))
    for lockfile, packages in sorted(by_lockfile.items()):
        outcome = refresh(result.root, lockfile, sorted(set(packages)), run=run, spec=compiled.get(lockfile))
        if outcome is not None:
            result.lockfiles.append(outcome)


def write_changes(result: FixResult) -> list[str]:
    """Write every changed manifest in place, each replaced whole or not at all (the one atomic
    writer); the paths written. :class:`InputError` naming the file when one cannot be written."""
    written = []
    for path, text in sorted(result.after.items()):
        write_text(result.root / path, text, what="manifest")
        written.append(path)
    return written
