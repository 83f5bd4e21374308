"""Score Bastion's taint analysis and bandit on the generated suite, per category.

A case counts as flagged by a tool when the tool reports a finding with the case's CWE
(94/95 and 77/78 folded) in any file of the case. TPR = flagged real / real, FPR =
flagged false / false, score = TPR - FPR. Also measures the taint analysis' throughput
(lines of Python per second, one process, one core, parse included).

Usage: ``python bench/sast/run_bench.py --family b [--family a] [--no-bandit] [--semgrep]
[--semgrep-taint] [--scanner] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from semgrep_taint_py import write_rules

from bastion.scan.sast.cwe import bandit_rules
from bastion.scan.sast.taint import analyze

HERE = Path(__file__).resolve().parent


def own_project(root: Path) -> Path:
    """``root`` with an empty ``.semgrepignore``, so semgrep scans it wherever it lies."""
    ignore = root / ".semgrepignore"
    if not ignore.exists():
        ignore.write_text("# nothing ignored: benchmark suite\n", encoding="utf-8")
    return root


FOLD = {95: 94, 77: 78, 1336: 94}


def fold(cwe: int) -> int:
    """The CWE id used for comparison."""
    return FOLD.get(cwe, cwe)


def taint_flags(cases: dict[str, dict[str, object]], root: Path) -> tuple[dict[str, set[int]], int, float]:
    """CWEs the taint analysis reports per case; total lines; seconds spent analysing."""
    flagged: dict[str, set[int]] = {}
    lines = 0
    spent = 0.0
    for case_id in cases:
        sources = []
        for path in sorted((root / case_id).glob("*.py")):
            text = path.read_text(encoding="utf-8")
            lines += text.count("\n")
            sources.append((path.name, text))
        start = time.process_time()
        result = analyze(sources)
        spent += time.process_time() - start
        flagged[case_id] = {fold(h.rule.cwe) for h in result.hits}
    return flagged, lines, spent


def bandit_flags(root: Path) -> dict[str, set[int]]:
    """CWEs bandit reports per case (its test ids mapped through Bastion's bandit table)."""
    bandit = Path(sys.executable).with_name("bandit")
    proc = subprocess.run(
        [str(bandit), "-r", str(root), "-f", "json", "-q"], capture_output=True, text=True, check=False
    )
    report = json.loads(proc.stdout)
    table = bandit_rules()
    flagged: dict[str, set[int]] = defaultdict(set)
    for issue in report.get("results", []):
        case_id = Path(issue["filename"]).resolve().relative_to(root).parts[0]
        rule = table.get(issue["test_id"])
        cwes = set(rule.cwe) if rule else set()
        if issue.get("issue_cwe", {}).get("id"):
            cwes.add(int(issue["issue_cwe"]["id"]))
        flagged[case_id].update(fold(c) for c in cwes)
    return flagged


def semgrep_flags(root: Path, config: Path | None = None) -> dict[str, set[int]]:
    """CWEs semgrep reports per case with Bastion's curated rules, or with ``config`` (offline,
    local rule file)."""
    from bastion.scan.sast import builtin_rules
    from bastion.scan.sast.cwe import parse_cwe_ids

    semgrep = Path(sys.executable).with_name("semgrep")
    proc = subprocess.run(
        [
            str(semgrep),
            "scan",
            "--config",
            str(config or builtin_rules()),
            "--metrics=off",
            "--json",
            "--quiet",
            "--disable-version-check",
            "--no-git-ignore",
            # the suites live under build/, which semgrep's default ignore list skips: the
            # suite root (with an empty .semgrepignore) is the project root instead
            "--project-root",
            str(own_project(root)),
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(proc.stdout)
    flagged: dict[str, set[int]] = defaultdict(set)
    for result in report.get("results", []):
        case_id = Path(result["path"]).resolve().relative_to(root).parts[0]
        cwes = parse_cwe_ids(result.get("extra", {}).get("metadata", {}).get("cwe", []))
        flagged[case_id].update(fold(c) for c in cwes)
    return flagged


def scanner_flags(cases: dict[str, dict[str, object]], root: Path) -> dict[str, set[int]]:
    """CWEs of what ``bastion scan --scanners sast`` (bandit + taint, merged) reports per case."""
    from bastion.scan.base import ScanContext, ScanTarget, SourceFile
    from bastion.scan.sast import SastScanner

    flagged: dict[str, set[int]] = {}
    scanner = SastScanner()
    for case_id in cases:
        case_root = root / case_id
        files = tuple(
            SourceFile(str(p), p.relative_to(case_root).as_posix(), p.stat().st_size)
            for p in sorted(case_root.glob("*.py"))
        )
        context = ScanContext(scanner="sast", options={"tools": ["bandit", "taint"]})
        findings = list(scanner.scan(ScanTarget(case_root, files), context))
        flagged[case_id] = {fold(c) for f in findings for c in f.cwe}
    return flagged


def score(cases: dict[str, dict[str, object]], flagged: dict[str, set[int]]) -> dict[str, dict[str, float]]:
    """Per category: TPR, FPR, TPR - FPR, and counts."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp, real, fp, false
    for case_id, label in cases.items():
        cat = f"CWE-{label['cwe']} {label['category']}"
        hit = fold(int(str(label["cwe"]))) in flagged.get(case_id, set())
        c = counts[cat]
        if label["real"]:
            c[0] += hit
            c[1] += 1
        else:
            c[2] += hit
            c[3] += 1
    out = {}
    for cat, (tp, real, fp, false) in sorted(counts.items(), key=lambda kv: int(kv[0].split()[0][4:])):
        tpr, fpr = tp / real if real else 0.0, fp / false if false else 0.0
        out[cat] = {"tpr": tpr, "fpr": fpr, "score": tpr - fpr, "real": real, "false": false}
    return out


def misses(cases: dict[str, dict[str, object]], flagged: dict[str, set[int]]) -> list[str]:
    """Case ids the tool got wrong (missed real, flagged false)."""
    wrong = []
    for case_id, label in cases.items():
        hit = fold(int(str(label["cwe"]))) in flagged.get(case_id, set())
        if hit != bool(label["real"]):
            wrong.append(f"{case_id} ({label['kind']}, {label['propagation']}, {label['framework']})")
    return wrong


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", action="append", default=[])
    parser.add_argument("--cases", type=Path, default=HERE / "cases")
    parser.add_argument("--no-bandit", action="store_true")
    parser.add_argument("--show-wrong", action="store_true")
    parser.add_argument(
        "--semgrep", action="store_true", help="also score semgrep with Bastion's curated rules"
    )
    parser.add_argument(
        "--scanner", action="store_true", help="also score the whole sast scanner (bandit + taint)"
    )
    parser.add_argument(
        "--semgrep-taint",
        action="store_true",
        help="also score semgrep's taint mode with Bastion's taint rules (semgrep_taint_py.py)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = {}
    for family in args.family or ["b"]:
        root = (args.cases / family).resolve()
        cases = json.loads((root / "labels.json").read_text(encoding="utf-8"))
        flagged, lines, spent = taint_flags(cases, root)
        tools = {"bastion-taint": score(cases, flagged)}
        if not args.no_bandit:
            tools["bandit"] = score(cases, bandit_flags(root))
        if args.semgrep:
            tools["semgrep (Bastion rules)"] = score(cases, semgrep_flags(root))
        if args.semgrep_taint:
            with tempfile.TemporaryDirectory() as tmp:
                config = write_rules(Path(tmp) / "semgrep_py_taint.yml")
                tools["semgrep taint mode"] = score(cases, semgrep_flags(root, config))
        if args.scanner:
            tools["sast scanner"] = score(cases, scanner_flags(cases, root))
        print(f"family {family}: {len(cases)} cases, {lines} lines, taint {lines / spent:,.0f} lines/s")
        header = f"{'category':28}" + "".join(f"{t + ' TPR/FPR/score':>34}" for t in tools)
        print(header)
        for cat in tools["bastion-taint"]:
            row = f"{cat:28}"
            for t in tools:
                s = tools[t][cat]
                row += f"{s['tpr']:>14.2f}{s['fpr']:>8.2f}{s['score']:>+12.2f}"
            print(row)
        row = f"{'mean':28}"
        for t in tools:
            vals = list(tools[t].values())
            row += f"{sum(v['tpr'] for v in vals) / len(vals):>14.2f}"
            row += f"{sum(v['fpr'] for v in vals) / len(vals):>8.2f}"
            row += f"{sum(v['score'] for v in vals) / len(vals):>+12.2f}"
        print(row)
        if args.show_wrong:
            for line in misses(cases, flagged):
                print("  wrong:", line)
        report[family] = {"cases": len(cases), "lines": lines, "lines_per_s": lines / spent, "tools": tools}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
