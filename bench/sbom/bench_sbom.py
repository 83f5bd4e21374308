"""Benchmark of ``bastion sbom`` output: CycloneDX 1.6 and SPDX 2.3 for 2,000 to 20,000 packages.

Usage (from the repository root):

    .venv/bin/python bench/sbom/bench_sbom.py                      # 2,000, 5,000, 20,000 packages
    .venv/bin/python bench/sbom/bench_sbom.py --sizes 20000 --cli   # plus `bastion sbom` end to end
    .venv/bin/python bench/sbom/bench_sbom.py --src build/baseline/src --sizes 2000  # an older Bastion

Each size is an inventory of generated packages (npm, PyPI, Maven and Go; every tenth one
declared in two manifests, every seventh one transitive, every thirteenth one unpinned). The
CycloneDX text is then validated once against the official 1.6 JSON schema
(bastion.sbom.validate: cyclonedx-python-lib's strict validator over slices, uniqueness and
references checked with sets), and timed separately; warnings raised
while writing are counted. ``--cli`` also writes a requirements tree of that size to
bench/sbom/work/ and times ``bastion sbom DIR -o FILE`` in a fresh process (start-up included).
The CycloneDX writer runs ``--repeat`` times per size and the best wall time and best CPU time
(time.process_time, which other load on a shared machine does not inflate) are kept. Peak
memory (ru_maxrss) is that of the whole process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess  # bastion: ignore[sast.bandit.B404] runs bastion with a fixed argv
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "work"


def _packages(count: int) -> list[object]:
    from bastion.scan.deps.model import Package

    ecosystems = (
        ("npm", "package-lock.json"),
        ("PyPI", "requirements.txt"),
        ("Maven", "pom.xml"),
        ("Go", "go.mod"),
    )
    packages: list[object] = []
    for index in range(count):
        ecosystem, manifest = ecosystems[index % len(ecosystems)]
        name = {
            "npm": f"@scope{index % 50}/pkg-{index}",
            "PyPI": f"pkg-{index}",
            "Maven": f"org.example.g{index % 40}:artifact-{index}",
            "Go": f"github.com/example{index % 30}/mod-{index}",
        }[ecosystem]
        pinned = index % 13 != 0
        version = (
            (f"v1.{index % 17}.{index}" if ecosystem == "Go" else f"1.{index % 17}.{index}")
            if pinned
            else None
        )
        reason = None if pinned else "version not pinned (>=1.0)"
        path = f"svc{index % 20}/{manifest}"
        packages.append(Package(ecosystem, name, version, path, index + 1, index % 7 != 0, reason))
        if index % 10 == 0:
            packages.append(Package(ecosystem, name, version, f"other/{manifest}", 3, True, reason))
    return packages


def _measure(count: int, validate: bool, repeat: int) -> dict[str, object]:

    from bastion.sbom.build import Inventory, cyclonedx_json, spdx_json

    inv = Inventory("bench", list(_packages(count)))  # type: ignore[arg-type]
    cyclonedx_s = cyclonedx_cpu_s = float("inf")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(repeat):
            start, cpu = time.perf_counter(), time.process_time()
            text = cyclonedx_json(inv)
            cyclonedx_s = min(cyclonedx_s, time.perf_counter() - start)
            cyclonedx_cpu_s = min(cyclonedx_cpu_s, time.process_time() - cpu)
    start = time.perf_counter()
    spdx = spdx_json(inv)
    spdx_s = time.perf_counter() - start
    validate_s = None
    problems: list[str] | None = None
    if validate:
        from bastion.sbom.validate import cyclonedx_problems

        start = time.perf_counter()
        problems = cyclonedx_problems(text)
        validate_s = round(time.perf_counter() - start, 2)
    bom = json.loads(text)
    return {
        "packages": count,
        "declarations": len(inv.packages),
        "components": len(bom["components"]),
        "cyclonedx_s": round(cyclonedx_s, 3),
        "cyclonedx_cpu_s": round(cyclonedx_cpu_s, 3),
        "cyclonedx_mb": round(len(text) / 1e6, 1),
        "spdx_s": round(spdx_s, 3),
        "spdx_mb": round(len(spdx) / 1e6, 1),
        "schema_valid": None if problems is None else not problems,
        "problems": (problems or [])[:3],
        "validate_s": validate_s,
        "warnings": len(caught),
        "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _cli(count: int) -> dict[str, object]:
    tree = WORK / f"tree-{count}"
    for service in range(20):
        folder = tree / f"svc{service}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"pkg-{i}==1.{i % 17}.{i}" for i in range(service, count, 20)]
        (folder / "requirements.txt").write_text("\n".join(lines) + "\n")
    out = WORK / f"bom-{count}.json"
    start = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "bastion"), "sbom", str(tree), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    components = len(json.loads(out.read_text())["components"]) if done.returncode == 0 else 0
    return {
        "cli_packages": count,
        "cli_exit": done.returncode,
        "cli_wall_s": round(wall, 2),
        "cli_components": components,
        "cli_stderr": done.stderr.strip().splitlines()[-3:],
    }


def main() -> int:
    """Run the sizes asked for and print one JSON object per line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="2000,5000,20000", help="comma-separated package counts")
    parser.add_argument("--src", help="import bastion from this src/ folder (an older checkout)")
    parser.add_argument("--cli", action="store_true", help="also time `bastion sbom` end to end")
    parser.add_argument("--no-validate", action="store_true", help="skip the schema validation")
    parser.add_argument("--repeat", type=int, default=3, help="CycloneDX runs per size; the best is kept")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, args.src)
    WORK.mkdir(exist_ok=True)
    for size in (int(s) for s in args.sizes.split(",")):
        print(json.dumps(_measure(size, not args.no_validate, args.repeat)), flush=True)
        if args.cli:
            print(json.dumps(_cli(size)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
