"""The distributions installed in a Python environment (``bastion scan --env PYTHON``)."""

from __future__ import annotations

import json
import shutil
import subprocess  # bastion: ignore[sast.bandit.B404] runs the named interpreter with a fixed argv, no shell
from pathlib import Path

from bastion.errors import InputError
from bastion.scan.deps.model import Package, ParseResult

__all__ = ["environment_packages"]

TIMEOUT_S = 60
_SCRIPT = (
    "import importlib.metadata as m, json;"
    "print(json.dumps(sorted({(d.metadata['Name'] or '', d.version or '') for d in m.distributions()})))"
)


def environment_packages(python: str) -> ParseResult:
    """Every distribution the interpreter ``python`` sees; :class:`InputError` if it cannot run."""
    exe = shutil.which(python) or (python if Path(python).is_file() else None)
    if exe is None:
        raise InputError(f"{python}: no such Python interpreter")
    try:
        proc = subprocess.run(  # bastion: ignore[sast.bandit.B603] the user's interpreter, a fixed script
            [exe, "-I", "-c", _SCRIPT], capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"{python}: cannot list installed distributions ({exc})") from None
    if proc.returncode != 0:
        last = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise InputError(f"{python}: cannot list installed distributions ({last[0]})")
    try:
        pairs = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise InputError(f"{python}: unexpected output while listing distributions") from None
    result = ParseResult()
    where = f"env:{python}"
    for name, version in pairs:
        if name:
            result.packages.append(
                Package(
                    "PyPI",
                    name,
                    version or None,
                    where,
                    None,
                    None,
                    None if version else "no version in its metadata",
                )
            )
    return result
