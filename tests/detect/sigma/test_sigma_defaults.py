"""The curated SigmaHQ rule set shipped with Bastion, ``bastion sigma rules list``, and which rules
``bastion sigma run`` uses when given no ``--rules``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from bastion.cli.main import main
from bastion.detect.sigma import update as update_mod
from bastion.detect.sigma.defaults import (
    CURATED_LEVELS,
    CURATED_STATUSES,
    ENV_RULES,
    curate,
    default_rules,
    shipped_rules_dir,
)
from bastion.detect.sigma.defaults import main as curate_main
from bastion.detect.sigma.loader import load_rules, rule_files

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMP = "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\l.dmp full"
COMSVCS = "646ea171-dded-4578-8a4d-65e9822892e3"


@pytest.fixture(name="no_update")
def _no_update(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the environment nor an earlier ``sigma update`` picks the rules."""
    monkeypatch.delenv(ENV_RULES, raising=False)
    monkeypatch.setattr(update_mod, "default_update_dir", lambda: tmp_path / "never-updated")


def test_shipped_rules_meet_the_bar_and_carry_their_licence() -> None:
    root = shipped_rules_dir()
    files = rule_files([root])
    assert len(files) > 1000
    for path in files:
        meta = yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
        assert meta["status"] in CURATED_STATUSES and meta["level"] in CURATED_LEVELS, path
        assert meta.get("author"), f"{path}: DRL 1.1 needs the author kept"
        product, kind = path.relative_to(root).parts[:2]
        ls = meta["logsource"]
        assert product == (ls.get("product") or "any")
        assert kind == (ls.get("category") or ls.get("service") or "any")
    ruleset = load_rules([root])
    assert len(ruleset.rules) == len(files)
    assert ruleset.refused == [] and ruleset.unmapped == []
    licence = (root / "LICENSE.Detection.Rules.md").read_text(encoding="utf-8")
    assert "Detection Rule License (DRL) 1.1" in licence
    assert "SigmaHQ" in (root / "SOURCE.md").read_text(encoding="utf-8")


@pytest.mark.usefixtures("no_update")
def test_rules_list_shows_the_shipped_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sigma", "rules", "list", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["origin"] == "shipped" and doc["refused"] == 0
    assert len(doc["rules"]) == len(rule_files([shipped_rules_dir()]))
    assert doc["by_logsource"]["windows/process_creation/*"] > 300
    assert {r["level"] for r in doc["rules"]} <= CURATED_LEVELS
    comsvcs = next(r for r in doc["rules"] if r["id"] == COMSVCS)
    assert comsvcs["author"] and comsvcs["status"] in CURATED_STATUSES
    assert main(["sigma", "rules", "list"]) == 0
    out = capsys.readouterr().out
    assert "Process Memory Dump Via Comsvcs.DLL" in out and "(shipped)" in out
    assert "windows/process_creation/*" in out


def test_env_and_given_rules_take_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "r.yml").write_text(
        textwrap.dedent(
            """\
            title: Mine
            id: 5b0a6c1e-0000-4000-8000-000000000001
            status: test
            level: low
            logsource: {product: windows, category: process_creation}
            detection:
              sel: {Image|endswith: '\\mine.exe'}
              condition: sel
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv(ENV_RULES, str(folder))
    source = default_rules()
    assert source.origin == "env" and source.paths == (folder,) and ENV_RULES in source.describe()
    assert main(["sigma", "rules", "list"]) == 0
    assert "1 rule(s) and 0 correlation(s)" in capsys.readouterr().out
    monkeypatch.setenv(ENV_RULES, str(tmp_path / "missing"))
    assert main(["sigma", "rules", "list"]) == 2
    assert f"{ENV_RULES}=" in capsys.readouterr().err
    assert main(["sigma", "rules", "list", "--rules", str(folder), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["origin"] == "given" and [r["title"] for r in doc["rules"]] == ["Mine"]


@pytest.mark.usefixtures("no_update")
def test_run_without_rules_uses_the_shipped_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "sysmon.jsonl"
    event = {
        "Event": {
            "System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": "ws1"},
            "EventData": {
                "Image": "C:\\Windows\\System32\\rundll32.exe",
                "CommandLine": DUMP,
                "ParentImage": "C:\\Windows\\System32\\cmd.exe",
            },
        }
    }
    log.write_text(json.dumps(event) + "\n", encoding="utf-8")
    assert main(["sigma", "run", str(log), "--format", "jsonl"]) == 1
    captured = capsys.readouterr()
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    hit = next(a for a in alerts if a["rule_id"] == COMSVCS)
    assert hit["author"] and "DRL" in hit["license"]
    assert "curated SigmaHQ rule set" in captured.err


def _rule(folder: Path, name: str, status: str, level: str, logsource: str, body: str = "Image: x") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(
        f"title: {name}\nstatus: {status}\nlevel: {level}\nauthor: someone\nlogsource: {logsource}\n"
        f"detection:\n  sel:\n    {body}\n  condition: sel\n",
        encoding="utf-8",
    )


def test_curate_keeps_only_rules_that_meet_the_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "rules"
    proc = "{product: windows, category: process_creation}"
    _rule(src / "windows", "good.yml", "stable", "high", proc)
    _rule(src / "windows", "crit.yml", "test", "critical", "{product: windows, service: security}")
    _rule(src / "windows", "medium.yml", "stable", "medium", proc)
    _rule(src / "windows", "experimental.yml", "experimental", "high", proc)
    _rule(src / "deprecated", "old.yml", "deprecated", "high", proc)
    _rule(src / "cisco", "cisco.yml", "test", "high", "{product: cisco, service: aaa}")
    _rule(src / "windows", "broken.yml", "test", "high", proc, body="Image|nosuch: x")
    (src / "windows" / "two.yml").write_text("title: a\n---\ntitle: b\n", encoding="utf-8")
    dest = tmp_path / "out"
    _rule(dest / "stale", "stale.yml", "test", "high", proc)
    result = curate([src], dest)
    assert sorted(p.as_posix() for p in result.kept) == [
        "windows/process_creation/good.yml",
        "windows/security/crit.yml",
    ]
    assert result.left_out == {
        "deprecated": 1,
        "not one YAML rule": 1,
        "level not critical/high": 1,
        "status not stable/test": 1,
        "log source no pipeline produces": 1,
        "not loaded by Bastion": 1,
    }
    assert sorted(p.relative_to(dest).as_posix() for p in rule_files([dest])) == [
        "windows/process_creation/good.yml",
        "windows/security/crit.yml",
    ]
    assert curate_main([str(src), str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    assert "2 rule(s) kept" in out and "1 left out: deprecated" in out
    assert curate_main([str(src)]) == 2
