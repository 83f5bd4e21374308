"""Run Bastion, CredSweeper and detect-secrets on the labeled corpus and on site-packages.

Run from the repository root, after ``make_corpus.py`` (and ``--scale 4`` for the memory test)::

    python3 -m venv bench/secrets/.venv && bench/secrets/.venv/bin/pip install credsweeper detect-secrets
    .venv/bin/python bench/secrets/make_corpus.py
    .venv/bin/python bench/secrets/make_corpus.py --scale 4 --out bench/secrets/.work/corpus4x
    .venv/bin/python bench/secrets/run_bench.py corpus        # accuracy + wall time, ~2.5 min
    .venv/bin/python bench/secrets/run_bench.py throughput    # site-packages MB/s, ~6 min
    .venv/bin/python bench/secrets/run_bench.py memory        # peak RSS at 1x and 4x, ~1 min
    .venv/bin/python bench/secrets/run_bench.py report        # print the markdown tables again

Raw tool reports go to ``bench/secrets/.work/out/`` (CredSweeper's holds every secret in full:
it never leaves ``.work``); the numbers go to ``bench/secrets/.work/results/*.json`` and the
markdown tables to ``bench/secrets/.work/results/tables.md``. Only counts and redacted examples
(first 4 characters and the length) are ever printed.

Matching rule: a tool's report is a set of distinct ``(path, line)`` pairs. A labeled secret is
found (true positive) when a report has its path and its line; for a multi-line secret (a PEM
block) any line from one before its first to one after its last counts. A reported line that
matches no label's window and is not a neutral line (a GCP ``private_key_id``) is a false
positive, filed under the hard-negative kind of that line or ``unlabeled`` (filler code).
precision = TP / (TP + FP), recall = TP / labels, F1 = their harmonic mean.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess  # bastion: ignore[sast.bandit.B404] runs the three scanners being measured
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / ".work"
OUT = WORK / "out"
RESULTS = WORK / "results"
VENV_BIN = REPO / ".venv" / "bin"
PEER_BIN = HERE / ".venv" / "bin"
"""The peers live in their own venv (bench/secrets/.venv) so they never touch the project's."""
SITE = REPO / ".venv" / "lib" / "python3.11" / "site-packages"
CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}
# Subset of site-packages for the slow tools (pure-Python packages of ordinary code).
SUBSET_PACKAGES = ("pip", "rich", "click", "pydantic", "httpx", "jsonschema", "yaml", "certifi", "bandit")


# ------------------------------------------------------------------ measurement


@dataclass
class Run:
    """One tool invocation: wall time, peak RSS, exit code."""

    cmd: list[str]
    wall_s: float
    rc: int
    max_rss_kb: int  # largest single process (GNU time %M)
    tree_rss_kb: int = 0  # peak of the summed RSS of the whole process tree (sampled), 0 if not sampled
    stderr_tail: str = ""


def _children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree[ppid].append(int(entry.name))
    return tree


def _tree_rss_kb(root: int) -> int:
    tree = _children_map()
    todo, total, page_kb = [root], 0, os.sysconf("SC_PAGE_SIZE") // 1024
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * page_kb
        except OSError:
            continue
    return total


