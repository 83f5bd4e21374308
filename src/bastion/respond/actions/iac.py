"""Revert an IaC drift by proposing a change: a unified diff and a pull-request description
written to a folder, never applied. The drift alert's metadata carries ``path`` (the file, relative
to its repository), ``current`` (its text now) and ``expected`` (the approved text to go back to)."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion import atomic
from bastion.findings import Alert
from bastion.respond.actions.base import ActionError, Plan, TargetKind

__all__ = ["IacRevert"]


@dataclass
class IacRevert:
    """``iac-revert``."""

    out_dir: Path
    alert: Alert
    kind: TargetKind = TargetKind.NONE

    def _parts(self) -> tuple[str, str, str]:
        meta = self.alert.metadata
        path, current, expected = meta.get("path"), meta.get("current"), meta.get("expected")
        if not isinstance(path, str) or not isinstance(current, str) or not isinstance(expected, str):
            raise ActionError("iac-revert: the alert needs metadata path, current and expected (text)")
        if path.startswith("/") or ".." in Path(path).parts:
            raise ActionError(f"iac-revert: path {path!r} must be relative inside the repository")
        return path, current, expected

    def _files(self) -> tuple[Path, Path]:
        path, current, expected = self._parts()
        stem = hashlib.sha256(f"{path}\0{current}\0{expected}".encode()).hexdigest()[:12]
        return self.out_dir / f"revert-{stem}.patch", self.out_dir / f"revert-{stem}.md"

    def _patch(self) -> str:
        path, current, expected = self._parts()
        diff = difflib.unified_diff(
            current.splitlines(keepends=True), expected.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
        return "".join(diff)

    def _description(self) -> str:
        path, _, _ = self._parts()
        return (
            f"# Revert drift in {path}\n\n"
            f"Proposed by Bastion respond for an alert from `{self.alert.detector}` "
            f"({self.alert.severity.value}) on {self.alert.entity_kind} `{self.alert.entity}`.\n\n"
            f"{self.alert.explanation}\n\nApply with `git apply {self._files()[0].name}` after review. "
            "Bastion never applies this change itself.\n"
        )

    def plan(self, target: str) -> Plan:
        """The two files that would be written, and the diff."""
        patch, text = self._files()
        return Plan(
            "iac-revert",
            target,
            f"write {patch} and {text} (never applied)",
            (f"write {patch}:\n{self._patch()}", f"write {text}"),
        )

    def check(self, target: str) -> str:  # noqa: ARG002
        """``proposed`` when both files exist, else ``absent``."""
        return "proposed" if all(p.exists() for p in self._files()) else "absent"

    def apply(self, target: str) -> dict[str, Any]:
        """Write the patch and the description."""
        patch_text = self._patch()
        if not patch_text:
            raise ActionError(f"iac-revert: {self._parts()[0]} has no drift to revert")
        patch, text = self._files()
        existed = self.check(target) == "proposed"
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ActionError(f"iac-revert: cannot create {self.out_dir} ({exc.strerror})") from None
        atomic.write_text(patch, patch_text, what="patch")
        atomic.write_text(text, self._description(), what="pull-request description")
        return {"files": [str(patch), str(text)], "existed": existed}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:  # noqa: ARG002
        """Remove the two files (unless they were there before)."""
        if saved.get("existed"):
            return
        for name in saved.get("files", []):
            Path(name).unlink(missing_ok=True)
