"""uv.lock refreshed by the real uv after ``bastion fix --write`` raised a pin in pyproject.toml:
offline from a mirror the machine holds (a find-links directory of wheels), and "could not reach"
when the project's index refuses connections and nothing is cached. The wheels are built here
(empty packages named like the advisories' ones); no network address but 127.0.0.1 is used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fix_helpers import closed_port
from python_index import wheel

from bastion.cli.main import main

UV = Path(sys.executable).parent / "uv"
needs_uv = pytest.mark.skipif(not UV.exists(), reason="uv is not installed beside this Python")


def _project(root: Path, tool_uv: str) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "orders"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f'dependencies = ["django==2.2.0"]\n\n{tool_uv}',
        encoding="utf-8",
    )
    return root


def _uv_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No user uv configuration (the project's own [tool.uv] is the one read: UV_NO_CONFIG would
    drop it too and send uv to pypi.org), a cache of the test's own, uv on PATH."""
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("UV_INDEX_URL", raising=False)
    monkeypatch.delenv("UV_FIND_LINKS", raising=False)
    monkeypatch.setenv("PATH", f"{UV.parent}{os.pathsep}{os.environ['PATH']}")
    return {**os.environ, **env}


@needs_uv
def test_uv_refreshes_offline_from_a_mirror_this_machine_holds(
    tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for version in ("2.2.0", "2.2.28"):
        wheel("django", version, wheels)
    root = _project(tmp_path / "orders", f'[tool.uv]\nno-index = true\nfind-links = ["{wheels}"]\n')
    env = _uv_env(tmp_path, monkeypatch)
    subprocess.run([str(UV), "lock", "--quiet"], cwd=root, env=env, check=True)
    assert 'version = "2.2.0"' in (root / "uv.lock").read_text(encoding="utf-8")
    assert main(["fix", str(root), "--db", str(advisory_db), "--write"]) == 0
    err = capsys.readouterr().err
    assert "django==2.2.28" in (root / "pyproject.toml").read_text(encoding="utf-8")
    lock = (root / "uv.lock").read_text(encoding="utf-8")
    assert 'name = "django"\nversion = "2.2.28"' in lock and "2.2.0" not in lock.replace("==2.2.0", "")
    assert "uv.lock: refreshed with `uv lock --upgrade-package django==2.2.28` (offline" in err


@needs_uv
def test_uv_without_its_index_says_the_lockfile_is_not_refreshed(
    tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The project's index refuses connections and the cache is empty: pyproject is raised, uv.lock
    left as it was, and the line says the registry could not be reached."""
    index = f"http://127.0.0.1:{closed_port()}/simple"
    root = _project(
        tmp_path / "orders", f'[[tool.uv.index]]\nname = "mirror"\nurl = "{index}"\ndefault = true\n'
    )
    lock = (
        'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n\n[[package]]\nname = "django"\n'
        f'version = "2.2.0"\nsource = {{ registry = "{index}" }}\n\n[[package]]\nname = "orders"\n'
        'version = "0.1.0"\nsource = { virtual = "." }\ndependencies = [\n    { name = "django" },\n]\n\n'
        '[package.metadata]\nrequires-dist = [{ name = "django", specifier = "==2.2.0" }]\n'
    )
    (root / "uv.lock").write_text(lock, encoding="utf-8")
    _uv_env(tmp_path, monkeypatch)
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    assert main(["fix", str(root), "--db", str(advisory_db), "--write"]) == 1
    err = capsys.readouterr().err
    assert "django==2.2.28" in (root / "pyproject.toml").read_text(encoding="utf-8")
    assert (root / "uv.lock").read_text(encoding="utf-8") == lock
    line = next(line for line in err.splitlines() if line.startswith("uv.lock:"))
    assert line.startswith("uv.lock: lockfile not refreshed: uv could not reach PyPI ("), line
    assert "this machine holds no copy" in line
