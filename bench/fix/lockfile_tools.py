"""`bastion fix --write` against the ecosystems' real tools, online and offline, on this machine.

Each scenario builds a small project with one vulnerable pin, runs `bastion fix PATH --db DB
--write` as a subprocess (the tools on PATH, their registries reachable or not), and prints the
exit code, the wall time and the lockfile line Bastion printed. Registries that cannot be reached
are made so on purpose (a local port nothing listens on), so the result does not depend on this
machine's network; crates.io is also tried as it is (this machine cannot reach it).

Usage: python bench/fix/lockfile_tools.py [--tools-bin DIR] [--work build/lockfile-bench]
--tools-bin: a folder with uv and pip-compile (e.g. a venv's bin with `pip install uv pip-tools`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASTION = Path(sys.executable).with_name("bastion")
REGEX_1_5_4 = "d07a8629359eb56f1e2fb1652bb04212c072a87ba68546a04065d525673ac461"
CARGO_LOCK = f"""version = 3

[[package]]
name = "orders"
version = "0.1.0"
dependencies = [
 "regex",
]

[[package]]
name = "regex"
version = "1.5.4"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{REGEX_1_5_4}"
"""
LODASH = "sha512-cQKh8igo5QUhZ7lg38DYWAxMvjSAKG0A8wGSVimP07SIUEK2UO+arSRKbRZWtelMtN5V0Hkwh5ryOto/SshYIg=="
PACKAGE_LOCK = (
    '{"name": "web", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {'
    '"": {"name": "web", "version": "1.0.0", "dependencies": {"lodash": "4.17.11"}}, '
    '"node_modules/lodash": {"version": "4.17.11", '
    '"resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.11.tgz", "integrity": "' + LODASH + '"}}}\n'
)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def cargo(root: Path, source: str | None) -> None:
    """A crate on regex 1.5.4; ``source`` replaces crates.io (None: crates.io as it is)."""
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.rs").write_text("fn main() {}\n", encoding="utf-8")
    (root / "Cargo.toml").write_text(
        '[package]\nname = "orders"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[dependencies]\nregex = "1.5.4"\n',
        encoding="utf-8",
    )
    (root / "Cargo.lock").write_text(CARGO_LOCK, encoding="utf-8")
    if source is not None:
        (root / ".cargo").mkdir()
        config = f'[source.crates-io]\nreplace-with = "here"\n\n[source.here]\n{source}\n'
        (root / ".cargo" / "config.toml").write_text(config, encoding="utf-8")


def vendored_cargo(root: Path) -> None:
    """A crate whose registry is a vendored directory holding regex 1.5.4 and 1.5.5."""
    cargo(root, 'directory = "vendor"')
    for version, checksum in (("1.5.4", REGEX_1_5_4), ("1.5.5", "5" * 64)):
        crate = root / "vendor" / f"regex-{version}"
        (crate / "src").mkdir(parents=True)
        (crate / "src" / "lib.rs").write_text("", encoding="utf-8")
        manifest = f'[package]\nname = "regex"\nversion = "{version}"\nedition = "2018"\n'
        (crate / "Cargo.toml").write_text(manifest, encoding="utf-8")
        (crate / ".cargo-checksum.json").write_text(
            f'{{"files": {{}}, "package": "{checksum}"}}', encoding="utf-8"
        )


def npm(root: Path) -> None:
    """package.json and package-lock.json on lodash 4.17.11."""
    root.mkdir(parents=True)
    manifest = (
        '{\n  "name": "web",\n  "version": "1.0.0",\n  "dependencies": {\n    "lodash": "4.17.11"\n  }\n}\n'
    )
    (root / "package.json").write_text(manifest, encoding="utf-8")
    (root / "package-lock.json").write_text(PACKAGE_LOCK, encoding="utf-8")


def uv_project(root: Path, env: dict[str, str]) -> None:
    """A uv project pinned to django 2.2.0, locked by uv itself (from PyPI)."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = ["django==2.2.0"]\n',
        encoding="utf-8",
    )
    subprocess.run(["uv", "lock", "-q"], cwd=root, env=env, check=True)


