"""The light install (scripts/install-hook.sh) is enough for secrets-only pipelines: with every
package outside its list (and their own dependencies) made unimportable, `bastion-hook scan` and
`bastion scan --scanner secrets` still find a committed secret, and a command that needs more says
which package is missing (exit 2, one line) instead of a traceback."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import typer
from packaging.requirements import Requirement
from typer.testing import CliRunner

from bastion.cli import output

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-hook.sh"
AWS_KEY_ID = "ACCARYFKRUSWHCIOAAJN"  # the rule file's own generated example, grants nothing

PROBE = """
import json, pkgutil, sys
allowed = set(json.loads(sys.argv[1]))
for module in pkgutil.iter_modules():
    top = module.name
    if top not in sys.stdlib_module_names and top not in allowed and not top.startswith("_"):
        sys.modules[top] = None  # what Python does for a module that is not there: ImportError
entry = sys.argv[2]
if entry == "hook":
    from bastion.ci.hook import main
else:
    from bastion.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def light_requirements() -> list[str]:
    """The LIGHT=( ... ) list of the install script."""
    block = re.search(r"LIGHT=\((.*?)\)", SCRIPT.read_text(encoding="utf-8"), re.S)
    assert block, "scripts/install-hook.sh has no LIGHT=( ... ) list"
    return re.findall(r'"([^"]+)"', block.group(1))


def _closure(requirements: list[str]) -> set[str]:
    """Distribution names of ``requirements`` and everything they require (no extras)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = req.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(req.name) or []:
            child = Requirement(line)
            if child.marker is None or child.marker.evaluate({"extra": ""}):
                todo.append(child)
    return seen


def _allowed_modules() -> list[str]:
    dists = _closure(light_requirements()) | {"bastion"}
    modules = [
        module
        for module, owners in metadata.packages_distributions().items()
        if any(owner.lower().replace("_", "-") in dists for owner in owners)
    ]
    return sorted({*modules, "bastion"})


def _run(entry: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # bastion: ignore[sast.bandit.B603] this interpreter, a constant probe
        [sys.executable, "-c", PROBE, json.dumps(_allowed_modules()), entry, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_light_list_leaves_the_heavy_packages_out() -> None:
    dists = _closure(light_requirements())
    assert {"typer", "rich", "pydantic", "pathspec", "pyyaml", "pyahocorasick"} <= dists
    heavy = {"scikit-learn", "numpy", "fastapi", "sqlalchemy", "bandit", "semgrep", "cryptography", "httpx"}
    assert not dists & heavy


def test_secrets_scan_runs_with_only_the_light_packages(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(f'token = "{AWS_KEY_ID}"\n', encoding="utf-8")
    for entry, flag in (("hook", "--scanners"), ("bastion", "--scanner")):
        out = tmp_path / f"{entry}.json"
        args = [
            "scan",
            str(tmp_path),
            flag,
            "secrets",
            "--fail-on",
            "medium",
            "-f",
            "json",
            "-o",
            str(out),
            "-q",
        ]
        done = _run(entry, *args)
        assert done.returncode == 1, done.stderr
        report = json.loads(out.read_text(encoding="utf-8"))
        assert [f["rule_id"] for f in report["findings"]] == ["secrets.aws-access-key-id"]


def test_a_command_needing_more_names_the_missing_package() -> None:
    done = _run("bastion", "serve")
    assert done.returncode == 2
    assert "needs the Python package" in done.stderr and "Traceback" not in done.stderr
    # a group whose module itself imports a missing package: its stand-in, built when it is run
    done = _run("bastion", "identity", "detect", "signins.jsonl")
    assert done.returncode == 2
    assert "bastion identity needs the Python package 'maxminddb'" in done.stderr


def test_help_lists_every_group_in_a_light_install() -> None:
    """Command groups load lazily: the listing comes from their data, so it is whole and exits 0
    even where a group's packages are missing."""
    done = _run("bastion", "--help")
    assert done.returncode == 0, done.stderr
    for name in ("scan", "db", "serve", "identity", "watch", "respond", "drill"):
        assert f" {name} " in done.stdout


def test_group_and_command_stand_ins_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same stand-ins without a subprocess: a group module that fails on a third-party
    import becomes one command that names the package; a bastion module missing stays a bug."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test app"""

    def fail(name: str) -> Any:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(importlib, "import_module", lambda _: fail("maxminddb.reader"))
    output.register_group(app, "identity")
    result = CliRunner().invoke(app, ["identity", "detect", "x"])
    assert result.exit_code == 2
    assert "needs the Python package 'maxminddb'" in result.stderr
    monkeypatch.setattr(importlib, "import_module", lambda _: fail("bastion.cli.nothing"))
    with pytest.raises(ModuleNotFoundError):
        output.register_group(app, "nothing")

    def needs_uvicorn() -> int:
        fail("uvicorn")
        return 0

    with pytest.raises(typer.Exit) as exit_info:
        output.command(needs_uvicorn)()
    assert exit_info.value.exit_code == 2
    assert "needs the Python package 'uvicorn'" in capsys.readouterr().err

    def internal() -> int:
        fail("bastion.missing")
        return 0

    with pytest.raises(ModuleNotFoundError):
        output.command(internal)()
