"""Bastion's lockfile parsers against the package managers' own reading of the same lockfiles.

Usage (from the repository root; needs the npm and PyPI registries, nothing else):

    .venv/bin/python bench/deps/compare_lockfiles.py generate   # lockfiles + the managers' lists
    .venv/bin/python bench/deps/compare_lockfiles.py compare    # Bastion vs those lists, a table
    .venv/bin/python bench/deps/compare_lockfiles.py compare --dir tests/fixtures/deps-real

``generate`` installs the package managers into bench/deps/work/tools/ (npm's own registry:
pnpm 7, 8 and 9, yarn 1, yarn 4 via @yarnpkg/cli-dist, npm 6 via npx; PyPI: uv), resolves the
same projects with each (bench/deps/projects/), and writes to bench/deps/work/compare/<case>/ the
lockfile and ``expected.json``: the sorted ``name@version`` list that the package manager
itself reports for that lockfile:

- npm (lockfile v3 from npm 11, v1 from npm 6): ``npm query "*" --package-lock-only`` (Arborist);
- pnpm (lockfile 5.4, 6.0, 9.0): ``pnpm list --depth Infinity --json`` after an install;
- yarn 1: the installed node_modules tree (each package's package.json: ``yarn list`` names an
  alias by the alias); yarn 4: ``yarn info --all --recursive --json``;
- uv.lock: ``uv export --format requirements-txt``; a hash-locked requirements file from
  ``uv pip compile --generate-hashes``: pip's own requirements-file parser; poetry.lock (Poetry 2,
  run with ``uv tool run``): ``poetry show``; Pipfile.lock (pipenv ``lock``): ``pipenv requirements --dev``.

``compare`` parses each lockfile with Bastion's parser and prints, per case, the packages each
side has that the other does not. Exit status 1 when Bastion misses a package the manager lists
(a package only Bastion reads is in the lockfile but skipped by the manager's view on this
platform, such as fsevents on Linux or a ``sys_platform == 'win32'`` marker in poetry show).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess  # bastion: ignore[sast.bandit.B404] runs package managers with fixed argv
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
TOOLS = WORK / "tools"
OUT = WORK / "compare"
PROJECTS = HERE / "projects"
NPM_TOOLS = {
    "pnpm7": "pnpm@7",
    "pnpm8": "pnpm@8",
    "pnpm9": "pnpm@9",
    "yarn1": "yarn@1",
    "berry": "@yarnpkg/cli-dist@4",
}


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} in {cwd}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return done.stdout


def _tool(name: str) -> Path:
    binary = "yarn" if name in {"yarn1", "berry"} else "pnpm"
    path = TOOLS / name / "bin" / binary
    if not path.exists():
        _run(["npm", "install", "-g", "--prefix", str(TOOLS / name), NPM_TOOLS[name]], HERE)
    return path


def _uv() -> Path:
    path = TOOLS / "py" / "bin" / "uv"
    if not path.exists():
        _run([sys.executable, "-m", "venv", str(TOOLS / "py")], HERE)
        _run([str(TOOLS / "py" / "bin" / "pip"), "install", "-q", "uv"], HERE)
    return path


def _walk_tree(nodes: dict[str, Any], found: set[str], name_key: str) -> None:
    for key, node in nodes.items():
        if not isinstance(node, dict) or "version" not in node:
            continue
        found.add(f"{node.get(name_key) or key}@{node['version']}")
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            _walk_tree(node.get(section) or {}, found, name_key)


def _npm_expected(case: Path) -> set[str]:
    entries = json.loads(_run(["npm", "query", "*", "--package-lock-only"], case))
    return {f"{e['name']}@{e['version']}" for e in entries if e.get("location") and not e.get("link")}


def _pnpm_expected(case: Path, tool: Path) -> set[str]:
    found: set[str] = set()
    for project in json.loads(_run([str(tool), "list", "--depth", "Infinity", "--json"], case)):
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            _walk_tree(project.get(section) or {}, found, "from")
    return found


def _installed(case: Path) -> set[str]:
    """``name@version`` of every package yarn 1 installed (``yarn list`` names aliases by the alias)."""
    found: set[str] = set()

    def walk(modules: Path) -> None:
        for entry in sorted(modules.iterdir()) if modules.is_dir() else ():
            if entry.name.startswith("@"):
                walk(entry)
            elif not entry.name.startswith(".") and (entry / "package.json").is_file():
                manifest = json.loads((entry / "package.json").read_text(encoding="utf-8"))
                found.add(f"{manifest['name']}@{manifest['version']}")
                walk(entry / "node_modules")

    walk(case / "node_modules")
    return found


def _berry_expected(case: Path, tool: Path) -> set[str]:
    found: set[str] = set()
    for line in _run([str(tool), "info", "--all", "--recursive", "--json"], case, _BERRY_ENV).splitlines():
        value = json.loads(line)["value"]  # name@npm:1.0.0, or name@workspace:.
        name, _, rest = value[1:].partition("@")
        if rest.startswith("npm:"):
            found.add(f"{value[0]}{name}@{rest[4:]}")
    return found


_BERRY_ENV = {
    "YARN_ENABLE_TELEMETRY": "0",
    "YARN_ENABLE_GLOBAL_CACHE": "0",
    "YARN_NODE_LINKER": "node-modules",
}


def _uv_expected(case: Path) -> set[str]:
    text = _run(
        [
            str(_uv()),
            "export",
            "--format",
            "requirements-txt",
            "--no-hashes",
            "--all-extras",
            "--no-emit-project",
        ],
        case,
    )
    return {
        f"{m.group(1)}@{m.group(2)}" for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.MULTILINE)
    }


_PIP_READ = """
import json, sys
from pip._internal.network.session import PipSession
from pip._internal.req.req_file import parse_requirements
from pip._vendor.packaging.requirements import Requirement
out = []
for parsed in parse_requirements(sys.argv[1], session=PipSession()):
    req = Requirement(parsed.requirement)
    out.append(f"{req.name}@{next(iter(req.specifier)).version}")
