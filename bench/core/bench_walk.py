"""Time ``bastion.scan.walk.walk`` on a large tree against plain-Python and ``find`` baselines.

Run from the repo root after ``bash bench/core/make_tree.sh``::

    .venv/bin/python bench/core/bench_walk.py                 # 3 repetitions
    .venv/bin/python bench/core/bench_walk.py --reps 5 --tree bench/core/.tree/big
    .venv/bin/python bench/core/bench_walk.py --profile       # + cProfile of one walk

Every variant runs once per repetition, interleaved, on a warm page cache (the tree
is read once before timing; dropping caches would need root and disturb a shared
machine). The report gives median and min wall time, files/s and MB/s of files kept
and of files seen (kept + skipped), and each Bastion variant's ratio to the
``os.walk`` + 8 KiB sniff baseline.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess  # bastion: ignore[sast.bandit.B404] runs find(1) as the walk's speed floor
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bastion.scan.walk import SNIFF_BYTES, WalkOptions, walk

HERE = Path(__file__).resolve().parent
MAX_SIZE = WalkOptions().max_file_size
PYC_GITIGNORE = "*.pyc\n__pycache__/\n"
# Patterns from a typical Python project's .gitignore that match nothing in site-packages:
# the pure cost of checking every path against a root .gitignore.
TYPICAL_GITIGNORE = "\n".join(
    [
        ".venv/",
        "venv/",
        "build/",
        "dist/",
        "*.egg-info/",
        ".eggs/",
        ".tox/",
        ".nox/",
        ".coverage",
        "htmlcov/",
        ".pytest_cache/",
        ".mypy_cache/",
        ".ruff_cache/",
        "*.log",
        ".env",
        ".idea/",
        ".vscode/",
        "*.swp",
        "node_modules/",
        "out.sarif",
    ]
)


@dataclass
class Outcome:
    """What one variant saw: files kept, bytes kept, files seen (kept + skipped)."""

    kept: int
    kept_bytes: int
    seen: int


@dataclass
class Variant:
    name: str
    run: Callable[[Path], Outcome]
    gitignore: str = ""
    times: list[float] | None = None
    outcome: Outcome | None = None


def bastion(options: WalkOptions) -> Callable[[Path], Outcome]:
    def run(tree: Path) -> Outcome:
        result = walk(tree, options)
        return Outcome(len(result.files), result.bytes_total, len(result.files) + len(result.notices))

    return run


def os_walk_list(tree: Path) -> Outcome:
    """Listing + lstat only: the floor for any Python walker that checks sizes."""
    kept = kept_bytes = 0
    for dirpath, _dirs, names in os.walk(tree):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            kept += 1
            kept_bytes += st.st_size
    return Outcome(kept, kept_bytes, kept)


def os_walk_sniff(tree: Path) -> Outcome:
    """os.walk + lstat + read the first 8 KiB of every non-empty file within the size limit.

    The minimal work of any walker that skips binaries by sniffing, with Bastion's
    semantics (no .gitignore, size limit, NUL byte => binary), in the tightest plain Python.
    """
    kept = kept_bytes = seen = 0
    for dirpath, _dirs, names in os.walk(tree):
        for name in names:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            seen += 1
            if st.st_size > MAX_SIZE:
                continue
            if st.st_size:
                with open(path, "rb") as handle:
                    if b"\0" in handle.read(SNIFF_BYTES):
                        continue
            kept += 1
            kept_bytes += st.st_size
    return Outcome(kept, kept_bytes, seen)


def proto_walk(tree: Path) -> Outcome:
    """Prototype of the suggested walk fast path (NOT in src/): same result as Bastion's
    walk on a tree without .gitignore files, but str paths instead of pathlib during the
    walk, a Path built only for kept files, os.open/os.read for the sniff, and a
    .gitignore looked up in the directory listing instead of open()-and-fail per directory.
    """
    kept: list[tuple[Path, str, int]] = []
    kept_bytes = seen = 0
    stack = [(str(tree), "")]
    while stack:
        directory, rel_dir = stack.pop()
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
        if any(e.name == ".gitignore" for e in entries):
            raise NotImplementedError("prototype covers the no-.gitignore path only")
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in {".git", ".hg", ".svn"}:
                    subdirs.append((entry.path, rel))
                continue
            seen += 1
            st = entry.stat(follow_symlinks=False)
            if st.st_size > MAX_SIZE:
                continue
            if st.st_size:
                fd = os.open(entry.path, os.O_RDONLY)
                try:
                    if b"\0" in os.read(fd, SNIFF_BYTES):
                        continue
                finally:
                    os.close(fd)
            kept.append((Path(entry.path), rel, st.st_size))
            kept_bytes += st.st_size
        stack.extend(reversed(subdirs))
    return Outcome(len(kept), kept_bytes, seen)


def find_floor(tree: Path) -> Outcome:
    """``find TREE -type f``: C-speed listing, no reads; a floor, not a competitor."""
    out = subprocess.run(  # bastion: ignore[sast.bandit.B603,sast.bandit.B607] find(1) from PATH, fixed argv
        ["find", str(tree), "-type", "f", "-print0"], check=True, capture_output=True
    ).stdout
    count = out.count(b"\0")
    return Outcome(count, 0, count)


def variants() -> list[Variant]:
    return [
        Variant("find -type f, wc -l (floor)", find_floor),
        Variant("os.walk + lstat (no reads)", os_walk_list),
        Variant("os.walk + lstat + 8 KiB sniff (baseline)", os_walk_sniff),
        Variant("bastion walk, no .gitignore", bastion(WalkOptions())),
        Variant("bastion walk, respect_gitignore=False", bastion(WalkOptions(respect_gitignore=False))),
        Variant(
            "bastion walk, root .gitignore: 20 typical non-matching patterns",
            bastion(WalkOptions()),
            gitignore=TYPICAL_GITIGNORE,
        ),
        Variant(
            "bastion walk, root .gitignore: *.pyc __pycache__/",
            bastion(WalkOptions()),
            gitignore=PYC_GITIGNORE,
        ),
        Variant(
            "bastion walk, exclude=('*.pyc','__pycache__/')",
            bastion(WalkOptions(exclude=("*.pyc", "__pycache__/"))),
        ),
        Variant("prototype fast path (bench only, see proto_walk)", proto_walk),
    ]


def timed(variant: Variant, tree: Path) -> float:
    ignore = tree / ".gitignore"
    if variant.gitignore:
        ignore.write_text(variant.gitignore)
    try:
        start = time.perf_counter()
        outcome = variant.run(tree)
        elapsed = time.perf_counter() - start
    finally:
        ignore.unlink(missing_ok=True)
    variant.outcome = outcome
    return elapsed


def tree_size(tree: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(tree):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(dirpath, name)).st_size
    return files, size


def warm(tree: Path) -> None:
    """Read every file's sniff window once so that every variant starts equally warm."""
    os_walk_sniff(tree)


