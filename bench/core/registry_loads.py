"""Count how many times one ``bastion scan`` loads scanner plug-ins from the registry.

Every load of a ``bastion.scanners`` entry point goes through ``EntryPoint.load``; this script
counts those calls during one in-process ``bastion scan`` (thread concurrency, so every load is
in this process) and prints the total and the per-scanner count.

    .venv/bin/python bench/core/registry_loads.py [PATH] [--scanners secrets,deps,sast,iac] [--staged]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
from importlib.metadata import EntryPoint
from typing import Any

from bastion.cli.main import main as bastion_main


def count_loads(path: str, scanners: str, extra: list[str]) -> collections.Counter[str]:
    """Run one scan of ``path`` and count scanner entry-point loads per scanner reference."""
    counts: collections.Counter[str] = collections.Counter()
    original = EntryPoint.load

    def counting(self: EntryPoint) -> Any:
        if self.group == "bastion.scanners":
            counts[self.value] += 1
        return original(self)

    EntryPoint.load = counting  # type: ignore[method-assign]
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            bastion_main(
                [
                    "scan",
                    path,
                    "--scanners",
                    scanners,
                    "--concurrency",
                    "thread",
                    "--jobs",
                    "2",
                    "--format",
                    "json",
                    "--fail-on",
                    "none",
                    *extra,
                ]
            )
    finally:
        EntryPoint.load = original  # type: ignore[method-assign]
    return counts


def main() -> None:
    """Parse arguments, count, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default="examples/demo-app")
    parser.add_argument("--scanners", default="secrets,deps,sast,iac")
    parser.add_argument("--staged", action="store_true", help="scan what is staged (history mode)")
    args = parser.parse_args()
    counts = count_loads(args.path, args.scanners, ["--staged"] if args.staged else [])
    selected = len(args.scanners.split(","))
    total = sum(counts.values())
    print(f"scanners selected: {selected}; entry-point loads: {total} ({total / selected:.1f} per scanner)")
    for reference, number in sorted(counts.items()):
        print(f"  {number}  {reference}")


if __name__ == "__main__":
    main()
