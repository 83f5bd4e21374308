"""``bastion sigma check`` and ``bastion sigma run`` through the CLI."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from bastion.cli.main import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sigma"
RULES = str(FIXTURES / "rules")


def test_check_clean_rules_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sigma", "check", RULES]) == 0
    out = capsys.readouterr().out
    assert "3 file(s): 10 rule(s) and 0 correlation(s) loaded, 0 refused" in out


def test_check_lists_refused_rules_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yml").write_text(
        "title: x\nlogsource: {product: windows}\ndetection: {}\n", encoding="utf-8"
    )
    (tmp_path / "cisco.yml").write_text(
        "title: c\nlogsource: {product: cisco, service: aaa}\ndetection:\n  k: [x]\n  condition: k\n",
        encoding="utf-8",
    )
    assert main(["sigma", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "refused  " in out and "bad.yml" in out
    assert "unmapped " in out and "cisco/*/aaa" in out
    assert main(["sigma", "check", str(tmp_path), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (
        doc["loaded"] == 1
        and len(doc["refused"]) == 1
        and doc["unmapped"][0]["logsource"] == ["cisco", None, "aaa"]
    )


def test_run_jsonl_carries_rule_id_title_author_and_masks_secrets(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    code = main(
        [
            "sigma",
            "run",
            str(FIXTURES / "sysmon.jsonl"),
            "--rules",
            RULES,
            "--format",
            "jsonl",
            "-o",
            str(out),
        ]
    )
    assert code == 1
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(alerts) == 1
    a = alerts[0]
    assert a["rule_id"] == "7d6e1f00-0000-4000-8000-000000000020" and a["rule_title"] == "Whoami Execution"
    assert a["author"] == "Bastion tests" and a["license"] == "DRL-1.1"
    assert (
        a["techniques"] == ["T1033"]
        and a["metadata"]["attack_names"]["T1033"] == "System Owner/User Discovery"
    )
    assert a["metadata"]["matched_fields"] == ["Image"] and a["entity"] == "ws-1"
    assert "hunter2" not in out.read_text()


def test_run_json_sarif_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = [str(FIXTURES / n) for n in ("auth.log", "cloudtrail.json", "k8s-audit.jsonl")]
    out = tmp_path / "a.json"
    assert main(["sigma", "run", *logs, "--rules", RULES, "--format", "json", "-o", str(out)]) == 1
    doc = json.loads(out.read_text())
    assert {a["rule_title"] for a in doc["alerts"]} == {
        "SSH Failed Password",
        "Sudo Reads Shadow",
        "CloudTrail Logging Stopped",
        "Kubernetes Pod Exec",
    }
    sarif = tmp_path / "a.sarif"
    assert main(["sigma", "run", *logs, "--rules", RULES, "--format", "sarif", "-o", str(sarif)]) == 1
    run = json.loads(sarif.read_text())["runs"][0]
    assert run["tool"]["driver"]["name"] == "bastion-sigma" and len(run["results"]) == 5
    assert all(r["properties"]["author"] == "Bastion tests" for r in run["results"])
    assert main(["sigma", "run", logs[0], "--rules", RULES]) == 1
    captured = capsys.readouterr()
    assert "[HIGH] sigma" in captured.out and "3 alert(s)" in captured.out
    assert "event(s) in" in captured.err


def test_min_level_filters(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    code = main(
        [
            "sigma",
            "run",
            str(FIXTURES / "auth.log"),
            "--rules",
            RULES,
            "--min-level",
            "high",
            "--format",
            "jsonl",
            "-o",
            str(out),
        ]
    )
    assert code == 1
    assert [json.loads(x)["rule_title"] for x in out.read_text().splitlines()] == ["Sudo Reads Shadow"]
    assert (
        main(["sigma", "run", str(FIXTURES / "access.log"), "--rules", RULES, "--min-level", "critical"]) == 0
    )


def test_usage_and_input_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sigma", "run", str(FIXTURES / "auth.log"), "--rules", RULES, "--min-level", "loud"]) == 2
    assert "unknown level 'loud'" in capsys.readouterr().err
    assert main(["sigma", "run", str(FIXTURES / "auth.log"), "--rules", str(tmp_path / "none")]) == 2
    assert "no such rule file" in capsys.readouterr().err
    (tmp_path / "bad.yml").write_text("x: [\n", encoding="utf-8")
    assert main(["sigma", "run", str(FIXTURES / "auth.log"), "--rules", str(tmp_path / "bad.yml")]) == 2
    assert "no rule could be loaded" in capsys.readouterr().err
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{nope\n", encoding="utf-8")
    assert main(["sigma", "run", str(broken), "--rules", RULES]) == 2
    err = capsys.readouterr().err
    assert "no event could be read" in err and "Traceback" not in err


def test_follow_reads_appended_lines(tmp_path: Path) -> None:
    log = tmp_path / "live.log"
    log.write_text("", encoding="utf-8")
    out = tmp_path / "a.jsonl"

    def append() -> None:
        time.sleep(0.5)
        with log.open("a", encoding="utf-8") as fh:
            fh.write((FIXTURES / "auth.log").read_text(encoding="utf-8"))

    writer = threading.Thread(target=append)
    writer.start()
    code = main(
        [
            "sigma",
            "run",
            str(log),
            "--rules",
            RULES,
            "--follow",
            "--idle-timeout",
            "2",
            "--format",
            "jsonl",
            "-o",
            str(out),
        ]
    )
    writer.join()
    assert code == 1
    assert len(out.read_text().splitlines()) == 3
