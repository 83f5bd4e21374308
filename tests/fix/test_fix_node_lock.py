"""pnpm-lock.yaml and yarn.lock refreshed by the real pnpm, yarn berry and yarn classic, as
`make node-tools` pins them in tools/node, after ``bastion fix --write`` raised lodash 4.17.11
(two advisories) to 4.17.20 in package.json. The registry is a loopback stand-in (npm_registry)
serving packages built here; a registry that refuses connections gives "could not reach the npm
registry"."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from fix_helpers import closed_port
from npm_registry import Tarball, npm_registry, put_on_path, tarball, tool_script

from bastion.cli.main import main

VERSIONS = ("4.17.11", "4.17.20", "4.17.21")  # 4.17.20 fixes both advisories; 4.17.21 is the latest
PACKAGE_JSON = {"name": "orders-frontend", "version": "1.0.0", "dependencies": {"lodash": "4.17.11"}}
MISSING = "not installed in tools/node: run `make node-tools` (needs npm)"
needs_pnpm = pytest.mark.skipif(tool_script("pnpm") is None, reason=f"pnpm {MISSING}")
needs_yarn = pytest.mark.skipif(tool_script("yarn") is None, reason=f"yarn {MISSING}")
needs_yarn_classic = pytest.mark.skipif(tool_script("yarn-classic") is None, reason=f"yarn 1 {MISSING}")
LOCKFILES = {"pnpm": "pnpm-lock.yaml", "yarn": "yarn.lock", "yarn-classic": "yarn.lock"}


def _published() -> dict[str, Tarball]:
    return {version: tarball("lodash", version) for version in VERSIONS}


def _tools_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yarn: str = "yarn") -> dict[str, str]:
    """The pinned pnpm and ``yarn`` (berry, or yarn-classic) first on PATH; a home, caches and
    stores of the test's own."""
    bin_dir = tmp_path / "bin"
    put_on_path(bin_dir, "yarn", yarn)
    if tool_script("pnpm") is not None:
        put_on_path(bin_dir, "pnpm", "pnpm")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("YARN_CACHE_FOLDER", str(tmp_path / "yarn-classic-cache"))
    for name in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("YARN_ENABLE_TELEMETRY", "0")
    monkeypatch.setenv("npm_config_update_notifier", "false")
    for name in [key for key in os.environ if key.lower().startswith(("npm_config_registry", "yarn_npm"))]:
        monkeypatch.delenv(name)
    return dict(os.environ)


def _project(root: Path, tool: str, registry: str) -> Path:
    """package.json pinning lodash 4.17.11 and the tool's own setting naming ``registry``."""
    root.mkdir(exist_ok=True)
    (root / "package.json").write_text(json.dumps(PACKAGE_JSON, indent=2) + "\n", encoding="utf-8")
    _point_at(root, tool, registry)
    return root


def _point_at(root: Path, tool: str, registry: str) -> None:
    if tool == "pnpm":
        (root / ".npmrc").write_text(f"registry={registry}/\n", encoding="utf-8")
    elif tool == "yarn-classic":
        (root / ".yarnrc").write_text(f'registry "{registry}/"\n', encoding="utf-8")
    else:  # yarn berry asks plain http only of hosts it is told to trust
        settings = f'npmRegistryServer: "{registry}"\nunsafeHttpWhitelist: ["127.0.0.1"]\n'
        (root / ".yarnrc.yml").write_text(settings, encoding="utf-8")


def _lock(root: Path, tool: str, env: dict[str, str]) -> str:
    """The lockfile as the real tool first writes it (lodash 4.17.11)."""
    argv = {
        "pnpm": ["pnpm", "install", "--lockfile-only", "--ignore-scripts"],
        "yarn": ["yarn", "install", "--mode=update-lockfile"],
        "yarn-classic": ["yarn", "install", "--ignore-scripts", "--non-interactive"],
    }[tool]
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return (root / LOCKFILES[tool]).read_text(encoding="utf-8")


