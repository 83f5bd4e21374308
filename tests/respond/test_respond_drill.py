"""``bastion respond drill``: what the playbooks would have done during a war-game replay and the
time to contain with and without automatic response, over a real replay of two library scenarios."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from respond_helpers import write_playbook

from bastion.cli.main import main
from bastion.drills.exercise import load_exercise
from bastion.drills.journal import Action, Journal
from bastion.drills.replay import replay
from bastion.respond.drill import TEAM, SandboxRunner, compare
from bastion.respond.playbook import load_playbooks, load_safeguards


@pytest.fixture(scope="module")
def exercise(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A password spray and an MFA-fatigue attack replayed once through the identity detectors, with
    the blue team containing the spray 20 minutes after it began (a journaled team action)."""
    base = tmp_path_factory.mktemp("drill")
    (base / "org.yml").write_text(yaml.safe_dump({
        "version": 1, "users": [f"u{i:02d}@drill.example" for i in range(40)],
        "hosts": [f"pc-{i:02d}.drill.example" for i in range(20)],
    }), encoding="utf-8")  # fmt: skip
    (base / "exercise.yml").write_text(yaml.safe_dump({
        "version": 1, "name": "respond drill", "scenarios": ["entra-password-spray", "mfa-fatigue"],
        "duration_h": 12, "schedule": {"mode": "random", "seed": 11}, "mapping": "org.yml",
        "detectors": ["identity"], "baseline": {"signins_per_user_day": 8},
    }, sort_keys=False), encoding="utf-8")  # fmt: skip
    journal = replay(load_exercise(base / "exercise.yml"), Journal.open(base / "out"))
    spray = journal.injections[(0, "entra-password-spray")]
    first = min((a for a in journal.all_alerts() if a.alert.detector == "identity.password-spray"),
                key=lambda a: a.time)  # fmt: skip
    journal.add_action(Action("contain", first.id, "blue", spray.start + timedelta(minutes=20)))
    return base / "out"


def _books(tmp_path: Path, **fields: object) -> Path:
    write_playbook(tmp_path / "pb", "block-spray",
                   trigger={"detector": ["identity.*"], "rule": ["*spray*"], "entity": {"kind": "ip"}},
                   actions=[{"type": "block-ip", "params": {"timeout_s": 3600}}], **fields)  # fmt: skip
    write_playbook(tmp_path / "pb", "lock-fatigued",
                   trigger={"detector": ["identity.*"], "rule": ["*mfa*"], "entity": {"kind": "user"}},
                   actions=[{"type": "lock-linux-account"}], approval={"at_or_above": "high"})  # fmt: skip
    return tmp_path / "pb"


def test_automatic_response_contains_the_spray_sooner_than_the_team(exercise: Path, tmp_path: Path) -> None:
    result = compare(exercise, load_playbooks(_books(tmp_path)), load_safeguards(None))
    rows = {r.scenario: r for r in result.rows}
    spray, fatigue = rows["entra-password-spray"], rows["mfa-fatigue"]
    assert spray.detected == spray.runs == 1 and spray.ttd.median is not None
    assert spray.ttc_teams.median == 20 * 60  # the journaled team action
    assert spray.ttc_auto.median is not None and spray.ttd.median <= spray.ttc_auto.median < 20 * 60
    assert spray.ttc_with.median == spray.ttc_auto.median  # the earlier of the two
    # the account lock waits for a person: no automatic containment, and it says so
    assert fatigue.ttc_auto.n == 0 and fatigue.ttc_with.n == 0
    assert result.statuses["applied"] >= 1 and result.statuses["pending"] >= 1
    assert result.on_false_alerts == 0 and len(result.handle_ms) == result.statuses["applied"]
    assert all(ms >= 0 for ms in result.handle_ms)


def test_allow_list_and_dry_run_hold_in_the_replay(exercise: Path, tmp_path: Path) -> None:
    books = load_playbooks(_books(tmp_path, mode="dry-run"))
    planned = compare(exercise, books, load_safeguards(None))
    assert planned.statuses["applied"] == 0 and planned.statuses["planned"] >= 1
    assert all(r.ttc_auto.n == 0 for r in planned.rows)
    promoted = compare(exercise, books, load_safeguards(None), promote=True, extra_ms=65.0)
    assert promoted.statuses["applied"] >= 1 and promoted.extra_ms == 65.0
    guards = tmp_path / "guards.yaml"
    guards.write_text(yaml.safe_dump({"version": 1, "allow_ips": ["0.0.0.0/0", "::/0"]}), encoding="utf-8")
    allowed = compare(exercise, books, load_safeguards(guards), promote=True)
    assert allowed.statuses["applied"] == 0 and allowed.statuses["refused"] >= 1
    assert any("allow" in reason for reason in allowed.reasons)


def test_cli_table_and_json(exercise: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pb = _books(tmp_path)
    assert main(["respond", "drill", str(exercise), "--playbooks", str(pb), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["team"] == TEAM and {s["id"] for s in data["scenarios"]} == {
        "entra-password-spray",
        "mfa-fatigue",
    }
    assert data["handle_latency"]["p50_ms"] is not None
    assert main(["respond", "drill", str(exercise), "--playbooks", str(pb), "--action-latency-ms", "65"]) == 0
    out = capsys.readouterr().out
    assert "entra-password-spray" in out and "with auto" in out and "+ 65 ms execution" in out
    assert "not applied" in out or "pending" in out
    assert main(["respond", "drill", str(tmp_path), "--playbooks", str(pb)]) == 2
    assert "no exercise journal here" in capsys.readouterr().err


def test_sandbox_runner_answers_like_a_healthy_host() -> None:
    runner = SandboxRunner()
    assert runner.run(["getent", "shadow", "alice"]).stdout.startswith("alice:$6$")
    assert runner.run(["nft", "get", "element", "inet", "bastion", "blocked4", "{ 1.2.3.4 }"]).returncode == 1
    assert runner.run(["iptables", "-w", "-C", "INPUT", "-j", "X"]).returncode == 1
    assert runner.run(["nft", "-j", "-f", "-"], stdin="{}").returncode == 0
    assert runner.calls[-1] == ("nft", "-j", "-f", "-", "<stdin>")