print(json.dumps(out))
"""


def _pip_expected(case: Path) -> set[str]:
    python = TOOLS / "py" / "bin" / "python"
    _uv()
    return set(json.loads(_run([str(python), "-c", _PIP_READ, "requirements.txt"], case)))


def _npm_case(case: Path, manager: str) -> set[str]:
    if manager == "npm":
        _run(["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"], case)
        return _npm_expected(case)
    if manager == "npm6":
        _run(["npx", "-y", "npm@6", "install", "--package-lock-only", "--ignore-scripts", "--no-audit"], case)
        return _npm_expected(case)
    if manager.startswith("pnpm"):
        tool = _tool(manager)
        _run([str(tool), "install", "--ignore-scripts", "--store-dir", str(WORK / f"store-{manager}")], case)
        return _pnpm_expected(case, tool)
    if manager == "yarn1":
        tool = _tool(manager)
        _run(
            [
                str(tool),
                "install",
                "--ignore-scripts",
                "--non-interactive",
                "--cache-folder",
                str(WORK / "ycache"),
            ],
            case,
        )
        return _installed(case)
    tool = _tool("berry")
    (case / "yarn.lock").touch()
    _run([str(tool), "install", "--mode=skip-build"], case, _BERRY_ENV)
    return _berry_expected(case, tool)


def _poetry_expected(case: Path) -> set[str]:
    poetry = [str(_uv()), "tool", "run", "--from", "poetry", "poetry"]
    _run([*poetry, "lock"], case)
    found = set()
    for line in _run([*poetry, "show", "--no-ansi"], case).splitlines():
        parts = line.replace("(!)", " ").split()
        if len(parts) >= 2:
            found.add(f"{parts[0]}@{parts[1]}")
    return found


def _pipenv_expected(case: Path) -> set[str]:
    pipenv = [str(_uv()), "tool", "run", "pipenv"]
    env = {"PIPENV_VENV_IN_PROJECT": "1", "PIPENV_YES": "1"}
    _run([*pipenv, "lock"], case, env)
    text = _run([*pipenv, "requirements", "--dev"], case, env)
    return {
        f"{m.group(1)}@{m.group(2)}"
        for m in re.finditer(r"^([A-Za-z0-9._-]+)==([^;\s]+)", text, re.MULTILINE)
    }


def _python_case(case: Path, manager: str) -> set[str]:
    if manager == "pipenv":
        return _pipenv_expected(case)
    if manager == "poetry":
        return _poetry_expected(case)
    if manager == "uv":
        _run([str(_uv()), "lock"], case)
        return _uv_expected(case)
    _run(
        [
            str(_uv()),
            "pip",
            "compile",
            "pyproject.toml",
            "--all-extras",
            "--generate-hashes",
            "-o",
            "requirements.txt",
            "-q",
        ],
        case,
    )
    return _pip_expected(case)


CASES: dict[str, tuple[str, str, Callable[[Path, str], set[str]]]] = {}
for _project in ("web", "tools"):
    for _manager, _lock in (
        ("npm", "package-lock.json"),
        ("npm6", "package-lock.json"),
        ("pnpm7", "pnpm-lock.yaml"),
        ("pnpm8", "pnpm-lock.yaml"),
        ("pnpm9", "pnpm-lock.yaml"),
        ("yarn1", "yarn.lock"),
        ("berry", "yarn.lock"),
    ):
        CASES[f"{_project}-{_manager}"] = (f"npm-{_project}", _lock, _npm_case)
for _project in ("service", "data", "mini"):
    CASES[f"{_project}-uv"] = (f"py-{_project}", "uv.lock", _python_case)
    CASES[f"{_project}-pip-hashes"] = (f"py-{_project}", "requirements.txt", _python_case)
    CASES[f"{_project}-poetry"] = (f"py-{_project}", "poetry.lock", _python_case)
CASES["mini-pipenv"] = ("pipenv-mini", "Pipfile.lock", _python_case)


def generate(names: list[str]) -> None:
    """Resolve each case with its package manager and record the manager's own package list."""
    for name in names:
        project, lockfile, make = CASES[name]
        case = OUT / name
        shutil.rmtree(case, ignore_errors=True)
        case.mkdir(parents=True)
        for source in (PROJECTS / project).iterdir():
            # pyproject.toml.in: kept under another name so that Bastion's self-scan does not
            # read the deliberately old pins of these projects as the repository's own
            shutil.copy(source, case / source.name.removesuffix(".in"))
        manager = name.split("-", 1)[1]
        try:
            expected = make(case, manager)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"{name}: not generated ({str(exc).splitlines()[0]})", file=sys.stderr)
            continue
        (case / "expected.json").write_text(
            json.dumps({"lockfile": lockfile, "packages": sorted(expected)}, indent=1) + "\n"
        )
        print(f"{name}: {len(expected)} packages", file=sys.stderr)