def run(
    cmd: list[str], *, sample_rss: bool = False, timeout: float | None = None, stdout: Path | None = None
) -> Run:
    """Run ``cmd`` under GNU time; optionally sample the process tree's summed RSS every 50 ms."""
    timefile = WORK / "time.txt"
    full = ["/usr/bin/time", "-f", "%M", "-o", str(timefile), *cmd]
    out_fh = stdout.open("w") if stdout is not None else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(  # bastion: ignore[sast.bandit.B603] fixed tool paths from this file, no shell
        full, stdout=out_fh, stderr=subprocess.PIPE, text=True, cwd=REPO, start_new_session=True
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True) if sample_rss else None
    if sampler is not None:
        sampler.start()
    try:
        _, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the session this function started, workers included
        _, err = proc.communicate()
        rc = -9
    wall = time.perf_counter() - start
    stop.set()
    if sampler is not None:
        sampler.join()
    if stdout is not None and not isinstance(out_fh, int):
        out_fh.close()
    try:
        max_rss = int(timefile.read_text().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        max_rss = 0
    # stderr may hold tool logs; keep only a short tail and never print it when it could hold values.
    return Run(cmd, round(wall, 3), rc, max_rss, peak, err[-400:] if rc not in (0, 1) else "")


# ----------------------------------------------------------------------- tools


def bastion_cmd(target: Path, out: Path, jobs: int | None = None) -> list[str]:
    cmd = [str(VENV_BIN / "bastion"), "scan", str(target), "--scanners", "secrets", "-f", "json"]
    cmd += ["-o", str(out), "--fail-on", "none", "--no-gitignore", "-q"]
    return cmd + (["--jobs", str(jobs)] if jobs else [])


def credsweeper_cmd(target: Path, out: Path, jobs: int = 2) -> list[str]:
    cmd = [str(PEER_BIN / "credsweeper"), "--path", str(target), "--save-json", str(out)]
    return [*cmd, "--no-stdout", "--pedantic", "--jobs", str(jobs), "--log", "error"]


def detect_secrets_cmd(target: Path) -> list[str]:
    return [str(PEER_BIN / "detect-secrets"), "scan", "-n", "--all-files", str(target)]


@dataclass
class Report:
    """Distinct reported lines, with per-line metadata for Bastion (rule, confidence, evidence)."""

    lines: set[tuple[str, int]] = field(default_factory=set)
    meta: dict[tuple[str, int], list[dict[str, str]]] = field(default_factory=dict)


def _rel(path: str, root: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        p = (REPO / p).resolve() if not (root / p).exists() else root / p
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def parse_bastion(out: Path, root: Path, min_confidence: str = "low") -> Report:
    data = json.loads(out.read_text())
    report = Report()
    floor = CONFIDENCE_RANK[min_confidence]
    for f in data["findings"]:
        if CONFIDENCE_RANK.get(f.get("confidence", "low"), 0) < floor:
            continue
        key = (_rel(f["location"]["path"], root), int(f["location"]["start_line"]))
        report.lines.add(key)
        report.meta.setdefault(key, []).append(
            {"rule": f["rule_id"], "confidence": f.get("confidence", ""), "evidence": f.get("evidence", "")}
        )
    return report


def parse_detect_secrets(out: Path, root: Path) -> Report:
    data = json.loads(out.read_text())
    report = Report()
    for filename, items in data.get("results", {}).items():
        for item in items:
            key = (_rel(filename, root), int(item["line_number"]))
            report.lines.add(key)
            report.meta.setdefault(key, []).append({"rule": item["type"]})
    return report


def parse_credsweeper(out: Path, root: Path) -> Report:
    # CredSweeper's report holds every secret in full: read only paths, line numbers and rule names.
    data = json.loads(out.read_text())
    report = Report()
    for candidate in data:
        for ld in candidate.get("line_data_list", []):
            key = (_rel(ld["path"], root), int(ld["line_num"]))
            report.lines.add(key)
            report.meta.setdefault(key, []).append({"rule": candidate.get("rule", "")})
    return report


# ------------------------------------------------------------------ scoring


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class Score:
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    recall_by_type: dict[str, tuple[int, int]]
    fp_by_kind: dict[str, int]
    fn_list: list[dict[str, Any]]
    fp_list: list[dict[str, Any]]


def score(report: Report, corpus: Path) -> Score:
    labels = load_jsonl(corpus / "labels.jsonl")
    negatives = {(n["path"], n["line"]): n["kind"] for n in load_jsonl(corpus / "negatives.jsonl")}
    neutral = {(n["path"], n["line"]) for n in load_jsonl(corpus / "neutral.jsonl")}
    by_path: dict[str, set[int]] = defaultdict(set)
    for path, line in report.lines:
        by_path[path].add(line)
    matched: set[tuple[str, int]] = set()
    found_by_type: Counter[str] = Counter()
    total_by_type: Counter[str] = Counter()
    fn_list: list[dict[str, Any]] = []
    for lab in labels:
        total_by_type[lab["type"]] += 1
        start, end = int(lab["line"]), int(lab["end_line"])
        window = range(start, start + 1) if start == end else range(start - 1, end + 2)
        hit = [n for n in window if n in by_path.get(lab["path"], ())]
        if hit:
            found_by_type[lab["type"]] += 1
            matched.update((lab["path"], n) for n in hit)
        else:
            fn_list.append(lab)
    fp_list: list[dict[str, Any]] = []
    fp_by_kind: Counter[str] = Counter()
    for key in sorted(report.lines - matched - neutral):
        kind = negatives.get(key, "unlabeled")
        fp_by_kind[kind] += 1
        fp_list.append({"path": key[0], "line": key[1], "kind": kind, "meta": report.meta.get(key, [])})
    tp = sum(found_by_type.values())
    fp = len(fp_list)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(labels) if labels else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(
        tp, fp, len(labels) - tp, round(precision, 4), round(recall, 4), round(f1, 4),
        {t: (found_by_type[t], total_by_type[t]) for t in sorted(total_by_type)},
        dict(fp_by_kind.most_common()), fn_list, fp_list,
    )  # fmt: skip


def tree_bytes(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def versions() -> dict[str, str]:
    def pip_version(name: str) -> str:
        python = VENV_BIN / "python" if name == "bastion" else PEER_BIN / "python"
        out = subprocess.run(  # bastion: ignore[sast.bandit.B603] the venv's own python, constant names
            [str(python), "-c", f"import importlib.metadata as m; print(m.version('{name}'))"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return out.stdout.strip()

    return {name: pip_version(name) for name in ("bastion", "credsweeper", "detect-secrets", "onnxruntime")}


def save(name: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


# ------------------------------------------------------------------ commands


def cmd_corpus(corpus: Path, reps: int) -> None:
    tree = corpus / "tree"
    OUT.mkdir(parents=True, exist_ok=True)
    size = tree_bytes(tree)
    results: dict[str, Any] = {"corpus": str(corpus.relative_to(REPO)), "bytes": size, "versions": versions()}
    # Warm the page cache and Python's bytecode caches once.
    run(bastion_cmd(tree, OUT / "bastion.json"))
    bastion_runs = [run(bastion_cmd(tree, OUT / "bastion.json")) for _ in range(reps)]
    bastion_1 = [run(bastion_cmd(tree, OUT / "bastion-j1.json", jobs=1)) for _ in range(reps)]
    print(
        f"bastion: {[r.wall_s for r in bastion_runs]} s (jobs=1: {[r.wall_s for r in bastion_1]})", flush=True
    )
    ds_out = OUT / "detect-secrets.json"
    ds_run = run(detect_secrets_cmd(tree), stdout=ds_out)
    print(f"detect-secrets: {ds_run.wall_s} s", flush=True)
    cs_out = OUT / "credsweeper.json"
    cs_run = run(credsweeper_cmd(tree, cs_out, jobs=2))
    print(f"credsweeper --jobs 2: {cs_run.wall_s} s", flush=True)
    cs1_out = OUT / "credsweeper-j1.json"
    cs1_run = run(credsweeper_cmd(tree, cs1_out, jobs=1))
    print(f"credsweeper --jobs 1: {cs1_run.wall_s} s", flush=True)

    rows: dict[str, Any] = {}

    def row(name: str, rep: Report, runs: list[Run]) -> None:
        s = score(rep, corpus)
        wall = statistics.median(r.wall_s for r in runs)
        rows[name] = {
            "score": {k: v for k, v in s.__dict__.items() if k not in ("fn_list", "fp_list")},
            "wall_s": wall, "walls": [r.wall_s for r in runs], "mb_s": round(size / 1e6 / wall, 3),
            "max_rss_kb": max(r.max_rss_kb for r in runs), "rc": [r.rc for r in runs],
        }  # fmt: skip
        if name.startswith("bastion"):
            rows[name]["fn_list"] = s.fn_list
            rows[name]["fp_list"] = s.fp_list

    row("bastion (jobs=2, default)", parse_bastion(OUT / "bastion.json", tree), bastion_runs)
    row("bastion --min-confidence medium", parse_bastion(OUT / "bastion.json", tree, "medium"), bastion_runs)
    row("bastion --jobs 1", parse_bastion(OUT / "bastion-j1.json", tree), bastion_1)
    row("credsweeper --jobs 2", parse_credsweeper(cs_out, tree), [cs_run])
    row("credsweeper --jobs 1", parse_credsweeper(cs1_out, tree), [cs1_run])
    row("detect-secrets", parse_detect_secrets(ds_out, tree), [ds_run])
    results["rows"] = rows
    save("corpus", results)
    print(report_tables())


def cmd_throughput(timeout: float) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"versions": versions()}
    subset = WORK / "site-subset"
    if subset.exists():
        shutil.rmtree(subset)
    subset.mkdir(parents=True)
    for pkg in SUBSET_PACKAGES:
        if (SITE / pkg).is_dir():
            shutil.copytree(SITE / pkg, subset / pkg, ignore=shutil.ignore_patterns("__pycache__"))

    def bastion_bytes(out: Path) -> tuple[int, int]:
        data = json.loads(out.read_text())
        return int(data["summary"]["bytes_scanned"]), int(data["summary"]["files_scanned"])

    rows: dict[str, Any] = {}
    for label, target in (("site-packages", SITE), ("subset", subset)):
        run(bastion_cmd(target, OUT / "tp-warm.json"))  # warm the page cache
        for jobs in (1, 0):
            name = f"bastion --jobs {jobs or 'default(2)'} on {label}"
            out = OUT / f"tp-bastion-{label}-{jobs}.json"
            runs = [
                run(bastion_cmd(target, out, jobs=jobs or None)) for _ in range(3 if label == "subset" else 2)
            ]
            nbytes, nfiles = bastion_bytes(out)
            wall = statistics.median(r.wall_s for r in runs)
            rows[name] = {"wall_s": wall, "walls": [r.wall_s for r in runs], "bytes": nbytes, "files": nfiles,
                          "mb_s": round(nbytes / 1e6 / wall, 2),
                          "findings": len(json.loads(out.read_text())["findings"]),
                          "max_rss_kb": max(r.max_rss_kb for r in runs)}  # fmt: skip
            print(name, rows[name]["wall_s"], "s", rows[name]["mb_s"], "MB/s", flush=True)
        # Same bytes for every tool: the text Bastion scanned (binaries and >5 MB files excluded).
        nbytes, nfiles = bastion_bytes(OUT / f"tp-bastion-{label}-0.json")
        for tool, cmd, stdout in (
            ("detect-secrets", detect_secrets_cmd(target), OUT / f"tp-ds-{label}.json"),
            ("credsweeper --jobs 2", credsweeper_cmd(target, OUT / f"tp-cs-{label}.json", 2), None),
            ("credsweeper --jobs 1", credsweeper_cmd(target, OUT / f"tp-cs1-{label}.json", 1), None),
        ):
            if label == "site-packages" and tool == "credsweeper --jobs 1":
                continue
            r = run(cmd, timeout=timeout, stdout=stdout)
            done = r.rc in (0, 1)
            rows[f"{tool} on {label}"] = {
                "wall_s": r.wall_s, "finished": done, "bytes": nbytes, "files": nfiles,
                "mb_s": round(nbytes / 1e6 / r.wall_s, 3) if done else None, "max_rss_kb": r.max_rss_kb,
            }  # fmt: skip
            print(
                tool, label, r.wall_s, "s", "finished" if done else f"NOT finished in {timeout} s", flush=True
            )
    results["rows"] = rows
    results["subset_packages"] = list(SUBSET_PACKAGES)
    save("throughput", results)
    print(report_tables())


def cmd_memory(corpora: list[Path]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows: dict[str, Any] = {}
    for corpus in corpora:
        tree = corpus / "tree"
        size = tree_bytes(tree)
        for jobs in (1, 0):
            runs = [
                run(bastion_cmd(tree, OUT / "mem.json", jobs=jobs or None), sample_rss=True) for _ in range(3)
            ]
            name = f"{corpus.name} jobs={jobs or 'default(2)'}"
            rows[name] = {
                "bytes": size, "files": sum(1 for f in tree.rglob("*") if f.is_file()),
                "max_rss_kb": max(r.max_rss_kb for r in runs),
                "tree_rss_kb": max(r.tree_rss_kb for r in runs),
                "wall_s": statistics.median(r.wall_s for r in runs),
            }  # fmt: skip
            print(name, rows[name], flush=True)
    save("memory", {"rows": rows})
    print(report_tables())


# ------------------------------------------------------------------- tables


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f}"


_HEX_VALUE = re.compile(r"(?<![0-9a-z])[0-9a-f]{40}(?:[0-9a-f]{24})?(?![0-9a-z])")
_LEADING = re.compile(r"""(?:=|:=|:|=>|,)\s*["']?[!@$%&]""")


def fn_cause(line: str, label: dict[str, Any]) -> str:
    """A heuristic root cause for a Bastion false negative (read from the corpus line, never shown)."""
    low = line.lower()
    if label["type"] == "generic-key-other":
        return "key name is *_key without a generic keyword (encryption_key, signing_key, hmac_key ...)"
    if re.search(r":\s*string\s*=", line):
        return 'TypeScript typed declaration `name: string = "..."`'
    if "props.put(" in line or "define(" in line:
        return "key and value separated by a comma: `put(\"k\", \"v\")`, PHP `define('K', 'v')`"
    if "=>" in line and "authorization" in low:
        return "PHP array `'Authorization' => 'Bearer ...'`"
    if (re.search(r"[a-z]Pass\b|\.pass\b", line) and "password" not in low) or re.search(r"api\.key", low):
        return "key spelling not in the prefilter: `dbPass`, `db.pass`, `x.api.key` (only `_pass`, `api_key`)"
    if _HEX_VALUE.search(low):
        return "40/64-hex value under a secret key screened as a hash"
    if label.get("format") == "markdown":
        return "unquoted value in a Markdown shell snippet (bare values only count in config files)"
    if _LEADING.search(line):
        return "value starts with ! @ $ % or &"
    if label["type"] == "gcp-service-account" or "begin" in low:
        return "placeholder word (xxxx, qwerty, dummy ...) inside a real key body"
    return "other"


def bastion_errors(corpus: Path, fn_list: list[dict[str, Any]], fp_list: list[dict[str, Any]]) -> list[str]:
    """FN grouped by heuristic cause and FP grouped by negative kind and rule, redacted examples."""
    tree = corpus / "tree"
    causes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for lab in fn_list:
        line = (tree / lab["path"]).read_text(encoding="utf-8").splitlines()[int(lab["line"]) - 1]
        causes[fn_cause(line, lab)].append(lab)
    out = [
        "| FN cause (heuristic) | count | types | examples (type, format, key, redacted value, path:line) |"
    ]
    out.append("|---|---|---|---|")
    for cause, labs in sorted(causes.items(), key=lambda kv: -len(kv[1])):
        types = Counter(lab["type"] for lab in labs)
        ex = "; ".join(
            f"{lab['type']}, {lab['format']}, `{lab['key']}`, `{lab['redacted']}`, "
            f"{lab['path']}:{lab['line']}"
            for lab in labs[:3]
        )
        out.append(
            f"| {cause} | {len(labs)} | {', '.join(f'{t} {n}' for t, n in types.most_common())} | {ex} |"
        )
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for fp in fp_list:
        meta = fp["meta"][0] if fp["meta"] else {}
        groups[(fp["kind"], meta.get("rule", ""), meta.get("confidence", ""))].append(fp)
    out += [
        "",
        "| FP negative kind | Bastion rule | confidence | count | examples (evidence as Bastion prints it) |",
    ]
    out.append("|---|---|---|---|---|")
    for (kind, rule, conf), fps in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        ex = "; ".join(f"`{fp['meta'][0].get('evidence', '')}` {fp['path']}:{fp['line']}" for fp in fps[:2])
        out.append(f"| {kind} | {rule} | {conf} | {len(fps)} | {ex} |")
    return out


def report_tables() -> str:
    parts: list[str] = []
    corpus = load("corpus")
    tp = load("throughput")
    mem = load("memory")
    if corpus:
        parts.append(
            f"Corpus: {corpus['corpus']}, {corpus['bytes'] / 1e6:.2f} MB; versions {corpus['versions']}\n"
        )
        parts.append(
            "| tool | TP | FP | FN | precision | recall | F1 | wall s (median) | corpus MB/s "
            "| peak RSS MB (largest process) |"
        )
        parts.append("|---|---|---|---|---|---|---|---|---|---|")
        for name, r in corpus["rows"].items():
            s = r["score"]
            parts.append(
                f"| {name} | {s['tp']} | {s['fp']} | {s['fn']} | {s['precision']:.3f} | {s['recall']:.3f} | "
                f"**{s['f1']:.3f}** | {r['wall_s']:.2f} | {r['mb_s']:.3f} | {_mb(r['max_rss_kb'])} |"
            )
        rows = corpus["rows"]
        b = rows["bastion (jobs=2, default)"]["wall_s"]
        b1 = rows["bastion --jobs 1"]["wall_s"]
        c2 = rows["credsweeper --jobs 2"]["wall_s"]
        c1 = rows["credsweeper --jobs 1"]["wall_s"]
        parts.append(
            f"\nWall-time ratios: Bastion/CredSweeper (both 2 jobs) = {b / c2:.4f} (1/{c2 / b:.0f}); "
            f"(both 1 job) = {b1 / c1:.4f} (1/{c1 / b1:.0f}); Bastion/detect-secrets = "
            f"{b / rows['detect-secrets']['wall_s']:.3f}\n"
        )
        for name in ("bastion (jobs=2, default)", "credsweeper --jobs 2", "detect-secrets"):
            fp = rows[name]["score"]["fp_by_kind"]
            parts.append(f"FP by negative kind, {name}: " + ", ".join(f"{k} {v}" for k, v in fp.items()))
        parts.append(
            "\nPer-type recall (found/total): Bastion default | Bastion min-conf medium "
            "| CredSweeper | detect-secrets\n"
        )
        parts.append("| type | Bastion | Bastion ≥medium | CredSweeper | detect-secrets |")
        parts.append("|---|---|---|---|---|")
        names = [
            "bastion (jobs=2, default)",
            "bastion --min-confidence medium",
            "credsweeper --jobs 2",
            "detect-secrets",
        ]
        for t, (f, n) in rows[names[0]]["score"]["recall_by_type"].items():
            cells = [f"{rows[x]['score']['recall_by_type'][t][0]}/{n}" for x in names]
            mark = "" if f == n else " ⚠"
            parts.append(f"| {t}{mark} | " + " | ".join(cells) + " |")
        default = rows["bastion (jobs=2, default)"]
        if "fn_list" in default:
            parts.append("\nBastion (default) false negatives and false positives:\n")
            parts += bastion_errors(REPO / corpus["corpus"], default["fn_list"], default["fp_list"])
    if tp:
        parts.append(
            "\nThroughput (bytes = text files Bastion scanned; binaries and files > 5 MB are skipped):\n"
        )
        parts.append("| run | files | MB | wall s | MB/s | peak RSS MB (largest process) |")
        parts.append("|---|---|---|---|---|---|")
        for name, r in tp["rows"].items():
            mbs = f"{r['mb_s']}" if r.get("mb_s") is not None else f"did not finish in {r['wall_s']:.0f} s"
            parts.append(
                f"| {name} | {r['files']} | {r['bytes'] / 1e6:.1f} | {r['wall_s']:.2f} | {mbs} "
                f"| {_mb(r['max_rss_kb'])} |"
            )
    if mem:
        parts.append("\nMemory (Bastion, 3 runs each, max):\n")
        parts.append(
            "| corpus | files | MB | wall s | peak RSS largest process MB "
            "| peak summed RSS of process tree MB |"
        )
        parts.append("|---|---|---|---|---|---|")
        for name, r in mem["rows"].items():
            parts.append(
                f"| {name} | {r['files']} | {r['bytes'] / 1e6:.1f} | {r['wall_s']:.2f} "
                f"| {_mb(r['max_rss_kb'])} | {_mb(r['tree_rss_kb'])} |"
            )
    text = "\n".join(parts) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tables.md").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("--corpus", type=Path, default=WORK / "corpus")
    c.add_argument("--reps", type=int, default=3)
    t = sub.add_parser("throughput")
    t.add_argument("--timeout", type=float, default=300.0)
    m = sub.add_parser("memory")
    m.add_argument("--corpora", type=Path, nargs="+", default=[WORK / "corpus", WORK / "corpus4x"])
    sub.add_parser("report")
    args = parser.parse_args()
    if args.command == "corpus":
        cmd_corpus(args.corpus.resolve(), args.reps)
    elif args.command == "throughput":
        cmd_throughput(args.timeout)
    elif args.command == "memory":
        cmd_memory([p.resolve() for p in args.corpora])
    else:
        print(report_tables())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