def report(tree: Path, runs: list[Variant], reps: int) -> None:
    files, size = tree_size(tree)
    print(f"tree: {tree}  files: {files}  bytes: {size} ({size / 1e6:.0f} MB)  reps: {reps}")
    print(f"max_file_size: {MAX_SIZE}  sniff: {SNIFF_BYTES} B  cache: warm\n")
    baseline = next(v for v in runs if "(baseline)" in v.name)
    base_med = statistics.median(baseline.times or [0.0])
    header = (
        "| variant | median s | min s | kept | kept files/s | kept MB/s | seen | seen files/s "
        "| seen MB/s | ratio vs baseline (median) |"
    )
    print(header)
    print("|" + "---|" * header.count(" | ") + "---|")
    for v in runs:
        if not v.times or v.outcome is None:
            raise RuntimeError(f"{v.name}: no measurement")
        med, low, out = statistics.median(v.times), min(v.times), v.outcome
        mbps = f"{out.kept_bytes / med / 1e6:.1f}" if out.kept_bytes else "-"
        # Seen bytes = the whole tree, when the variant saw every file (no ignore rules).
        seen_mbps = f"{size / med / 1e6:,.0f}" if out.seen == files else "-"
        print(
            f"| {v.name} | {med:.3f} | {low:.3f} | {out.kept} | {out.kept / med:,.0f} | {mbps} "
            f"| {out.seen} | {out.seen / med:,.0f} | {seen_mbps} | {med / base_med:.2f}x |"
        )


def profile(tree: Path, lines: int) -> None:
    prof = cProfile.Profile()
    prof.enable()
    walk(tree, WalkOptions())
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(lines)
    print("\n== cProfile of one bastion walk (sorted by tottime) ==")
    print(buf.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=HERE / ".tree" / "big")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also cProfile one walk")
    args = parser.parse_args()
    tree: Path = args.tree.resolve()
    if not tree.is_dir():
        raise SystemExit(f"{tree}: run bash bench/core/make_tree.sh first")
    (tree / ".gitignore").unlink(missing_ok=True)
    warm(tree)
    runs = variants()
    for v in runs:
        v.times = []
    for _ in range(args.reps):
        for v in runs:
            v.times.append(timed(v, tree))
    report(tree, runs, args.reps)
    if args.profile:
        profile(tree, 25)


if __name__ == "__main__":
    main()
