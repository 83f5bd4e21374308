"""Throughput of the taint analysis on a real tree, side by side with bandit on the same tree in
the same run: CPU seconds (one core), parse included. bandit runs as a child process and is
timed by its own CPU time (``RUSAGE_CHILDREN``).

Usage: ``.venv/bin/python bench/sast/speed.py DIR [--no-bandit]``
"""

import os
import pathlib
import resource
import subprocess
import sys
import time

from bastion.scan.sast.taint import analyze

root = pathlib.Path(sys.argv[1])
files = [
    (str(p.relative_to(root)), p.read_text(encoding="utf-8", errors="replace"))
    for p in sorted(root.rglob("*.py"))
]
lines = sum(t.count("\n") for _, t in files)
t0 = time.process_time()
w0 = time.perf_counter()
r = analyze(files)
dt = time.process_time() - t0
wall = time.perf_counter() - w0
print(f"{root}: {len(files)} files {lines} lines")
print(f"  taint:  cpu {dt:.2f}s ({lines / dt:,.0f} lines/s) wall {wall:.2f}s")
print(f"  {len(r.hits)} findings, {len(r.problems)} files or functions not analysed")
for h in r.hits[:10]:
    print("  ", h.rule.cwe, h.sink.path, h.sink.line, h.flow.origin.label, h.call)
if "--no-bandit" not in sys.argv:
    bandit = pathlib.Path(sys.executable).with_name("bandit")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    subprocess.run(
        [str(bandit), "-q", "-r", str(root), "-f", "json", "-o", os.devnull, "--exit-zero"],
        check=False,
        stderr=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"  bandit: cpu {cpu:.2f}s ({lines / cpu:,.0f} lines/s) wall {time.perf_counter() - w0:.2f}s")
    print(f"  taint / bandit CPU time: {dt / cpu:.2f}")
