"""Parse speed of a 50,000-finding Trivy report (issue 27, import).

The report is the real Trivy fixture (tests/fixtures/imports/trivy/misconfigurations_and_secrets.json)
replicated: its two urllib3 vulnerabilities are repeated over 25,000 packages (``urllib3-N``) in
targets of 500 vulnerabilities each, so every finding has its own package and fingerprint while
each record keeps Trivy's real fields and texts. Written to build/bench-imports/ (git-ignored).

Measured stages, each the median of ``--repeat`` runs:

* decode: bytes -> JSON (json.loads);
* import: decode + parse + controls + fingerprints + secret scrubbing (``import_report``);
* report: ``bastion import`` end to end, the Bastion JSON report written to a file.

Usage: .venv/bin/python bench/imports/trivy_50k.py [--findings 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

from bastion.cli.main import main
from bastion.imports import import_report
from bastion.imports.decode import decode

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/imports/trivy/misconfigurations_and_secrets.json"
OUT = ROOT / "build/bench-imports"


def build_report(findings: int) -> Path:
    """Write the replicated report; return its path."""
    source = json.loads(FIXTURE.read_text(encoding="utf-8"))
    template = source["Results"][0]
    vulns = template["Vulnerabilities"]
    results = []
    per_target = 500
    for start in range(0, findings, per_target):
        target = copy.deepcopy(template)
        target["Target"] = f"services/svc-{start // per_target:03d}/requirements.txt"
        batch = []
        for n in range(start, min(start + per_target, findings)):
            vuln = copy.deepcopy(vulns[n % len(vulns)])
            vuln["PkgName"] = f"urllib3-{n // len(vulns)}"
            batch.append(vuln)
        target["Vulnerabilities"] = batch
        results.append(target)
    source["Results"] = results
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"trivy-{findings}.json"
    path.write_text(json.dumps(source, indent=2), encoding="utf-8")
    return path


def timed(repeat: int, run: object) -> tuple[float, float]:
    """Median wall and CPU seconds of ``run()``."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()  # type: ignore[operator]
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def run(findings: int, repeat: int) -> None:
    """Build the report and print one line per stage."""
    path = build_report(findings)
    data = path.read_bytes()
    result = import_report(data, path.name)
    if len(result.findings) != findings:
        raise SystemExit(f"expected {findings} findings, got {len(result.findings)}")
    print(f"report: {path.relative_to(ROOT)}, {len(data) / 1e6:.1f} MB, {len(result.findings):,} findings")
    stages = {
        "decode": lambda: decode(data, path.name),
        "import": lambda: import_report(data, path.name),
        "report": lambda: main(["import", str(path), "-o", str(OUT / "trivy-bastion.json"), "-q"]),
    }
    for name, stage in stages.items():
        wall, cpu = timed(repeat, stage)
        print(f"{name:<7} wall {wall:6.2f} s  cpu {cpu:6.2f} s  {findings / wall:9,.0f} findings/s (wall)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    run(arguments.findings, arguments.repeat)
