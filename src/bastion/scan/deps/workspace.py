"""What a manifest parser may read besides its own file: the other files of the target.

Its own module, below the parsers package, so each parser imports it without importing the
package that imports every parser (no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Workspace"]


@dataclass
class Workspace:
    """What a parser may look at besides its own file: other files of the target."""

    root: Path
    files: set[str] = field(default_factory=set)
    """Relative paths of every walked file."""

    def read(self, relpath: str) -> str | None:
        """Text of another file under the root, or None when absent or outside the root."""
        target = (self.root / relpath).resolve()
        root = self.root.resolve()
        if root != target and root not in target.parents:
            return None
        try:
            return target.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
