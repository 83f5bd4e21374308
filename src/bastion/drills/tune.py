"""The tuning loop: for each miss, what the detector saw, the nearest threshold change that would
have caught it, and what that change costs in false alerts on the baseline period.

Thresholds to move come from ``tuning.yml`` (data). For a missed identity expectation the run is
replayed with the threshold one step nearer at a time (up to its limit) until the scenario is
caught; the baseline of the same period is then replayed with and without the change and the
difference in alerts is the change's cost. The result is a suggested diff of the rules file,
never applied: the user reviews and applies it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from bastion.detect.identity.events import SignIn
from bastion.detect.identity.rules import DEFAULT_RULES, load_rules
from bastion.drills.detectors import IdentityAdapter
from bastion.drills.exercise import Exercise
from bastion.drills.journal import Journal
from bastion.drills.replay import Telemetry, run_family, telemetry
from bastion.drills.scenario import SCHEMAS, schema_errors
from bastion.drills.scoring import MISSED, score
from bastion.errors import InputError
from bastion.structured import read_text, read_yaml_mapping

__all__ = ["TUNING", "Knob", "Suggestion", "config_diff", "load_table", "tune"]

TUNING = Path(__file__).with_name("tuning.yml")


@dataclass(frozen=True)
class Knob:
    """One threshold the tuner may move."""

    param: str
    direction: str
    step: float
    limit: float

    def candidates(self, current: float) -> list[float]:
        """Values from one step past ``current`` to the limit, nearest first."""
        out: list[float] = []
        sign = -1 if self.direction == "down" else 1
        v = current + sign * self.step
        while (v >= self.limit) if sign < 0 else (v <= self.limit):
            out.append(round(v, 6))
            v += sign * self.step
        return out


@dataclass
class Suggestion:
    """What tuning found for one missed expectation in one run."""

    scenario: str
    run: int
    detector: str
    saw: str
    """What the detectors raised about the scenario's entities (or that they raised nothing)."""
    param: str = ""
    current: float | None = None
    proposed: float | None = None
    extra_false_alerts: int | None = None
    """Alerts the change adds on the baseline period (no attacks); None when no change was found."""
    baseline_hours: float = 0.0
    note: str = ""


@cache
def _table_schema() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json.loads((SCHEMAS / "tuning.schema.json").read_text(encoding="utf-8"))
    )


def load_table(path: Path = TUNING) -> dict[str, Knob]:
    """The identity knobs of the tuning table at ``path``."""
    data = read_yaml_mapping(path, what="tuning table")
    errors = schema_errors(data, _table_schema())
    if errors:
        raise InputError(f"{path}: invalid tuning table at {errors[0]}")
    return {k: Knob(**v) for k, v in data["identity"].items()}


def _caught(
    ex: Exercise,
    journal: Journal,
    run: int,
    scenario: str,
    items: Any,
    training: Any,
    adapter: IdentityAdapter,
) -> bool:
    unit = run_family(adapter, run, items, training)
    board = score(
        {s.id: s for s in ex.scenarios},
        [journal.injections[(run, scenario)]],
        unit.alerts,
        [],
        families=["identity"],
        clock_skew_s=ex.clock_skew_s,
        skew_tolerance_s=ex.skew_tolerance_s,
    )
    return board.outcomes[0].status == "detected"


