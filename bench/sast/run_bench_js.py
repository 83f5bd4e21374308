"""Score Bastion's JavaScript taint analysis and semgrep on the Express suite, per category.

Tools, same cases, same run: ``bastion-taint-js`` (``bastion.scan.sast.taint.js``), semgrep's
taint mode with ``semgrep_js_taint.yml`` (the same sources, sinks and sanitizers written for
semgrep), and semgrep with the pattern rules Bastion ships. Scoring as ``run_bench.py``: a case
is flagged when a tool reports its CWE; TPR - FPR per category, mean over categories.

Usage: ``python bench/sast/run_bench_js.py --family a --family b [--no-semgrep] [--show-wrong]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from run_bench import fold, misses, own_project, score

from bastion.scan.sast.cwe import parse_cwe_ids
from bastion.scan.sast.taint.js import analyze_js

HERE = Path(__file__).resolve().parent


def taint_flags(cases: dict[str, dict[str, object]], root: Path) -> tuple[dict[str, set[int]], int, float]:
    """CWEs Bastion's JS taint analysis reports per case; total lines; CPU seconds spent."""
    flagged: dict[str, set[int]] = {}
    lines = 0
    spent = 0.0
    for case_id in cases:
        sources = []
        for path in sorted((root / case_id).iterdir()):
            text = path.read_text(encoding="utf-8")
            lines += text.count("\n")
            sources.append((path.name, text))
        start = time.process_time()
        result = analyze_js(sources)
        spent += time.process_time() - start
        flagged[case_id] = {fold(h.rule.cwe) for h in result.hits}
    return flagged, lines, spent


def scanner_flags(cases: dict[str, dict[str, object]], root: Path) -> dict[str, set[int]]:
    """What ``bastion scan --scanners sast`` reports on JS (semgrep's pattern rules + taint,
    merged): taint findings, plus pattern findings on lines the analysis did not prove safe."""
    from bastion.scan.sast import builtin_rules
    from bastion.scan.sast.dataflow import TAINT_CWES

    patterns = semgrep_results(root, builtin_rules())
    flagged: dict[str, set[int]] = {}
    for case_id in cases:
        case_root = root / case_id
        sources = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(case_root.iterdir())]
        result = analyze_js(sources)
        cwes = {fold(h.rule.cwe) for h in result.hits}
        for name, line, cwe in patterns.get(case_id, ()):
            if result.dead(name, line):
                continue
            if cwe not in TAINT_CWES or not result.proven_safe(name, line, cwe):
                cwes.add(cwe)
        flagged[case_id] = cwes
    return flagged


def semgrep_results(root: Path, config: Path) -> dict[str, list[tuple[str, int, int]]]:
    """(file name, line, folded CWE) of every semgrep result per case."""
    semgrep = Path(sys.executable).with_name("semgrep")
    proc = subprocess.run(
        [
            str(semgrep),
            "scan",
            "--config",
            str(config),
            "--metrics=off",
            "--json",
            "--quiet",
            "--disable-version-check",
            "--no-git-ignore",
            # the suites live under build/, which semgrep's default ignore list skips: the
            # suite root (with an empty .semgrepignore) is the project root instead
            "--project-root",
            str(own_project(root)),
            "-j",
            "1",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    out: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for result in json.loads(proc.stdout).get("results", []):
        path = Path(result["path"]).resolve().relative_to(root)
        for cwe in parse_cwe_ids(result.get("extra", {}).get("metadata", {}).get("cwe", [])):
            out[path.parts[0]].append((path.name, int(result["start"]["line"]), fold(cwe)))
    return out


def semgrep_flags(root: Path, config: Path) -> tuple[dict[str, set[int]], float]:
    """CWEs semgrep reports per case with ``config``; wall seconds of the run."""
    semgrep = Path(sys.executable).with_name("semgrep")
    start = time.perf_counter()
    proc = subprocess.run(
        [
            str(semgrep),
            "scan",
            "--config",
            str(config),
            "--metrics=off",
            "--json",
            "--quiet",
            "--disable-version-check",
            "--no-git-ignore",
            # the suites live under build/, which semgrep's default ignore list skips: the
            # suite root (with an empty .semgrepignore) is the project root instead
            "--project-root",
            str(own_project(root)),
            "-j",
            "1",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - start
    report = json.loads(proc.stdout)
    flagged: dict[str, set[int]] = defaultdict(set)
    for result in report.get("results", []):
        case_id = Path(result["path"]).resolve().relative_to(root).parts[0]
        cwes = parse_cwe_ids(result.get("extra", {}).get("metadata", {}).get("cwe", []))
        flagged[case_id].update(fold(c) for c in cwes)
    return flagged, took


def main() -> None:
    """Command line."""
    from bastion.scan.sast import builtin_rules

    parser = argparse.ArgumentParser()
    parser.add_argument("--family", action="append", default=[])
    parser.add_argument("--cases", type=Path, default=HERE / "cases_js")
    parser.add_argument("--no-semgrep", action="store_true")
    parser.add_argument("--show-wrong", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = {}
    for family in args.family or ["a", "b"]:
        root = (args.cases / family).resolve()
        cases = json.loads((root / "labels.json").read_text(encoding="utf-8"))
        flagged, lines, spent = taint_flags(cases, root)
        tools = {"bastion-taint-js": score(cases, flagged)}
        timing = {"bastion-taint-js": spent}
        if not args.no_semgrep:
            sg_taint, t1 = semgrep_flags(root, HERE / "semgrep_js_taint.yml")
            sg_rules, t2 = semgrep_flags(root, builtin_rules())
            tools["semgrep taint mode"] = score(cases, sg_taint)
            tools["semgrep (Bastion rules)"] = score(cases, sg_rules)
            timing |= {"semgrep taint mode": t1, "semgrep (Bastion rules)": t2}
            tools["sast scanner"] = score(cases, scanner_flags(cases, root))
        print(f"family {family}: {len(cases)} cases, {lines} lines")
        for tool, secs in timing.items():
            print(f"  {tool}: {secs:.2f} s ({lines / secs:,.0f} lines/s)")
        print(f"{'category':26}" + "".join(f"{t[:24] + ' TPR/FPR/score':>38}" for t in tools))
        for cat in tools["bastion-taint-js"]:
            row = f"{cat:26}"
            for t in tools:
                s = tools[t][cat]
                row += f"{s['tpr']:>18.2f}{s['fpr']:>8.2f}{s['score']:>+12.2f}"
            print(row)
        row = f"{'mean':26}"
        for t in tools:
            vals = list(tools[t].values())
            row += f"{sum(v['tpr'] for v in vals) / len(vals):>18.2f}"
            row += f"{sum(v['fpr'] for v in vals) / len(vals):>8.2f}"
            row += f"{sum(v['score'] for v in vals) / len(vals):>+12.2f}"
        print(row)
        if args.show_wrong:
            for line in misses(cases, flagged):
                print("  wrong:", line)
        report[family] = {"cases": len(cases), "lines": lines, "tools": tools, "seconds": timing}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