def _bastion(case: Path, lockfile: str) -> tuple[set[str], list[str]]:
    from bastion.scan.deps.parsers import Workspace, parser_for

    parser = parser_for(lockfile)
    if parser is None:
        raise SystemExit(f"{case / lockfile}: no Bastion parser reads this file")
    result = parser.parse(
        (case / lockfile).read_text(encoding="utf-8"), lockfile, Workspace(case, {lockfile})
    )
    found = {f"{p.name}@{p.version}" for p in result.packages if p.version is not None}
    skipped = [f"{p.name} ({p.skip_reason})" for p in result.packages if p.version is None]
    return found, skipped + [m for m, _ in result.notices]


def _normal(entry: str, pypi: bool) -> str:
    if not pypi:
        return entry
    name, _, version = entry.rpartition("@")
    return f"{re.sub(r'[-_.]+', '-', name).lower()}@{version}"


def compare(folder: Path) -> int:
    """Print one row per case; 1 when Bastion and a package manager disagree anywhere."""
    rows = []
    status = 0
    for case in sorted(p for p in folder.iterdir() if (p / "expected.json").is_file()):
        expected_doc = json.loads((case / "expected.json").read_text())
        lockfile = expected_doc["lockfile"]
        pypi = lockfile in {"uv.lock", "requirements.txt", "poetry.lock", "Pipfile.lock"}
        expected = {_normal(e, pypi) for e in expected_doc["packages"]}
        found, skipped = _bastion(case, lockfile)
        found = {_normal(e, pypi) for e in found}
        missing, extra = sorted(expected - found), sorted(found - expected)
        status |= bool(missing)  # "only in Bastion": in the lockfile, not installable on this platform
        rows.append((case.name, lockfile, len(expected), len(found), missing, extra, skipped))
    print(
        "| case | lockfile | manager lists | Bastion reads | missed by Bastion | only in Bastion | skipped |"
    )
    print("|---|---|---:|---:|---|---|---|")
    for name, lockfile, expected_n, found_n, missing, extra, skipped in rows:
        print(
            f"| {name} | {lockfile} | {expected_n} | {found_n} | {', '.join(missing) or 0} | "
            f"{', '.join(extra) or 0} | {', '.join(skipped) or 0} |"
        )
    return status


def _names(selected: str | None) -> Iterator[str]:
    for name in CASES:
        if not selected or any(part in name for part in selected.split(",")):
            yield name


def main() -> int:
    """``generate`` or ``compare``."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=("generate", "compare"))
    parser.add_argument("--only", help="comma-separated substrings of case names (generate)")
    parser.add_argument("--dir", type=Path, default=OUT, help="folder of cases to compare")
    args = parser.parse_args()
    if args.step == "generate":
        generate(list(_names(args.only)))
        return 0
    return compare(args.dir)


if __name__ == "__main__":
    sys.exit(main())
