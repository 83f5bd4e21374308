"""Resource-level recall of Bastion against checkov, through the checkov ids each policy lists.

For every (file, resource, checkov id) that checkov fails, where some Bastion policy lists that id
as its equivalent, Bastion must fail the same resource with one of those policies. Prints recall
per checkov id and every miss, and the reverse (Bastion findings checkov does not have), and the
count of Bastion "unknown" notices per reason.

Usage (from the repository root; checkov in a separate virtualenv, never in .venv):
    .venv/bin/python bench/iac/recall.py --corpus bench/iac/realistic \
        --checkov build/peers/checkov-venv/bin/checkov
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess  # nosec B404 - runs the two tools being compared, fixed argument lists
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BASTION = ROOT / ".venv" / "bin" / "bastion"


_K8S_KINDS = ("Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob", "Service")


def _name(resource: str, checkov: bool = False) -> str:
    """One spelling for both tools: no ``data.`` prefix, CloudFormation logical id only, and
    Kubernetes objects as ``namespace/name`` (checkov's ``Kind.ns.name[.template]``, Bastion's
    ``ns/Kind/name``; checkov's pod templates count for their workload)."""
    resource = resource.removeprefix("data.")
    if checkov and resource.split(".", 1)[0] in _K8S_KINDS and resource.count(".") >= 2:
        _, namespace, name = resource.split(".")[:3]
        return f"{namespace}/{name}"
    if not checkov and resource.count("/") == 2:
        namespace, _, name = resource.split("/")
        return f"{namespace}/{name}"
    if "::" in resource:
        return resource.rsplit(".", 1)[-1]
    head, _, alias = resource.partition(".")
    if checkov and alias and "_" not in head and head != "module":  # provider blocks: aws.<alias>
        return f"provider.{head}" + ("" if alias in ("", "default") else f".{alias}")
    return resource


def _checkov(corpus: Path, checkov: Path) -> tuple[set[tuple[str, str, str]], float]:
    started = time.perf_counter()
    done = subprocess.run(  # nosec B603
        [
            str(checkov),
            "-d",
            str(corpus),
            "--skip-download",
            "--framework",
            "terraform",
            "cloudformation",
            "kubernetes",
            "-o",
            "json",
            "--quiet",
            "--compact",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    raw = json.loads(done.stdout or "[]")
    reports = raw if isinstance(raw, list) else [raw]
    failed: set[tuple[str, str, str]] = set()
    for report in reports:
        for check in report.get("results", {}).get("failed_checks", []):
            path = check["file_path"].lstrip("/")
            prefix = f"{corpus.as_posix().strip('/')}/"
            path = path.removeprefix(prefix)  # kubernetes paths are relative to the working directory
            failed.add((path, _name(check["resource"], checkov=True), check["check_id"]))
    return failed, elapsed


def _bastion(corpus: Path, src: Path | None) -> tuple[set[tuple[str, str, str]], list[str], float]:
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    started = time.perf_counter()
    subprocess.run(  # nosec B603
        [
            str(BASTION),
            "scan",
            str(corpus),
            "-s",
            "iac",
            "-f",
            "json",
            "-o",
            str(out / "recall-bastion.json"),
            "-q",
            "--fail-on",
            "none",
        ],
        check=False,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(src.resolve())} if src else None,
    )
    elapsed = time.perf_counter() - started
    report = json.loads((out / "recall-bastion.json").read_text())
    found = {
        (f["location"]["path"], _name(str(f["metadata"].get("resource"))), f["rule_id"])
        for f in report["findings"]
    }
    notices = [
        n["message"] for n in report.get("notices", []) if n["message"].startswith(("unknown:", "iac: "))
    ]
    return found, notices, elapsed


def main() -> int:
    """Run both tools on the corpus and print recall per checkov id."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=HERE / "realistic")
    parser.add_argument("--checkov", type=Path, default=HERE / ".venv" / "bin" / "checkov")
    parser.add_argument(
        "--bastion-src",
        type=Path,
        default=None,
        help="an older Bastion's src folder (put first on PYTHONPATH); ids mapped with this tree's policies",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from bastion.scan.iac.policy import builtin_policies

    mapping: dict[str, set[str]] = defaultdict(set)
    for policy in builtin_policies():
        for cid in policy.checkov:
            mapping[cid].add(policy.id)
    theirs, checkov_s = _checkov(args.corpus, args.checkov)
    ours, notices, bastion_s = _bastion(args.corpus, args.bastion_src)
    flagged = {(path, name, rule) for path, name, rule in ours}
    per_id: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[str] = []
    for path, name, cid in sorted(theirs):
        if cid not in mapping:
            continue
        hit = any((path, name, rule) in flagged for rule in mapping[cid])
        per_id[cid][0] += hit
        per_id[cid][1] += 1
        if not hit:
            misses.append(f"{cid} {path} {name}")
    hits = sum(h for h, _ in per_id.values())
    total = sum(t for _, t in per_id.values())
    print(f"checkov {checkov_s:.2f} s, Bastion {bastion_s:.2f} s ({checkov_s / bastion_s:.1f}x)")
    print(f"recall over checkov ids with a Bastion equivalent: {hits}/{total} = {hits / max(total, 1):.3f}")
    for cid in sorted(per_id):
        print(f"  {cid}: {per_id[cid][0]}/{per_id[cid][1]}  ({', '.join(sorted(mapping[cid]))})")
    print("misses:" if misses else "misses: none")
    for miss in misses:
        print(f"  {miss}")
    reverse = sorted(
        f"{rule} {path} {name}"
        for path, name, rule in ours
        if not rule.startswith(("iac.docker.", "iac.compose."))  # checkov runs TF, CFN and Kubernetes
        and (cids := [c for c, rules in mapping.items() if rule in rules])
        and not any((path, name, c) in theirs for c in cids)
    )
    agree = sum(
        1
        for path, name, rule in ours
        if any((path, name, c) in theirs for c, rules in mapping.items() if rule in rules)
    )
    print(f"Bastion findings of mapped policies that checkov does not fail: {len(reverse)}")
    judged = agree + len(reverse)
    print(f"precision of mapped Bastion findings: {agree}/{judged} = {agree / max(judged, 1):.3f}")
    for line in reverse:
        print(f"  {line}")
    summary = [n for n in notices if n.startswith("iac: ")]
    notices = [n for n in notices if n.startswith("unknown:")]
    print(summary[0] if summary else "iac: no policy evaluation ended unknown")
    reasons = Counter(re.sub(r"^unknown: .*?\(line \d+\): ", "", n).split(" (iac.")[0] for n in notices)
    print(f"unknown notices: {len(notices)}")
    for reason, count in reasons.most_common(10):
        print(f"  {count} x {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
