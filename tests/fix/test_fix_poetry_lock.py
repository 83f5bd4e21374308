"""poetry.lock refreshed by the real poetry (a dev dependency) after ``bastion fix --write`` raised
django 2.2.0 to 2.2.28 in pyproject.toml, resolving from a PEP 503 index on 127.0.0.1 that serves
wheels built here; an index that refuses connections gives "could not reach PyPI"."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fix_helpers import closed_port
from python_index import simple_index, wheel

from bastion.cli.main import main

POETRY = Path(sys.executable).parent / "poetry"
needs_poetry = pytest.mark.skipif(not POETRY.exists(), reason="poetry is not installed beside this Python")
PYPROJECT = """[project]
name = "orders"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["django==2.2.0"]

[[tool.poetry.source]]
name = "mirror"
url = "{index}"
priority = "primary"
"""


def _poetry_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No user poetry configuration or cache; poetry (beside this Python) on PATH."""
    for name, value in {
        "POETRY_CONFIG_DIR": tmp_path / "poetry-config",
        "POETRY_CACHE_DIR": tmp_path / "poetry-cache",
        "POETRY_DATA_DIR": tmp_path / "poetry-data",
        "HOME": tmp_path / "home",
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("PATH", f"{POETRY.parent}{os.pathsep}{os.environ['PATH']}")
    return dict(os.environ)


def _locked(root: Path, env: dict[str, str]) -> str:
    """poetry.lock as the real poetry first writes it (django 2.2.0)."""
    done = subprocess.run(
        [str(POETRY), "lock"], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return (root / "poetry.lock").read_text(encoding="utf-8")


@needs_poetry
def test_poetry_refreshes_its_lockfile_from_the_projects_index(
    tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _poetry_env(tmp_path, monkeypatch)
    built = tmp_path / "built"
    built.mkdir()
    wheels = [wheel("django", version, built) for version in ("2.2.0", "2.2.28", "3.0.0")]
    root = tmp_path / "orders"
    root.mkdir()
    with simple_index(tmp_path / "index", {"django": wheels}) as index:
        (root / "pyproject.toml").write_text(PYPROJECT.format(index=index), encoding="utf-8")
        assert 'name = "django"\nversion = "2.2.0"' in _locked(root, env)
        assert main(["fix", str(root), "--db", str(advisory_db), "--write"]) == 0
    err = capsys.readouterr().err
    assert '"django==2.2.28"' in (root / "pyproject.toml").read_text(encoding="utf-8")
    lock = (root / "poetry.lock").read_text(encoding="utf-8")
    digest = hashlib.sha256(wheels[1].read_bytes()).hexdigest()
    assert 'name = "django"\nversion = "2.2.28"' in lock
    assert f'{{file = "django-2.2.28-py3-none-any.whl", hash = "sha256:{digest}"}}' in lock
    assert "2.2.0" not in lock and "3.0.0" not in lock
    assert "poetry.lock: refreshed with `poetry lock`\n" in err


@needs_poetry
@pytest.mark.slow  # poetry tries a refused connection five times, 7.5 s of backoff it has no setting for
def test_poetry_without_its_index_says_the_lockfile_is_not_refreshed(
    tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _poetry_env(tmp_path, monkeypatch)
    built = tmp_path / "built"
    built.mkdir()
    root = tmp_path / "orders"
    root.mkdir()
    with simple_index(tmp_path / "index", {"django": [wheel("django", "2.2.0", built)]}) as index:
        (root / "pyproject.toml").write_text(PYPROJECT.format(index=index), encoding="utf-8")
        before = _locked(root, env)
    gone = PYPROJECT.format(index=f"http://127.0.0.1:{closed_port()}/simple/")
    (root / "pyproject.toml").write_text(gone, encoding="utf-8")
    assert main(["fix", str(root), "--db", str(advisory_db), "--write"]) == 1
    err = capsys.readouterr().err
    assert '"django==2.2.28"' in (root / "pyproject.toml").read_text(encoding="utf-8")
    assert (root / "poetry.lock").read_text(encoding="utf-8") == before
    line = next(line for line in err.splitlines() if line.startswith("poetry.lock:"))
    assert line.startswith("poetry.lock: lockfile not refreshed: poetry could not reach PyPI ("), line
    assert line.endswith("; run `poetry lock`")
