"""Every scenario of the library is schema-valid and replayed through its real detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.drills.exercise import Exercise
from bastion.drills.journal import Journal
from bastion.drills.report import scoreboard
from bastion.drills.scenario import FAMILIES, LIBRARY, library, load_scenario, schema_errors

SCENARIOS = library()


def test_library_has_at_least_25_scenarios_across_every_detector() -> None:
    assert len(SCENARIOS) >= 25
    families = {f for s in SCENARIOS for f in s.families}
    assert families == set(FAMILIES)
    assert len({t.id for s in SCENARIOS for t in s.techniques}) >= 20


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.yml")), ids=lambda p: p.stem)
def test_scenario_file_is_schema_valid_and_named_after_its_id(path: Path) -> None:
    import yaml

    assert schema_errors(yaml.safe_load(path.read_text(encoding="utf-8"))) == []
    scenario = load_scenario(path)
    assert scenario.id == path.stem
    assert all(t.name and t.tactics for t in scenario.techniques)  # names and tactics from ATT&CK, offline


@pytest.mark.parametrize("sid", [s.id for s in SCENARIOS])
def test_scenario_replayed_through_its_detector(sid: str, library_run: tuple[Exercise, Journal]) -> None:
    ex, journal = library_run
    board = scoreboard(ex, journal)
    (outcome,) = [o for o in board.outcomes if o.scenario == sid]
    scenario = board.scenarios[sid]
    assert outcome.status == "detected", outcome.why
    assert outcome.ttd is not None and 0 <= outcome.ttd <= max(e.within_s for e in scenario.expect)
    assert outcome.in_time
    alerts = {a.id: a for a in journal.all_alerts()}
    assert any(e.matches(alerts[a].signature) for a in outcome.alerts for e in scenario.expect)


def test_the_library_replay_raises_no_false_alert_on_its_baseline(
    library_run: tuple[Exercise, Journal],
) -> None:
    ex, journal = library_run
    board = scoreboard(ex, journal)
    assert board.false_alerts_total == 0
    assert sum(u.events for u in journal.units.values()) > 5_000  # the baseline was there
