"""Throughput of the JS taint analysis beside semgrep's taint mode, same file, same run.

Generates one dense Express file (``--handlers`` routes with a helper each), analyses it with
Bastion (CPU time of this process) and with ``semgrep scan -j 1`` using
``semgrep_js_taint.yml`` (wall time of the subprocess), and semgrep on a one-line file to show
its start-up cost, which is subtracted for the per-line rate.

Usage: ``python bench/sast/speed_js.py [--handlers 5000]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bastion.scan.sast.taint.js import analyze_js

HERE = Path(__file__).resolve().parent


def dense_file(handlers: int) -> str:
    """``handlers`` routes, each with a helper, a guard, a sink and an XSS sink."""
    parts = ['const cp = require("child_process");', 'const app = require("express")();']
    for i in range(handlers):
        parts.append(f'function h{i}(x) {{\n  const y = `a${{x}}` + "{i}";\n  return y.trim();\n}}')
        parts.append(
            f'app.get("/p{i}", (req, res) => {{\n  const v = h{i}(req.query.q{i});\n'
            f'  if (["a", "b"].includes(v)) {{\n    cp.exec(v);\n  }}\n  res.send("<p>" + v + "</p>");\n}});'
        )
    return "\n".join(parts) + "\n"


def semgrep_seconds(path: Path) -> float:
    """Wall seconds of one semgrep taint-mode run over ``path``."""
    semgrep = Path(sys.executable).with_name("semgrep")
    start = time.perf_counter()
    subprocess.run(
        [
            str(semgrep),
            "scan",
            "--config",
            str(HERE / "semgrep_js_taint.yml"),
            "--metrics=off",
            "--json",
            "--quiet",
            "--disable-version-check",
            "--no-git-ignore",
            "-j",
            "1",
            str(path),
        ],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - start


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--handlers", type=int, default=5000)
    args = parser.parse_args()
    text = dense_file(args.handlers)
    lines = text.count("\n")
    start = time.process_time()
    result = analyze_js([("big.js", text)])
    ours = time.process_time() - start
    print(f"file: {lines} lines; bastion findings: {len(result.hits)}")
    print(f"bastion-taint-js: {ours:.2f} s CPU, {lines / ours:,.0f} lines/s")
    with tempfile.TemporaryDirectory() as tmp:
        big, tiny = Path(tmp) / "big.js", Path(tmp) / "tiny.js"
        big.write_text(text, encoding="utf-8")
        tiny.write_text("const a = 1;\n", encoding="utf-8")
        startup = semgrep_seconds(tiny)
        theirs = semgrep_seconds(big)
    rate = lines / max(theirs - startup, 1e-6)
    print(
        f"semgrep taint mode: {theirs:.2f} s wall ({startup:.2f} s of it start-up), "
        f"{rate:,.0f} lines/s after start-up"
    )


if __name__ == "__main__":
    main()
