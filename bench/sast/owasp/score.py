"""Score Bastion, bandit and semgrep on OWASP Benchmark for Python v0.1 (a suite written by others).

The suite is GPL-3.0 and is not in this repository: fetch ``expectedresults-0.1.csv`` and any
``testcode/BenchmarkTestNNNNN.py`` files of the suite (mirrored in the public repository
``ongamse/BenchPython``) into a folder, e.g. ``build/owasp-benchmark-python/`` (git-ignored),
and pass that folder. Every test file present there and listed in the CSV is scored.

The sample is split by test number BEFORE anything runs: even numbers are the TUNING half, odd
numbers the HELD-OUT half. Scoring is the Benchmark's own: a case is flagged by a tool when the
tool reports a finding whose CWE is the case's CWE in that test file (94/95 and 77/78 folded, as
in ``run_bench.py``); per category TPR, FPR, TPR - FPR, and their mean.

Tools: ``bastion scan --scanners sast`` (the command line, JSON report; bandit + taint merged),
Bastion's taint analysis alone (in process, as ``run_bench.py``), bandit, semgrep with Bastion's
curated rules, and semgrep's taint mode with Bastion's taint rules (``semgrep_taint_py.py``).
No semgrep registry rules (``p/python``) are available offline, so none are used.

Usage: ``.venv/bin/python bench/sast/owasp/score.py build/owasp-benchmark-python [--half tuning]
[--half held-out] [--no-semgrep] [--show-wrong TOOL] [--json out.json]``
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from run_bench import bandit_flags, fold, score, semgrep_flags, taint_flags  # noqa: E402
from semgrep_taint_py import write_rules  # noqa: E402

HALVES = ("tuning", "held-out")
FAIL = ("--fail-on", "critical", "--no-color")
WHERE = "fetch it from the public repository ongamse/BenchPython (see bench/sast/owasp/README.md)"


class SuiteError(Exception):
    """The suite folder is missing or malformed (one line for the user)."""


def load_labels(suite: Path) -> dict[str, dict[str, object]]:
    """Labels of the test files present in ``suite``: id -> category, real, cwe, half."""
    expected = suite / "expectedresults-0.1.csv"
    if not expected.is_file():
        raise SuiteError(f"{expected}: not found; {WHERE}")
    present = {p.stem for p in (suite / "testcode").glob("BenchmarkTest*.py")}
    labels: dict[str, dict[str, object]] = {}
    with expected.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 4 or not row[3].strip().isdigit():
                raise SuiteError(f"{expected}: malformed row {','.join(row)!r}")
            name = row[0].strip()
            if name in present:
                number = int(name.removeprefix("BenchmarkTest"))
                labels[name] = {
                    "category": row[1].strip(),
                    "real": row[2].strip() == "true",
                    "cwe": int(row[3]),
                    "half": HALVES[number % 2],
                }
    if not labels:
        raise SuiteError(f"{suite / 'testcode'}: no BenchmarkTest*.py listed in the CSV; {WHERE}")
    return labels


def lay_out(suite: Path, cases: dict[str, dict[str, object]], root: Path) -> None:
    """One folder per case under ``root`` (the layout ``run_bench.py``'s helpers read)."""
    for case_id in cases:
        (root / case_id).mkdir(parents=True)
        shutil.copyfile(suite / "testcode" / f"{case_id}.py", root / case_id / f"{case_id}.py")


def cli_flags(root: Path) -> dict[str, set[int]]:
    """CWEs that ``bastion scan ROOT --scanners sast --format json`` reports per case."""
    bastion = Path(sys.executable).with_name("bastion")
    report = root.parent / f"{root.name}.bastion.json"
    proc = subprocess.run(
        [str(bastion), "scan", str(root), "--scanners", "sast", "--format", "json", "-o", str(report), *FAIL],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1) or not report.is_file():
        raise SuiteError(f"bastion scan {root}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    flagged: dict[str, set[int]] = defaultdict(set)
    for finding in json.loads(report.read_text(encoding="utf-8"))["findings"]:
        case_id = Path(finding["location"]["path"]).parts[0]
        flagged[case_id].update(fold(c) for c in finding.get("cwe", []))
    return flagged


def score_half(
    suite: Path, cases: dict[str, dict[str, object]], semgrep: bool
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, set[int]]]]:
    """Per tool, per category scores for one half; and what each tool flagged."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cases"
        lay_out(suite, cases, root)
        flags: dict[str, dict[str, set[int]]] = {"bastion scan (sast)": cli_flags(root)}
        flags["bastion taint only"] = taint_flags(cases, root)[0]
        flags["bandit"] = bandit_flags(root)
        if semgrep:
            flags["semgrep (Bastion rules)"] = semgrep_flags(root)
            flags["semgrep taint mode"] = semgrep_flags(root, write_rules(Path(tmp) / "taint.yml"))
    return {tool: score(cases, flagged) for tool, flagged in flags.items()}, flags


def mean(values: list[float]) -> float:
    """Arithmetic mean (0.0 for none)."""
    return sum(values) / len(values) if values else 0.0


def print_half(
    half: str, cases: dict[str, dict[str, object]], tools: dict[str, dict[str, dict[str, float]]]
) -> None:
    """The per-category table of one half."""
    real = sum(1 for c in cases.values() if c["real"])
    print(f"\n{half}: {len(cases)} cases ({real} real, {len(cases) - real} false)")
    names = list(tools)
    print(f"{'category':26}{'real/false':>11}" + "".join(f"{n[:22]:>24}" for n in names))
    first = tools[names[0]]
    for cat in first:
        row = f"{cat:26}{int(first[cat]['real']):>5}/{int(first[cat]['false']):<5}"
        for n in names:
            s = tools[n][cat]
            row += f"{s['tpr']:>8.2f}/{s['fpr']:.2f} {s['score']:>+6.2f}"
        print(row)
    row = f"{'mean':26}{'':>11}"
    for n in names:
        vals = list(tools[n].values())
        row += f"{mean([v['tpr'] for v in vals]):>8.2f}/{mean([v['fpr'] for v in vals]):.2f}"
        row += f" {mean([v['score'] for v in vals]):>+6.2f}"
    print(row)


def wrong(cases: dict[str, dict[str, object]], flagged: dict[str, set[int]]) -> list[str]:
    """Cases a tool got wrong: a real one missed or a false one flagged."""
    out = []
    for case_id, label in sorted(cases.items()):
        hit = fold(int(str(label["cwe"]))) in flagged.get(case_id, set())
        if hit != bool(label["real"]):
            out.append(f"{case_id} {label['category']} {'missed' if label['real'] else 'false alarm'}")
    return out


def main() -> int:
    """Command line; 2 on a missing or malformed suite."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", type=Path, help="folder with expectedresults-0.1.csv and testcode/")
    parser.add_argument("--half", action="append", choices=HALVES, default=[])
    parser.add_argument("--no-semgrep", action="store_true")
    parser.add_argument("--show-wrong", action="append", default=[], metavar="TOOL")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    try:
        labels = load_labels(args.suite)
        report: dict[str, object] = {}
        for half in args.half or list(HALVES):
            cases = {k: v for k, v in labels.items() if v["half"] == half}
            tools, flags = score_half(args.suite, cases, not args.no_semgrep)
            print_half(half, cases, tools)
            for tool in args.show_wrong:
                for line in wrong(cases, flags.get(tool, {})):
                    print(f"  wrong ({tool}): {line}")
            report[half] = {"cases": len(cases), "tools": tools}
    except SuiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
