"""``bastion respond`` through the CLI: run, plan, approve, undo, status, kill switch, bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from respond_helpers import alert, write_playbook

from bastion.cli.main import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BASTION_RESPOND_LEDGER", str(tmp_path / "ledger.sqlite"))
    return tmp_path


def _alerts(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _drift(path: Path) -> Path:
    drift = alert(entity="aws_s3_bucket.logs", kind="resource", detector="drift.tf", path="s3.tf",
                  current="acl = 1\n", expected="acl = 2\n")  # fmt: skip
    return _alerts(path, json.dumps(drift.to_dict()))


def _iac_playbook(directory: Path, **fields: object) -> None:
    write_playbook(
        directory, trigger={"detector": ["drift.*"]},
        actions=[{"type": "iac-revert", "params": {"out_dir": str(directory.parent / "changes")}}], **fields,
    )  # fmt: skip


def test_run_apply_status_undo(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _iac_playbook(env / "pb")
    alerts = _drift(env / "alerts.jsonl")
    assert (
        main(["respond", "run", "--playbooks", str(env / "pb"), "--alerts", str(alerts), "--format", "json"])
        == 0
    )
    [row] = json.loads(capsys.readouterr().out)
    assert row["status"] == "applied"
    assert len(list((env / "changes").iterdir())) == 2
    assert main(["respond", "status", "--format", "json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in state["in_force"]] == [row["id"]] and state["audit_intact"] is True
    assert main(["respond", "undo", row["id"], "--as", "alice"]) == 0
    assert list((env / "changes").iterdir()) == []
    capsys.readouterr()
    assert main(["respond", "undo", row["id"]]) == 2
    assert capsys.readouterr().err.strip() == f"error: action {row['id']}: already undone"
    assert main(["respond", "verify"]) == 0
    assert "intact" in capsys.readouterr().out


def test_plan_changes_nothing(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _iac_playbook(env / "pb")
    alerts = _drift(env / "alerts.jsonl")
    assert main(["respond", "plan", str(alerts), "--playbooks", str(env / "pb")]) == 0
    out = capsys.readouterr().out
    assert "planned" in out and "+acl = 2" in out
    assert not (env / "changes").exists()


def test_approval_flow_through_the_cli(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _iac_playbook(env / "pb", approval={"actions": ["iac-revert"]})
    alerts = _drift(env / "alerts.jsonl")
    pb = str(env / "pb")
    assert (
        main(
            ["respond", "run", "--playbooks", pb, "--alerts", str(alerts), "--as", "bob", "--format", "json"]
        )
        == 0
    )
    [row] = json.loads(capsys.readouterr().out)
    assert row["status"] == "pending"
    assert main(["respond", "status"]) == 0
    assert "pending approval: 1" in capsys.readouterr().out
    assert main(["respond", "approve", row["id"], "--as", "Bob", "--playbooks", pb]) == 2
    assert "cannot approve it" in capsys.readouterr().err
    assert not (env / "changes").exists()
    assert main(["respond", "approve", row["id"], "--as", "alice", "--playbooks", pb]) == 0
    assert "applied" in capsys.readouterr().out
    assert main(["respond", "confirm", row["id"], "--as", "alice"]) == 0


def test_kill_switch_and_breaker_commands(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _iac_playbook(env / "pb")
    alerts = _drift(env / "alerts.jsonl")
    assert main(["respond", "kill-switch", "on", "--as", "alice"]) == 0
    assert main(["respond", "run", "--playbooks", str(env / "pb"), "--alerts", str(alerts)]) == 0
    assert "kill switch is on" in capsys.readouterr().out
    assert not (env / "changes").exists()
    assert main(["respond", "status"]) == 0
    assert "kill switch: ON" in capsys.readouterr().out
    assert main(["respond", "kill-switch", "off"]) == 0
    assert main(["respond", "breaker-reset", "--as", "alice"]) == 0


def test_malformed_alert_lines_are_counted_and_the_run_goes_on(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _iac_playbook(env / "pb")
    good = _drift(env / "good.jsonl").read_text().strip()
    alerts = _alerts(env / "alerts.jsonl", "{not json", '{"detector": "x"}', "[1]", good)
    assert main(["respond", "run", "--playbooks", str(env / "pb"), "--alerts", str(alerts)]) == 2
    captured = capsys.readouterr()
    assert "applied" in captured.out
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {alerts}:1: malformed alert (not JSON: Expecting property name enclosed in double quotes)",
        f"error: {alerts}:2: malformed alert (missing 'severity')",
        f"error: {alerts}:3: malformed alert (not a JSON object)",
    ]
    assert "3 malformed alert line(s) skipped" in captured.err


def test_unknown_action_in_a_playbook_is_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_playbook(env / "pb", actions=[{"type": "wipe-host"}])
    alerts = _alerts(env / "a.jsonl", "")
    assert main(["respond", "run", "--playbooks", str(env / "pb"), "--alerts", str(alerts)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}: actions.0.type: unknown action 'wipe-host'")
    assert "\n" not in err


def test_missing_playbooks_and_unknown_id(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["respond", "approve", "abc", "--as", "alice"]) == 2
    assert "--playbooks DIR is required" in capsys.readouterr().err
    assert main(["respond", "undo", "0123456789abcdef"]) == 2
    assert "no such action" in capsys.readouterr().err
    assert main(["respond", "run", "--playbooks", str(env / "none"), "--alerts", str(env / "a")]) == 2
    assert "not a directory of playbooks" in capsys.readouterr().err


def test_stream_follows_until_idle(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _iac_playbook(env / "pb")
    alerts = _drift(env / "alerts.jsonl")
    argv = [
        "respond",
        "run",
        "--playbooks",
        str(env / "pb"),
        "--alerts",
        str(alerts),
        "--stream",
        "--idle-timeout",
        "0.5",
    ]
    assert main(argv) == 0
    assert "applied" in capsys.readouterr().out


def test_stream_undoes_expired_actions_while_idle(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _iac_playbook(env / "pb", ttl_s=1)
    alerts = _drift(env / "alerts.jsonl")
    argv = ["respond", "run", "--playbooks", str(env / "pb"), "--alerts", str(alerts), "--stream",
            "--idle-timeout", "3", "--format", "json"]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["applied", "undone"]
    assert list((env / "changes").iterdir()) == []


def test_expire_command(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _iac_playbook(env / "pb", ttl_s=1)
    alerts = _drift(env / "alerts.jsonl")
    assert main(["respond", "run", "--playbooks", str(env / "pb"), "--alerts", str(alerts)]) == 0
    assert len(list((env / "changes").iterdir())) == 2
    capsys.readouterr()
    time.sleep(1.1)
    assert main(["respond", "expire", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["status"], row["reason"]) == ("undone", "undone by ttl")
    assert list((env / "changes").iterdir()) == []
