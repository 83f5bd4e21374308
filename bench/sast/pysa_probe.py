"""Can Pysa (``pyre-check``) be compared with Bastion here? A probe on three one-function cases.

Pysa needs its own environment (``pyre-check`` pins ``pyrefly``, which it uses for types):

    python3 -m venv build/pysa-venv && build/pysa-venv/bin/pip install pyre-check==0.10.0
    .venv/bin/python bench/sast/pysa_probe.py --pysa build/pysa-venv

It writes a project under ``build/pysa/probe`` (Pysa's and pyrefly's configuration pointing at
Bastion's ``.venv`` site-packages for Flask, and at the models pyre-check ships), runs
``pyre analyze`` once, and prints which case Pysa reported, the wall time, and what Bastion's
analysis reports on the same file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

from bastion.scan.sast.taint import analyze

APP = """
import os
from flask import Flask, request

app = Flask(__name__)


def build(part):
    return "ping " + part


def get_input():
    return ""


@app.route("/form")
def form_view():
    os.system(build(request.form["q"]))  # Flask form data, through a helper
    return "ok"


@app.route("/args")
def args_view():
    os.system("ping " + request.args.get("q", ""))  # Flask query string
    return "ok"


def modelled():
    os.system(build(get_input()))  # a source declared in the probe's own model
"""
EXTRA_MODEL = "def app.get_input() -> TaintSource[UserControlled]: ...\n"


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--pysa", type=Path, default=Path("build/pysa-venv"), help="venv with pyre-check")
    parser.add_argument("--out", type=Path, default=Path("build/pysa/probe"))
    args = parser.parse_args()
    venv, root = args.pysa.resolve(), args.out.resolve()
    if not (venv / "bin" / "pyre").exists():
        sys.exit(f"{venv}: no pyre-check installed there (see the module docstring)")
    shutil.rmtree(root, ignore_errors=True)
    (root / "src").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "src" / "app.py").write_text(textwrap.dedent(APP).lstrip("\n"), encoding="utf-8")
    (root / "models" / "probe.pysa").write_text(EXTRA_MODEL, encoding="utf-8")
    site = sysconfig.get_paths()["purelib"]
    shipped = venv / "lib" / "pyre_check"
    config = {
        "source_directories": ["."],
        "taint_models_path": [
            str(root / "models"),
            str(shipped / "taint"),
            str(shipped / "third_party_taint"),
        ],
        "search_path": [site],
        "typeshed": str(shipped / "typeshed"),
    }
    (root / "src" / ".pyre_configuration").write_text(json.dumps(config, indent=1), encoding="utf-8")
    (root / "src" / "pyrefly.toml").write_text(
        f'project_includes = ["."]\nproject_excludes = ["out"]\nsearch_path = ["."]\n'
        f'site_package_path = ["{site}"]\nuse-ignore-files = false\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    command = [str(venv / "bin" / "pyre"), "--noninteractive", "analyze", "--no-verify"]
    proc = subprocess.run(
        [*command, "--save-results-to", "out"],
        cwd=root / "src",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    errors = root / "src" / "out" / "errors.json"
    issues = json.loads(errors.read_text(encoding="utf-8")) if errors.exists() else []
    ours = [i for i in issues if i.get("path") == "app.py"]
    print(f"pysa: exit {proc.returncode}, {wall:.1f} s wall, {len(issues)} issues ({len(ours)} in app.py)")
    for issue in ours:
        print(f"  pysa app.py:{issue['line']} [{issue['code']}] {issue['name']}")
    result = analyze([("app.py", (root / "src" / "app.py").read_text(encoding="utf-8"))])
    for hit in sorted(result.hits, key=lambda h: h.sink.line):
        print(f"  bastion app.py:{hit.sink.line} CWE-{hit.rule.cwe} {hit.rule.id}")


if __name__ == "__main__":
    main()
