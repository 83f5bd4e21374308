"""Throughput of the taint analysis on a real tree: CPU seconds of this process (one core),
parse included. Usage: ``python bench/sast/speed.py DIR``."""

import pathlib
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
print(f"{root}: {len(files)} files {lines} lines cpu {dt:.2f}s ({lines / dt:,.0f} lines/s) wall {wall:.2f}s")
print(f"  {len(r.hits)} findings, {len(r.problems)} files or functions not analysed")
for h in r.hits[:10]:
    print("  ", h.rule.cwe, h.sink.path, h.sink.line, h.flow.origin.label, h.call)
