"""A module of ``src/bastion`` as committed at an earlier revision, imported beside the current one,
so a bench can run old and new code alternately in one process."""

from __future__ import annotations

import importlib.util
import subprocess  # bastion: ignore[sast.bandit.B404] git show of a revision, fixed argv
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def module_at(revision: str, source: str) -> ModuleType:
    """``source`` (e.g. ``src/bastion/store/queries.py``) as committed at ``revision``, imported as
    ``bench_<name>_before`` from a copy under build/bench-server/."""
    text = subprocess.run(  # bastion: ignore[sast.bandit.B603,sast.bandit.B607] git from PATH
        ["git", "show", f"{revision}:{source}"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    stem = Path(source).stem
    path = ROOT / "build/bench-server" / f"{stem}_before.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    spec = importlib.util.spec_from_file_location(f"bench_{stem}_before", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: cannot be loaded as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
