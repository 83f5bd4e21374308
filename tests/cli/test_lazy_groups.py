"""Lazy command groups: `bastion --help` lists every command with its help line without importing
any group's module, a group's module is imported only when one of its commands runs, and a scan
imports none of the libraries only other commands or other report formats need."""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import typer
import typer.main
from typer.testing import CliRunner

from bastion.cli import main as cli_main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "iac" / "terraform"

PROBE = """
import json, sys
from bastion.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _probe(*args: str) -> tuple[int, set[str], str]:
    done = subprocess.run(  # bastion: ignore[sast.bandit.B603] this interpreter, a constant probe
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120, check=False
    )
    last = done.stderr.strip().splitlines()[-1]
    data = json.loads(last)
    return int(data["code"]), set(data["modules"]), done.stdout


def _groups() -> list[cli_main.CommandGroup]:
    return [g for g in cli_main.COMMAND_GROUPS if isinstance(g, cli_main.CommandGroup)]


def _group_modules() -> set[str]:
    return {f"bastion.cli.{g.module}" for g in _groups()}


def _eager_click() -> click.Group:
    """The app as it was before lazy loading: scan, then every module's register, in order."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """eager"""

    from bastion.cli import scan

    scan.register(app)
    for group in _groups():
        importlib.import_module(f"bastion.cli.{group.module}").register(app)
    return typer.main.get_group(app)


def test_help_lists_every_command_and_imports_no_group_module() -> None:
    code, modules, out = _probe("--help")
    assert code == 0
    for group in _groups():
        for name in group.names():
            assert f" {name} " in out, name
    assert not modules & _group_modules()
    assert not {"httpx", "jinja2", "sqlalchemy", "fastapi", "bastion.ci.stages"} & {
        m.split(".")[0] if not m.startswith("bastion") else m for m in modules
    }


def test_help_lines_and_order_are_those_of_the_real_commands() -> None:
    """The help kept in COMMAND_GROUPS is each command's own first paragraph, and the listing
    keeps the order Typer gave when every group was registered eagerly."""
    eager = _eager_click()
    lazy = typer.main.get_command(cli_main.app)
    assert isinstance(lazy, cli_main.LazyGroup)
    ctx = click.Context(lazy)
    assert lazy.list_commands(ctx) == eager.list_commands(click.Context(eager))
    for name in (name for group in _groups() for name in group.names()):
        real = eager.commands[name]
        shown = lazy.get_command(ctx, name)
        assert shown is not None
        first = inspect.cleandoc(real.short_help or real.help or "").split("\n\n")[0]
        assert (shown.help or "") == first, name
    assert lazy.get_command(ctx, "no-such-command") is None


def test_a_group_runs_with_only_its_module_imported() -> None:
    code, modules, out = _probe("rules", "list", "--scanner", "secrets", "--format", "json")
    assert code == 0
    assert any(rule["id"].startswith("secrets.") for rule in json.loads(out)["rules"])
    assert modules & _group_modules() == {"bastion.cli.rules"}


def test_db_group_carries_the_migrate_command_serve_adds() -> None:
    result = CliRunner().invoke(cli_main.app, ["db", "--help"])
    assert result.exit_code == 0
    for sub in ("update", "import", "status", "migrate"):
        assert sub in result.output


def test_quiet_json_scan_loads_neither_other_formats_nor_printers_nor_other_commands_libraries(
    tmp_path: Path,
) -> None:
    report = tmp_path / "r.json"
    code, modules, _ = _probe("scan", str(FIXTURE), "-s", "iac", "-f", "json", "-o", str(report), "-q")
    assert code == 1  # the fixture holds misconfigurations
    assert json.loads(report.read_text(encoding="utf-8"))["findings"]
    unwanted = {
        "bastion.ci.stages",
        "bastion.report.sarif",
        "bastion.report.html",
        "bastion.report.gitlab",
        "bastion.report.junit",
        "bastion.report.markdown",
        "rich.progress",
    }
    assert not modules & (unwanted | _group_modules())
    assert not {m.split(".")[0] for m in modules} & {
        "httpx",
        "jinja2",
        "sqlalchemy",
        "fastapi",
        "numpy",
        "pygments",
    }


def test_stage_still_loads_on_demand(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text((FIXTURE / "main.tf").read_text(encoding="utf-8"), encoding="utf-8")
    report = tmp_path / "r.sarif"
    result = CliRunner().invoke(
        cli_main.app,
        ["scan", str(tmp_path), "--stage", "build", "-s", "iac", "-f", "sarif", "-o", str(report)],
    )
    assert result.exit_code in (0, 1), result.output
    assert json.loads(report.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli_main.app, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_light_install_stand_ins_cover_every_command_of_a_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module that fails on a third-party import gets a stand-in for each command it would add
    (serve adds serve, upload and user), each naming the missing package."""

    def fail(_: str) -> Any:
        raise ModuleNotFoundError("No module named 'fastapi'", name="fastapi")

    monkeypatch.setattr(cli_main, "_loaded", {})
    monkeypatch.setattr(importlib, "import_module", fail)
    for command in ("upload", "user"):
        result = CliRunner().invoke(cli_main.app, [command, "x"])
        assert result.exit_code == 2, result.output
        assert f"bastion {command} needs the Python package 'fastapi'" in result.stderr
    monkeypatch.setattr(cli_main, "_loaded", {})


def test_eager_string_entries_still_register() -> None:
    """A plain module name in COMMAND_GROUPS (the form groups were added in before) registers at
    once, next to the lazy entries, which a lazy group lists from their data."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test app"""

    groups: tuple[cli_main.CommandGroup | str, ...] = (
        "rules",
        cli_main.CommandGroup("fix", commands=(("fix", "F."),)),
    )
    cli_main.register_eager(app, groups)
    eager = typer.main.get_group(app)
    assert list(eager.commands) == ["rules"]

    class Group(cli_main.LazyGroup):
        lazy_groups = groups

    lazy = Group(name="t", commands=dict(eager.commands))
    ctx = click.Context(lazy)
    assert lazy.list_commands(ctx) == ["rules", "fix"]
    assert lazy.load("rules") is eager.commands["rules"]
    loaded = lazy.load("fix")
    assert loaded is not None and loaded.name == "fix"


def test_log_records_still_reach_stderr_through_rich(capsys: pytest.CaptureFixture[str]) -> None:
    """The Rich handler is built at the first record, and prints it as before."""
    from bastion.cli import output

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        output.configure_logging(verbose=False)
        logging.getLogger("bastion.test").warning("walk: %s unreadable", "a.tf")
        logging.getLogger("bastion.test").info("not shown")
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
    err = capsys.readouterr().err
    assert "walk: a.tf unreadable" in err and "WARNING" in err
    assert "not shown" not in err


def test_ci_package_names_load_on_first_use() -> None:
    """``bastion.ci`` answers its stage names from bastion.ci.stages when asked, and nothing else."""
    import bastion.ci
    from bastion.ci import stages

    assert bastion.ci.builtin_stages is stages.builtin_stages
    assert "deploy" in bastion.ci.builtin_stages()
    missing = "no_such_name"
    with pytest.raises(AttributeError, match=missing):
        getattr(bastion.ci, missing)
