"""Start time and installed size of Bastion for secrets-only pipelines (issue 18).

Measures, side by side in one run:
- installed size: the full install's run dependencies (pyproject's dependencies, no extras) and
  the light install's (scripts/install-hook.sh's list), each with everything it requires, summed
  over the files pip recorded for each distribution in this environment; plus, when it exists,
  the real light virtual environment that scripts/install-hook.sh built (``--light-venv``);
- start-to-exit time of a secrets scan of a small tree: ``bastion-hook scan`` and ``bastion scan
  --scanner secrets`` in this environment and, when given, in the light one; the median of
  ``--runs`` runs each;
- gitleaks, the named peer, when an executable is found under ``--peers`` (else reported absent).

Usage (from the repository root):
    bash scripts/install-hook.sh build/hook-venv
    .venv/bin/python bench/ci/light_install.py --light-venv build/hook-venv --runs 7
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]

# bastion: ignore[secrets.aws-access-key-id] the secrets rule file's own generated example, grants nothing
KEY = "ACCARYFKRUSWHCIOAAJN"


def light_requirements() -> list[str]:
    """The LIGHT=( ... ) list of scripts/install-hook.sh (the one list; the tests read it too)."""
    script = (ROOT / "scripts" / "install-hook.sh").read_text(encoding="utf-8")
    block = re.search(r"LIGHT=\((.*?)\)", script, re.S)
    if block is None:
        raise SystemExit("scripts/install-hook.sh: no LIGHT=( ... ) list")
    return re.findall(r'"([^"]+)"', block.group(1))


def _applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate({"extra": ""})


def closure(requirements: list[str]) -> set[str]:
    """Distributions of ``requirements`` and all they require (markers evaluated, no extras)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = req.name.lower().replace("_", "-")
        if name in seen:
            continue
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        todo.extend(
            c for c in map(Requirement, requires) if c.marker is None or c.marker.evaluate({"extra": ""})
        )
    return seen


def installed_bytes(names: set[str]) -> int:
    """Bytes of the files pip recorded for each distribution in ``names``."""
    total = 0
    for name in names:
        dist = metadata.distribution(name)
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
    return total


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def make_tree(base: Path) -> Path:
    """A small project: 200 source files, one with a committed secret."""
    tree = base / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    for index in range(200):
        folder = tree / f"pkg{index % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "".join(f"def f{i}(x):\n    return x * {i}\n" for i in range(40))
        (folder / f"mod{index}.py").write_text(body, encoding="utf-8")
    (tree / "settings.py").write_text(f'token = "{KEY}"\n', encoding="utf-8")
    return tree


def timed(command: list[str], runs: int) -> tuple[float, int]:
    """Median wall seconds of ``runs`` runs, and the exit code of the last."""
    times: list[float] = []
    code = 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, check=False
        )  # bastion: ignore[sast.bandit.B603] fixed argv
        times.append(time.perf_counter() - start)
        code = done.returncode
    return statistics.median(times), code


def _commands(binaries: Path, where: str, args: list[str]) -> dict[str, list[str]]:
    return {
        f"bastion-hook scan --scanners secrets ({where})": [str(binaries / "bastion-hook"), *args],
        f"bastion scan --scanners secrets ({where})": [str(binaries / "bastion"), *args],
    }


def _peer(peers: Path, name: str) -> Path | None:
    if not peers.is_dir():
        return None
    return next((p for p in peers.rglob(name) if p.is_file() and os.access(p, os.X_OK)), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--light-venv", type=Path, help="a venv built by scripts/install-hook.sh")
    parser.add_argument("--peers", type=Path, default=ROOT.parent / "shared" / "peers")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("build/ci-bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    full_deps = [r for r in metadata.requires("bastion") or [] if "extra ==" not in r]
    full = closure(full_deps) | {"bastion"}
    light = closure(light_requirements()) | {"bastion"}
    mb = 1024 * 1024
    print("| install | distributions | size (MB) |")
    print("| --- | ---: | ---: |")
    print(f"| full (run dependencies) | {len(full)} | {installed_bytes(full) / mb:.0f} |")
    print(f"| light (scripts/install-hook.sh) | {len(light)} | {installed_bytes(light) / mb:.0f} |")
    if args.light_venv and args.light_venv.is_dir():
        site = next(args.light_venv.glob("lib/python3*/site-packages"))
        tooling = sum(tree_bytes(p) for p in site.iterdir() if p.name.split("-")[0] in {"pip", "setuptools"})
        whole = tree_bytes(args.light_venv)
        print(f"| light venv on disk (with pip) | - | {whole / mb:.0f} (pip/setuptools {tooling / mb:.0f}) |")

    tree = make_tree(args.out)
    report = str(args.out / "report.json")
    common = ["scan", str(tree), "-f", "json", "-o", report, "-q", "--fail-on", "medium"]
    secrets = ["--scanners", "secrets"]
    commands = _commands(Path(sys.executable).parent, "full env", [*common, *secrets])
    commands["bastion --version (full env)"] = [str(Path(sys.executable).parent / "bastion"), "--version"]
    if args.light_venv and args.light_venv.is_dir():
        commands.update(_commands(args.light_venv / "bin", "light venv", [*common, *secrets]))
    gitleaks = _peer(args.peers, "gitleaks")
    if gitleaks is not None:
        commands["gitleaks dir (peer)"] = [str(gitleaks), "dir", str(tree), "--no-banner", "--exit-code", "1"]
    print(f"\n{args.runs} runs each, median; tree: 201 files; exit 1 = the secret was found\n")
    print("| command | median s | exit |")
    print("| --- | ---: | ---: |")
    for label, command in commands.items():
        seconds, code = timed(command, args.runs)
        print(f"| {label} | {seconds:.2f} | {code} |")
    if gitleaks is None:
        print(f"\ngitleaks: no executable under {args.peers.name}/ (not measured)")


if __name__ == "__main__":
    main()