def tune(ex: Exercise, journal: Journal, table: Mapping[str, Knob] | None = None) -> list[Suggestion]:
    """A suggestion for every missed expectation of every run."""
    from bastion.drills.report import scoreboard

    table = table if table is not None else load_table()
    board = scoreboard(ex, journal)
    rules = load_rules(ex.config.identity_rules)
    alerts = {a.id: a for a in journal.all_alerts()}
    out: list[Suggestion] = []
    cache_tel: dict[tuple[int, bool], Any] = {}
    for o in board.outcomes:
        if o.status != MISSED:
            continue
        s = board.scenarios[o.scenario]
        raised = "; ".join(alerts[a].alert.explanation[:160] for a in o.alerts[:3])
        if (o.run, True) not in cache_tel:
            cache_tel[(o.run, True)] = telemetry(ex, o.run)
        fed = _telemetry_seen(cache_tel[(o.run, True)], o.scenario)
        saw = f"{raised or 'no alert about its entities'}; {fed}"
        for e in s.expect:
            sug = Suggestion(o.scenario, o.run, e.detector, saw, baseline_hours=ex.duration_h)
            out.append(sug)
            kind = e.detector.split(".", 1)[1] if "." in e.detector else ""
            if e.family != "identity" or kind not in table:
                sug.note = "no threshold to move for this detector: a rule or scenario change is needed"
                continue
            knob = table[kind]
            current = rules.detections[kind].param(knob.param)
            sug.param, sug.current = knob.param, current
            tel = cache_tel[(o.run, True)]
            items, training = tel.items.get("identity", []), tel.training.get("identity", [])
            for value in knob.candidates(current):
                adapter = IdentityAdapter(ex.config, {kind: {knob.param: value}})
                if _caught(ex, journal, o.run, o.scenario, items, training, adapter):
                    sug.proposed = value
                    break
            if sug.proposed is None:
                sug.note = f"{knob.param} down to its limit {knob.limit} does not catch it"
                continue
            if (o.run, False) not in cache_tel:
                cache_tel[(o.run, False)] = telemetry(ex, o.run, attacks=False)
            quiet = cache_tel[(o.run, False)]
            q_items, q_training = quiet.items.get("identity", []), quiet.training.get("identity", [])
            before = run_family(IdentityAdapter(ex.config), o.run, q_items, q_training)
            after = run_family(
                IdentityAdapter(ex.config, {kind: {knob.param: sug.proposed}}), o.run, q_items, q_training
            )
            sug.extra_false_alerts = len(after.alerts) - len(before.alerts)
    return out


def _telemetry_seen(tel: Telemetry, scenario: str) -> str:
    """What the detectors were fed of ``scenario``: counts per family, sign-in outcomes and span."""
    parts: list[str] = []
    for family, items in sorted(tel.items.items()):
        mine = [i for i in items if i.scenario == scenario]
        if not mine:
            continue
        span = (mine[-1].time - mine[0].time).total_seconds()
        signins = [i.payload for i in mine if isinstance(i.payload, SignIn)]
        if signins:
            failed = sum(not x.success for x in signins)
            sources = len({x.ip for x in signins})
            users = len({x.user for x in signins})
            parts.append(
                f"{family} saw {len(signins)} sign-in(s), {failed} failed, from {sources} address(es) to "
                f"{users} account(s) over {span:.0f} s"
            )
        else:
            parts.append(f"{family} saw {len(mine)} event(s) over {span:.0f} s")
    return "; ".join(parts) or "no telemetry reached a detector"


def _set_param(text: str, kind: str, param: str, value: float) -> str:
    """``text`` (an identity rules file) with ``param`` of detection ``kind`` set to ``value``."""
    block = re.search(rf"(?ms)^  {re.escape(kind)}:\n(.*?)(?=^  \S|\Z)", text)
    if block is None:
        raise InputError(f"rules file has no detection {kind!r}")
    body = block.group(1)
    shown = int(value) if float(value).is_integer() else value
    new_body, n = re.subn(rf"(\b{re.escape(param)}:\s*)[-0-9.]+", rf"\g<1>{shown}", body, count=1)
    if not n:
        raise InputError(f"rules file: detection {kind!r} has no param {param!r}")
    return text[: block.start(1)] + new_body + text[block.end(1) :]


def config_diff(suggestions: Sequence[Suggestion], rules_path: Path | None = None) -> str:
    """A unified diff of the identity rules file with every found change applied (strictest
    proposal per param); '' when there is none. Nothing is written to the rules file."""
    path = rules_path or DEFAULT_RULES
    original = read_text(path, what="identity rules file")
    text = original
    best: dict[tuple[str, str], float] = {}
    for s in suggestions:
        if s.proposed is None or not s.param:
            continue
        kind = s.detector.split(".", 1)[1]
        key = (kind, s.param)
        best[key] = min(best.get(key, s.proposed), s.proposed)
    for (kind, param), value in sorted(best.items()):
        text = _set_param(text, kind, param, value)
    if text == original:
        return ""
    name = path.name
    return "".join(
        difflib.unified_diff(original.splitlines(True), text.splitlines(True), f"a/{name}", f"b/{name}")
    )


def as_dicts(suggestions: Sequence[Suggestion]) -> list[dict[str, Any]]:
    """Plain JSON."""
    return [asdict(s) for s in suggestions]