def _fix(root: Path, db: Path) -> int:
    return main(["fix", str(root), "--db", str(db), "--write"])


@needs_pnpm
def test_pnpm_refreshes_its_lockfile_from_the_registry(
    tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _tools_env(tmp_path, monkeypatch)
    published = _published()
    with npm_registry(*published.values()) as registry:
        root = _project(tmp_path / "web", "pnpm", registry.url)
        before = _lock(root, "pnpm", env)
        assert f"lodash@4.17.11:\n    resolution: {{integrity: {published['4.17.11'].integrity}}}" in before
        assert _fix(root, advisory_db) == 0
    err = capsys.readouterr().err
    assert '"lodash": "4.17.20"' in (root / "package.json").read_text(encoding="utf-8")
    lock = (root / "pnpm-lock.yaml").read_text(encoding="utf-8")
    assert "specifier: 4.17.20\n        version: 4.17.20" in lock
    assert f"lodash@4.17.20:\n    resolution: {{integrity: {published['4.17.20'].integrity}}}" in lock
    assert "4.17.11" not in lock and "4.17.21" not in lock
    assert "pnpm-lock.yaml: refreshed with `pnpm install --lockfile-only --ignore-scripts`\n" in err
    assert "lodash" in registry.requests  # resolved from the stand-in, nowhere else


@needs_yarn
def test_yarn_refreshes_its_lockfile_from_the_registry(
    tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """yarn up, lockfile only: yarn.lock names 4.17.20 with the checksum of the archive yarn
    fetched from the stand-in (yarn's own: sha512 of the zip it keeps in its global cache)."""
    env = _tools_env(tmp_path, monkeypatch)
    with npm_registry(*_published().values()) as registry:
        root = _project(tmp_path / "web", "yarn", registry.url)
        assert 'resolution: "lodash@npm:4.17.11"' in _lock(root, "yarn", env)
        assert _fix(root, advisory_db) == 0
    err = capsys.readouterr().err
    assert '"lodash": "4.17.20"' in (root / "package.json").read_text(encoding="utf-8")
    lock = (root / "yarn.lock").read_text(encoding="utf-8")
    entry = re.search(r'"lodash@npm:4\.17\.20":\n  version: 4\.17\.20\n.*?checksum: (\S+)\n', lock, re.S)
    assert entry is not None, lock
    zips = list(tmp_path.rglob("lodash-npm-4.17.20-*.zip"))
    assert len(zips) == 1
    assert entry.group(1).split("/")[-1] == hashlib.sha512(zips[0].read_bytes()).hexdigest()
    assert "4.17.11" not in lock and "4.17.21" not in lock
    assert 'lodash: "npm:4.17.20"' in lock  # the workspace's own entry
    assert "lodash/-/lodash-4.17.20.tgz" in registry.requests
    assert "yarn.lock: refreshed with `yarn up lodash@4.17.20 --mode=update-lockfile`\n" in err
    assert not (root / "node_modules").exists() and not (root / ".pnp.cjs").exists()  # no link step


@needs_yarn_classic
def test_yarn_classic_refreshes_a_yarn_1_lockfile_in_its_own_format(
    tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _tools_env(tmp_path, monkeypatch, yarn="yarn-classic")
    published = _published()
    with npm_registry(*published.values()) as registry:
        root = _project(tmp_path / "web", "yarn-classic", registry.url)
        assert _lock(root, "yarn-classic", env).startswith("# THIS IS AN AUTOGENERATED FILE")
        assert _fix(root, advisory_db) == 0
    err = capsys.readouterr().err
    lock = (root / "yarn.lock").read_text(encoding="utf-8")
    new = published["4.17.20"]
    assert "# yarn lockfile v1" in lock and "__metadata" not in lock
    assert (
        f'lodash@4.17.20:\n  version "4.17.20"\n  resolved "{registry.url}/lodash/-/lodash-4.17.20.tgz'
        f'#{new.shasum}"\n  integrity {new.integrity}\n'
    ) in lock
    assert "4.17.11" not in lock and "4.17.21" not in lock
    assert (
        "yarn.lock: refreshed with `yarn install --ignore-scripts --non-interactive --no-progress`\n" in err
    )


@needs_yarn
@needs_yarn_classic
def test_a_yarn_1_lockfile_is_not_handed_to_yarn_berry(
    tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Berry would rewrite it in its own format, from its own registry setting: not run."""
    env = _tools_env(tmp_path, monkeypatch, yarn="yarn-classic")
    with npm_registry(*_published().values()) as registry:
        root = _project(tmp_path / "web", "yarn-classic", registry.url)
        before = _lock(root, "yarn-classic", env)
        _tools_env(tmp_path, monkeypatch, yarn="yarn")
        assert _fix(root, advisory_db) == 1
    err = capsys.readouterr().err
    assert (root / "yarn.lock").read_text(encoding="utf-8") == before
    assert (
        "yarn.lock: lockfile not refreshed: yarn failed: this lockfile needs yarn 1.x, and the yarn on "
        "PATH is 4.18.1; run `yarn install --ignore-scripts --non-interactive --no-progress`"
    ) in err


@needs_pnpm
@needs_yarn
@needs_yarn_classic
@pytest.mark.parametrize("tool", ["pnpm", "yarn", "yarn-classic"])
def test_a_registry_that_refuses_connections_leaves_the_lockfile_and_says_so(
    tool: str,
    tmp_path: Path,
    advisory_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The lockfile was written against a registry now gone: package.json is raised, the lockfile
    left as it was, and the line names the registry and the tool's connection error."""
    env = _tools_env(tmp_path, monkeypatch, yarn="yarn-classic" if tool == "yarn-classic" else "yarn")
    with npm_registry(*_published().values()) as registry:
        root = _project(tmp_path / "web", tool, registry.url)
        before = _lock(root, tool, env)
    _point_at(root, tool, f"http://127.0.0.1:{closed_port()}")
    assert _fix(root, advisory_db) == 1
    err = capsys.readouterr().err
    assert '"lodash": "4.17.20"' in (root / "package.json").read_text(encoding="utf-8")
    lockfile = LOCKFILES[tool]
    assert (root / lockfile).read_text(encoding="utf-8") == before
    line = next(line for line in err.splitlines() if line.startswith(f"{lockfile}:"))
    command = tool.removesuffix("-classic")
    assert line.startswith(
        f"{lockfile}: lockfile not refreshed: {command} could not reach the npm registry ("
    ), line
    assert "ECONNREFUSED" in line
    if tool == "pnpm":  # its offline try found nothing of this registry's in the cache
        assert "this machine holds no copy" in line and line.endswith(
            "run `pnpm install --lockfile-only --ignore-scripts`"
        )
    elif tool == "yarn":
        assert line.endswith("run `yarn up lodash@4.17.20 --mode=update-lockfile`")
    else:
        assert line.endswith("run `yarn install --ignore-scripts --non-interactive --no-progress`")
    assert "1 lockfile not refreshed" in err


@needs_pnpm
def test_pnpm_resolves_an_exact_pin_from_its_cache_when_the_registry_is_gone(
    tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The registry went away after pnpm cached its packument of lodash (every version, with
    integrity): pnpm resolves the exact pin 4.17.20 from that cache without asking the registry,
    so its first, online try already succeeds."""
    env = _tools_env(tmp_path, monkeypatch)
    published = _published()
    with npm_registry(*published.values()) as registry:
        root = _project(tmp_path / "web", "pnpm", registry.url)
        _lock(root, "pnpm", env)
    assert _fix(root, advisory_db) == 0  # the same registry URL, nothing listening there now
    err = capsys.readouterr().err
    lock = (root / "pnpm-lock.yaml").read_text(encoding="utf-8")
    assert f"lodash@4.17.20:\n    resolution: {{integrity: {published['4.17.20'].integrity}}}" in lock
    assert "4.17.11" not in lock
    assert "pnpm-lock.yaml: refreshed with `pnpm install --lockfile-only --ignore-scripts`\n" in err
