"""CI helpers: pipeline stages, check selection, the pre-commit hook and report renderers.

The stage names are loaded on first use (PEP 562), so ``bastion scan`` without ``--stage`` does
not pay for the stage models at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.ci.stages import Stage, StageSpec, builtin_stages, resolve_stage, stage_for_scan

__all__ = ["Stage", "StageSpec", "builtin_stages", "resolve_stage", "stage_for_scan"]


def __getattr__(name: str) -> Any:
    """Import ``bastion.ci.stages`` when one of its names is first asked for."""
    if name in __all__:
        return getattr(importlib.import_module("bastion.ci.stages"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
