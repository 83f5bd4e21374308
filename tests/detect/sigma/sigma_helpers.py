"""Helpers for the Sigma tests (a module of its own name: every test folder has a conftest)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bastion.detect.sigma.engine import SigmaEngine
from bastion.detect.sigma.event import Event
from bastion.detect.sigma.events import events_from_objects
from bastion.detect.sigma.loader import RuleSet

SHARED_DATA = Path(
    os.environ.get("BASTION_SHARED_DATA", Path(__file__).resolve().parents[3].parent / "shared" / "data")
)
REGRESSION = SHARED_DATA / "attacks" / "sigma-regression"


def write_rules(folder: Path, *rules: str) -> Path:
    """Write each YAML text to its own file under ``folder``; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, text in enumerate(rules):
        (folder / f"rule{n}.yml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def flat_event(**fields: Any) -> dict[str, Any]:
    """A flat Windows event (``windows-flat`` pipeline): Sysmon process creation unless overridden."""
    event: dict[str, Any] = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}
    event.update(fields)
    return event


def fired(ruleset: RuleSet, objs: Iterable[dict[str, Any]]) -> list[str]:
    """Rule ids (titles where set as ids) hit by each event, flattened in order."""
    engine = SigmaEngine(ruleset)
    out: list[str] = []
    for event in events_from_objects(list(objs)):
        hits, corr = engine.process(event)
        out.extend(h.rule.title for h in hits)
        out.extend(c.correlation.title for c in corr)
    return out


def events(objs: Iterable[dict[str, Any]]) -> list[Event]:
    """Events from JSON objects through the default pipelines."""
    return list(events_from_objects(list(objs)))
