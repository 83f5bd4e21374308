"""Bad scenario, exercise and mapping files: one line naming the file and the problem, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bastion.cli.main import main
from bastion.drills.exercise import load_exercise, load_mapping, schedule
from bastion.drills.journal import Journal
from bastion.drills.replay import replay
from bastion.drills.report import scoreboard
from bastion.drills.scenario import library, load_scenario
from bastion.drills.telemetry import render
from bastion.errors import InputError
from conftest import ExerciseFactory

GOOD = {
    "version": 1,
    "id": "custom-spray",
    "name": "Custom spray",
    "techniques": ["T1110.003"],
    "steps": [{"name": "spray", "telemetry": [{"kind": "signin", "repeat": 12, "every_s": 5,
                                                "fields": {"user": "{org_user}", "ip": "203.0.113.5",
                                                           "success": False, "reason": "bad_password"}}]}],
    "expect": [{"detector": "identity.password-spray", "within_s": 600}],
}  # fmt: skip


def write(path: Path, doc: object) -> Path:
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"techniques": ["T9999"]}, "invalid scenario at techniques/0: unknown ATT&CK technique T9999"),
        ({"techniques": ["credential access"]}, "at techniques/0: 'credential access' does not match"),
        ({"expect": [{"detector": "splunk.rule", "within_s": 5}]}, "invalid scenario at expect/0/detector"),
        ({"expect": [{"detector": "identity.brute-force", "within_s": 0}]}, "expect/0/within_s"),
        ({"colour": "red"}, "invalid scenario at (top): Additional properties are not allowed ('colour'"),
        ({"steps": [{"name": "x", "telemetry": [{"kind": "file", "path": "../etc/passwd", "content": ""}]}]},
         "invalid scenario at steps/0/telemetry/0/path"),
        ({"steps": [{"name": "x", "telemetry": [{"kind": "line", "text": "no stream"}]}]},
         "'stream' is a required property"),
    ],
)  # fmt: skip
def test_bad_scenario_is_one_line(tmp_path: Path, change: dict[str, object], message: str) -> None:
    path = write(tmp_path / "bad.yml", GOOD | change)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"bad.yml: scenario is not valid YAML"):
        load_scenario(write(tmp_path / "bad.yml", "id: [unclosed\n"))
    with pytest.raises(InputError, match=r"list.yml: scenario is not a YAML mapping"):
        load_scenario(write(tmp_path / "list.yml", "- 1\n- 2\n"))
    with pytest.raises(InputError, match=r"missing.yml: scenario not found"):
        load_scenario(tmp_path / "missing.yml")


def test_duplicate_ids_and_unknown_placeholders(tmp_path: Path, exercise_file: ExerciseFactory) -> None:
    write(tmp_path / "a.yml", GOOD)
    write(tmp_path / "b.yml", GOOD)
    with pytest.raises(InputError, match="scenario id 'custom-spray' already defined in"):
        library([tmp_path])
    odd = GOOD | {"id": "odd-placeholder", "steps": [{"name": "x", "telemetry": [
        {"kind": "signin", "fields": {"user": "{nobody}"}}]}]}  # fmt: skip
    scenario = load_scenario(write(tmp_path / "c.yml", odd))
    ex = load_exercise(exercise_file(scenarios=["mfa-fatigue"]))
    with pytest.raises(InputError, match=r"c.yml: unknown placeholder \{nobody\}"):
        render(scenario, ex.start, ex.mapping, 0, 0)


def test_a_scenario_file_of_the_user_runs_with_the_library(
    exercise_file: ExerciseFactory, tmp_path: Path
) -> None:
    write(tmp_path / "custom.yml", GOOD)
    ex = load_exercise(exercise_file(scenarios=["custom.yml", "mfa-fatigue"], detectors=["identity"]))
    board = scoreboard(ex, replay(ex, Journal.open(tmp_path / "out")))
    assert {o.scenario: o.status for o in board.outcomes} == {
        "custom-spray": "detected",
        "mfa-fatigue": "detected",
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"scenarios": ["no-such-scenario"]}, "unknown scenario 'no-such-scenario'"),
        ({"detectors": ["splunk"]}, "invalid exercise at detectors/0"),
        ({"start": "yesterday"}, "invalid exercise at start: not an ISO 8601 time"),
        ({"schedule": {"at_h": {"mfa-fatigue": 2}}, "scenarios": ["web-sql-injection"]},
         "'mfa-fatigue' is not a scenario of it"),
        ({"teams": ["blue team"]}, "invalid exercise at teams/0"),
        ({"mapping": "nowhere.yml"}, "nowhere.yml: mapping file not found"),
    ],
)  # fmt: skip
def test_bad_exercise_exits_2_with_one_line(
    exercise_file: ExerciseFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fields: dict[str, object],
    message: str,
) -> None:
    path = exercise_file(**fields)
    assert main(["drill", "run", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "out" / "journal.jsonl").exists()


def test_bad_mapping_file(tmp_path: Path) -> None:
    path = write(tmp_path / "org.yml", {"version": 1, "users": "alice"})
    with pytest.raises(
        InputError, match=r"org.yml: invalid mapping file at users: 'alice' is not of type 'array'"
    ):
        load_mapping(path)


def test_fixed_schedule_and_randomised_schedule_is_seeded(exercise_file: ExerciseFactory) -> None:
    fixed = load_exercise(
        exercise_file(scenarios=["mfa-fatigue"], schedule={"mode": "fixed", "at_h": {"mfa-fatigue": 3}})
    )
    assert (schedule(fixed, 0)["mfa-fatigue"] - fixed.start).total_seconds() == 3 * 3600
    rnd = load_exercise(exercise_file(scenarios=["mfa-fatigue", "impossible-travel"]))
    assert schedule(rnd, 0) == schedule(rnd, 0) and schedule(rnd, 0) != schedule(rnd, 1)
    for at in schedule(rnd, 0).values():
        assert 0.2 * 12 * 3600 <= (at - rnd.start).total_seconds() <= 0.8 * 12 * 3600


def test_detector_not_installed_is_not_assessed(exercise_file: ExerciseFactory, tmp_path: Path) -> None:
    ex = load_exercise(
        exercise_file(
            scenarios=["win-certutil-decode", "known-exploited-dependency", "mfa-fatigue"],
            detectors=["sigma", "scan"],
            config={"sigma_rules": ["no-rules-here"], "scanners": ["deps", "trivy"]},
        )
    )
    journal = replay(ex, Journal.open(tmp_path / "out"))
    board = scoreboard(ex, journal)
    status = {o.scenario: (o.status, o.why) for o in board.outcomes}
    assert (
        status["win-certutil-decode"][0] == "not assessed"
        and "no Sigma rules at" in status["win-certutil-decode"][1]
    )
    assert status["known-exploited-dependency"][0] == "not assessed"
    assert (
        "no advisory database" in status["known-exploited-dependency"][1]
    )  # BASTION_ADVISORY_DB: a missing file
    assert status["mfa-fatigue"] == ("not assessed", "detector identity is not part of the exercise")
    assert journal.units[(0, "scan")].not_assessed["scan.trivy"] == "scanner trivy is not installed"
    assert board.points == {"red team": 0, "blue": 0}
