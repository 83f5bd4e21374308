"""``bastion drill`` end to end: list, run, ack/contain/resolve, report, tune."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bastion.cli.main import main
from conftest import UNDER_THRESHOLD, ExerciseFactory

SCENARIOS = [
    "ssh-brute-force-then-success",
    UNDER_THRESHOLD.name,
    "win-certutil-decode",
    "mfa-fatigue",
]


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "list"]) == 0
    out = capsys.readouterr().out
    assert "entra-password-spray" in out and "T1110.003" in out and out.rstrip().endswith("scenario(s)")
    assert main(["drill", "list", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    spray = next(s for s in doc if s["id"] == "entra-password-spray")
    assert spray["techniques"] == [
        {"id": "T1110.003", "name": "Password Spraying", "tactics": ["credential-access"]}
    ]
    assert spray["detectors"] == ["identity.password-spray"]


def test_run_act_report_and_tune(
    exercise_file: ExerciseFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ex = exercise_file(scenarios=SCENARIOS, detectors=["identity", "sigma"], teams=["day", "night"])
    out = tmp_path / "out"
    assert main(["drill", "run", str(ex), "-o", str(out)]) == 1  # a scenario was missed
    text = capsys.readouterr().out
    assert "3/4 scenario run(s) detected" in text and "missed: ssh-guessing-under-threshold" in text
    for name in ("report.json", "report.html", "report.md", "navigator.json", "journal.jsonl"):
        assert (out / name).is_file()
    doc = json.loads((out / "report.json").read_text())
    alert = next(a for a in doc["alerts"] if a["scenario"] == "mfa-fatigue")
    assert main(["drill", "ack", alert["id"][:8], "-o", str(out), "--team", "day", "--after", "60"]) == 0
    assert main(["drill", "contain", alert["id"], "-o", str(out), "--team", "day", "--after", "600"]) == 0
    assert main(["drill", "resolve", alert["id"], "-o", str(out), "--team", "night", "--at",
                 "2030-01-01T00:00:00"]) == 0  # fmt: skip
    assert main(["drill", "ack", alert["id"], "-o", str(out), "--team", "day", "--after", "5"]) == 0
    assert "already recorded ack; the first one counts" in capsys.readouterr().out
    assert main(["drill", "report", str(out), "--format", "json", "-o", str(tmp_path / "r.json")]) == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    mfa = next(s for s in doc["scenarios"] if s["id"] == "mfa-fatigue")
    first = next(t for t in doc["timeline"] if t["scenario"] == "mfa-fatigue")
    assert first["tta_s"]["day"] == pytest.approx(first["ttd_s"] + 60)
    assert first["ttc_s"]["day"] == pytest.approx(first["ttd_s"] + 600)
    assert set(first["ttr_s"]) == {"night"}
    assert mfa["tta"]["n"] == 1 and mfa["ttc"]["n"] == 1
    assert doc["points"]["day"] > doc["points"]["night"]
    assert main(["drill", "report", str(out)]) == 0
    assert "| mfa-fatigue | detected |" in capsys.readouterr().out
    assert main(["drill", "report", str(out), "--format", "navigator"]) == 0
    layer = json.loads(capsys.readouterr().out)
    assert layer["domain"] == "enterprise-attack" and layer["versions"]["layer"] == "4.5"
    scores = {t["techniqueID"]: t.get("score") for t in layer["techniques"]}
    assert scores["T1621"] == 100 and scores["T1027"] == 100
    assert main(["drill", "report", str(out), "--format", "html", "-o", str(tmp_path / "r.html"),
                 "--trend", str(out / "report.json")]) == 0  # fmt: skip
    html = (tmp_path / "r.html").read_text()
    assert "<svg" in html and "mfa-fatigue" in html and "Trend across exercises" in html
    assert "<script" not in html and 'src="http' not in html and "<link" not in html  # self-contained
    diff = tmp_path / "rules.diff"
    rules_before = Path("src/bastion/detect/identity/rules.yml").read_text()
    assert main(["drill", "tune", str(out / "report.json"), "-o", str(diff)]) == 0
    said = capsys.readouterr().out
    assert "ssh-guessing-under-threshold [identity.brute-force]" in said
    assert "identity saw 5 sign-in(s), 5 failed, from 1 address(es) to 1 account(s) over 360 s" in said
    assert "min_failures 10 -> 5" in said and "(not applied)" in said
    assert "min_failures: 5, slow_window_s: 86400, slow_min_failures: 6}" in diff.read_text()
    assert Path("src/bastion/detect/identity/rules.yml").read_text() == rules_before  # never applied
    assert main(["drill", "tune", str(out), "--format", "json"]) == 0
    tuned = json.loads(capsys.readouterr().out)
    assert tuned["suggestions"][0]["proposed"] == 5 and tuned["suggestions"][0]["extra_false_alerts"] == 0


def test_action_errors(
    exercise_file: ExerciseFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ex = exercise_file(scenarios=["mfa-fatigue"], detectors=["identity"])
    out = tmp_path / "out"
    assert main(["drill", "run", str(ex), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["drill", "ack", "ffffffffffff", "-o", str(out)]) == 2
    assert "no alert with id 'ffffffffffff'" in capsys.readouterr().err
    alert = json.loads((out / "report.json").read_text())["alerts"][0]["id"]
    assert main(["drill", "ack", alert, "-o", str(out), "--team", "purple"]) == 2
    assert "'purple' is not a team of the exercise" in capsys.readouterr().err
    assert main(["drill", "ack", alert, "-o", str(out), "--at", "soon"]) == 2
    assert main(["drill", "ack", alert, "-o", str(out), "--at", "2026-12-01T00:00:00", "--after", "3"]) == 2
    assert main(["drill", "report", str(tmp_path / "empty")]) == 2
    assert "no exercise journal here" in capsys.readouterr().err
    assert main(["drill", "report", str(out), "--format", "html"]) == 2
    assert main(["drill", "tune", str(out)]) == 0
    assert "no miss to tune" in capsys.readouterr().out


def test_exercise_file_changed_since_the_journal(exercise_file: ExerciseFactory, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    ex = exercise_file(scenarios=["mfa-fatigue"], detectors=["identity"])
    out = tmp_path / "out"
    assert main(["drill", "run", str(ex), "-o", str(out)]) == 0
    exercise_file(scenarios=["mfa-fatigue", "impossible-travel"], detectors=["identity"])
    assert main(["drill", "report", str(out)]) == 2
    assert "the exercise file changed since the journal" in capsys.readouterr().err
    assert main(["drill", "run", str(ex), "-o", str(out)]) == 2
    assert "journal of another exercise" in capsys.readouterr().err


@pytest.mark.parametrize("sub", ["list", "run", "ack", "contain", "resolve", "tune", "report"])
def test_every_drill_command_has_help_with_an_example(sub: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", sub, "--help"]) == 0
    assert f"bastion drill {sub}" in capsys.readouterr().out


def test_interrupted_run_exits_130_and_resumes(
    exercise_file: ExerciseFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bastion.drills import replay as replay_module

    ex = exercise_file(scenarios=["mfa-fatigue", "win-certutil-decode"], detectors=["identity", "sigma"])
    out = tmp_path / "out"
    real = replay_module.run_family

    def stop_at_sigma(adapter: Any, *args: Any) -> Any:
        if adapter.family == "sigma":
            raise KeyboardInterrupt
        return real(adapter, *args)

    monkeypatch.setattr(replay_module, "run_family", stop_at_sigma)
    assert main(["drill", "run", str(ex), "-o", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    monkeypatch.setattr(replay_module, "run_family", real)
    assert main(["drill", "run", str(ex), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "resumed: 1 finished unit(s) kept from the journal" in captured.err
    assert "run 0 identity" not in captured.err and "run 0 sigma" in captured.err
    assert "2/2 scenario run(s) detected" in captured.out
