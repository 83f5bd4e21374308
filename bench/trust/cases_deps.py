"""Issue 13's dependency-extraction paragraph and the CycloneDX scale target, through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from harness import Row, Workspace

BENCH_SBOM = Path(__file__).resolve().parents[1] / "sbom" / "bench_sbom.py"


def _purls(ws: Workspace, folder: str) -> tuple[set[str], str]:
    out = ws.path(folder, "bom.cdx.json")
    run = ws.bastion("sbom", folder, "-o", str(out))
    if not out.exists():
        return set(), run.text
    document = json.loads(out.read_text())
    return {c.get("purl", c.get("name", "")) for c in document.get("components", [])}, run.text


CASES = {
    "pnpm v5 peer-suffixed and registry-host keys": (
        "pnpm-lock.yaml",
        "lockfileVersion: 5.4\npackages:\n  /qs/6.10.1_react@18.0.0:\n    resolution: {integrity: sha512-x}\n"
        "  registry.npmjs.org/lodash/4.17.11:\n    resolution: {integrity: sha512-y}\n",
        ["pkg:npm/qs@6.10.1", "pkg:npm/lodash@4.17.11"],
    ),
    "npm v1 npm: alias": (
        "package-lock.json",
        json.dumps(
            {
                "name": "x",
                "lockfileVersion": 1,
                "dependencies": {
                    "lodash-old": {
                        "version": "npm:lodash@4.17.11",
                        "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.11.tgz",
                    }
                },
            }
        ),
        ["pkg:npm/lodash@4.17.11"],
    ),
    "npm gitlab:/github: shorthand is not a version": (
        "package-lock.json",
        json.dumps(
            {
                "name": "x",
                "lockfileVersion": 1,
                "dependencies": {
                    "tool": {"version": "github:owner/tool#abc123"},
                    "left-pad": {"version": "1.3.0"},
                },
            }
        ),
        ["pkg:npm/left-pad@1.3.0"],
    ),
    "go.mod replace of one version": (
        "go.mod",
        "module x\n\ngo 1.21\n\nrequire (\n\tgolang.org/x/text v0.3.0\n\tgithub.com/a/b v1.0.0\n)\n\n"
        "replace github.com/a/b v0.9.0 => github.com/c/d v2.0.0\n",
        ["pkg:golang/github.com/a/b@v1.0.0", "pkg:golang/golang.org/x/text@v0.3.0"],
    ),
    "requirements per-requirement options": (
        "requirements.txt",
        "django==1.11.0 --hash=sha256:abc\nflask==0.12 --global-option=x\n"
        "requests==2.19.0 --config-settings k=v\n",
        ["pkg:pypi/django@1.11.0", "pkg:pypi/flask@0.12", "pkg:pypi/requests@2.19.0"],
    ),
    "wheel paths": (
        "requirements.txt",
        "./wheels/cryptography-3.2-cp36-abi3-manylinux2010_x86_64.whl\n",
        ["pkg:pypi/cryptography@3.2"],
    ),
}


def dependency_extraction(ws: Workspace) -> list[Row]:
    """Each class of silently missed package from the issue."""
    rows = []
    for index, (label, (name, text, expected)) in enumerate(CASES.items()):
        folder = f"dx/{index}"
        ws.write(f"{folder}/{name}", text)
        purls, _output = _purls(ws, folder)
        missing = [p for p in expected if p not in purls]
        wrong = sorted(p for p in purls if "_react" in p or "github:" in p or ".whl" in p or "c/d@v2" in p)
        rows.append(
            Row(
                "deps",
                f"bastion sbom {folder} ({label})",
                ", ".join(expected),
                f"missing {missing or 'none'}; wrong {wrong or 'none'}",
                not missing and not wrong,
            )
        )
    return rows


def cyclonedx(ws: Workspace) -> list[Row]:
    """20,000 packages under 5 s; no UserWarning on stderr; -q; no repeated file names."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(BENCH_SBOM), "--sizes", "20000", "--no-validate", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - started
    line = next(
        (x.strip() for x in done.stdout.splitlines() if "20000" in x or "20,000" in x),
        done.stdout.strip()[-200:],
    )
    rows = [
        Row(
            "sbom",
            "python bench/sbom/bench_sbom.py --sizes 20000 --no-validate --repeat 1",
            "20,000 packages under 5 s",
            f"{line} (script total {seconds:.1f} s)",
            done.returncode == 0,
        )
    ]
    ws.write("sb/requirements.txt", "django==1.11.0\nflask>=1.0\n")
    ws.write("sb/pom.xml", "<project><dependencies><dependency>")
    loud = ws.bastion("sbom", "sb", "-o", str(ws.path("sb", "bom.json")))
    quiet = ws.bastion("sbom", "sb", "-q", "-o", str(ws.path("sb", "bom2.json")))
    rows.append(
        Row(
            "sbom",
            "bastion sbom sb (unpinned flask, broken pom.xml)",
            "no UserWarning/site-packages path on stderr",
            f"UserWarning: {'UserWarning' in loud.err}; site-packages: {'site-packages' in loud.err}",
            "UserWarning" not in loud.err and "site-packages" not in loud.err,
        )
    )
    rows.append(
        Row(
            "sbom",
            "bastion sbom sb -q",
            "the unpinned-package list is not printed",
            f"'flask' in output: {'flask' in quiet.text}",
            "flask" not in quiet.text,
        )
    )
    rows.append(
        Row(
            "sbom",
            "bastion sbom sb (broken pom.xml note)",
            "file name once ('pom.xml: ...', not 'pom.xml: pom.xml:')",
            next((x.strip() for x in loud.text.splitlines() if "pom.xml" in x), "-")[:100],
            "pom.xml: pom.xml" not in loud.text,
        )
    )
    return rows