def pip_compile_project(root: Path, env: dict[str, str]) -> None:
    """requirements.txt compiled by pip-compile from requirements.in, django pinned back to 2.2.0."""
    root.mkdir(parents=True)
    (root / "requirements.in").write_text("django<3\n", encoding="utf-8")
    command = ["pip-compile", "-q", "--output-file", "requirements.txt", "requirements.in"]
    subprocess.run(command, cwd=root, env=env, check=True)
    text = (root / "requirements.txt").read_text(encoding="utf-8")
    lines = ["django==2.2.0" if line.startswith("django==") else line for line in text.splitlines()]
    (root / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def fix(root: Path, database: Path, env: dict[str, str]) -> tuple[int, float, str]:
    """Exit code, seconds and the lockfile lines of `bastion fix ROOT --db DATABASE --write`."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(BASTION), "fix", str(root), "--db", str(database), "--write"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    lines = [line for line in done.stderr.splitlines() if "refreshed" in line and not line[:1].isdigit()]
    return done.returncode, elapsed, " / ".join(lines) or done.stderr.strip().splitlines()[-1]


def main() -> int:
    """Run the scenarios whose tools are installed; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tools-bin", type=Path, help="folder holding uv and pip-compile")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "lockfile-bench")
    args = parser.parse_args()
    work: Path = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    database = work / "advisories.sqlite3"
    fixtures = REPO / "tests" / "fixtures" / "advisories"
    for records in ([str(fixtures / "osv")], ["--kev", str(fixtures / "kev.json")]):
        subprocess.run(
            [str(BASTION), "db", "import", *records, "--database", str(database)],
            check=True,
            capture_output=True,
        )
    base = dict(os.environ)
    if args.tools_bin is not None:
        base["PATH"] = f"{args.tools_bin.resolve()}{os.pathsep}{base['PATH']}"
    dead = f"http://127.0.0.1:{closed_port()}"
    npm_cache = str(work / "npm-cache")
    # A proxy nothing listens on: the registry's URL (so the tools' cache keys) stays the same.
    npm_dead = {"npm_config_proxy": dead, "npm_config_https_proxy": dead}
    proxy_dead = {
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "http_proxy": dead,
        "https_proxy": dead,
        "ALL_PROXY": dead,
    }
    uv_cache = str(work / "uv-cache")
    scenarios: list[tuple[str, str, Callable[[Path], None], dict[str, str]]] = [
        ("cargo", "crates.io as this machine has it (unreachable)", lambda p: cargo(p, None), {}),
        (
            "cargo",
            "registry refusing connections, nothing cached",
            lambda p: cargo(p, f'registry = "sparse+{dead}/index/"'),
            {},
        ),
        ("cargo", "vendored registry, no network used", vendored_cargo, {}),
        ("npm", "registry reachable, empty cache", npm, {"npm_config_cache": npm_cache}),
        (
            "npm",
            "registry unreachable (dead proxy), cache from the run above",
            npm,
            {"npm_config_cache": npm_cache, **npm_dead},
        ),
        (
            "npm",
            "registry unreachable (dead proxy), empty cache",
            npm,
            {"npm_config_cache": str(work / "npm-empty"), **npm_dead},
        ),
    ]
    if shutil.which("uv", path=base["PATH"]):
        online = {"UV_CACHE_DIR": uv_cache}
        scenarios += [
            ("uv", "PyPI reachable (offline try first)", lambda p: uv_project(p, {**base, **online}), online),
            (
                "uv",
                "PyPI unreachable (dead proxy), cache from the run above",
                lambda p: uv_project(p, {**base, **online}),
                {**online, **proxy_dead},
            ),
            (
                "uv",
                "PyPI unreachable (dead proxy), empty cache",
                lambda p: uv_project(p, {**base, **online}),
                {"UV_CACHE_DIR": str(work / "uv-empty"), **proxy_dead},
            ),
        ]
    if shutil.which("pip-compile", path=base["PATH"]):
        scenarios += [
            ("pip-compile", "PyPI reachable", lambda p: pip_compile_project(p, base), {}),
            (
                "pip-compile",
                "PyPI unreachable (dead proxy)",
                lambda p: pip_compile_project(p, base),
                proxy_dead,
            ),
        ]
    print("| tool | scenario | exit | seconds | what bastion fix said |")
    print("| --- | --- | ---: | ---: | --- |")
    for index, (tool, scenario, build, extra) in enumerate(scenarios):
        root = work / f"{index}-{tool}"
        build(root)
        code, seconds, said = fix(root, database, {**base, **extra})
        print(f"| {tool} | {scenario} | {code} | {seconds:.1f} | {said} |")
    for tool in ("go", "mvn", "bundle", "poetry", "pnpm", "yarn", "dotnet"):
        found = shutil.which(tool)
        print(f"- {tool}: {'installed at ' + found if found else 'not installed here'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
