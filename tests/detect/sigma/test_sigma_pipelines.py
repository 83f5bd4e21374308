"""Field mappings: each log format Bastion reads reaches the Sigma rules written for it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bastion.detect.sigma.engine import SigmaEngine
from bastion.detect.sigma.events import ReadSkips, read_events
from bastion.detect.sigma.loader import load_rules
from bastion.detect.sigma.pipeline import PipelineSpec, default_pipelines, load_pipeline, parse_time
from bastion.errors import InputError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sigma"


@pytest.fixture(scope="module")
def engine() -> SigmaEngine:
    ruleset = load_rules([FIXTURES / "rules"])
    assert not ruleset.refused and not ruleset.unmapped
    return SigmaEngine(ruleset)


@pytest.mark.parametrize(
    ("log", "titles"),
    [
        ("auth.log", {"SSH Failed Password": 2, "Sudo Reads Shadow": 1}),
        ("audit.log", {"Auditd Chmod Tmp": 1, "Auditd Netcat": 1}),
        ("access.log", {"Web Path Traversal": 1}),
        ("cloudtrail.json", {"CloudTrail Logging Stopped": 1}),
        ("okta.jsonl", {"Okta MFA Deactivated": 1}),
        ("entra-signins.jsonl", {"Entra Sign-in Bad Password": 1}),
        ("k8s-audit.jsonl", {"Kubernetes Pod Exec": 1}),
        ("sysmon.jsonl", {"Whoami Execution": 1}),
    ],
)
def test_each_format_reaches_its_rules(engine: SigmaEngine, log: str, titles: dict[str, int]) -> None:
    skips = ReadSkips()
    got: Counter[str] = Counter()
    for event in read_events([FIXTURES / log], skips):
        hits, _ = engine.process(event)
        got.update(h.rule.title for h in hits)
    assert dict(got) == titles
    assert not skips.total and not skips.unmapped


def test_events_carry_time_host_and_logsource() -> None:
    ct = list(read_events([FIXTURES / "cloudtrail.json"]))
    assert ct[0].timestamp is not None and ct[0].timestamp.isoformat() == "2026-12-06T10:00:00+00:00"
    assert ct[0].host == "203.0.113.5" and ("aws", None, "cloudtrail") in ct[0].tags
    assert ct[0].raw["useridentity.arn"].endswith("mallory")
    win = next(iter(read_events([FIXTURES / "sysmon.jsonl"])))
    assert win.host == "ws-1" and ("windows", "process_creation", None) in win.tags
    assert win.raw["provider_name"] == "Microsoft-Windows-Sysmon"


def test_evtx_data_name_lists_and_attributes_are_flattened() -> None:
    from bastion.detect.sigma.events import events_from_objects

    obj = {
        "Event": {
            "System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 4688}, "Channel": "Security"},
            "EventData": {"Data": [{"#attributes": {"Name": "NewProcessName"}, "#text": "C:\\a.exe"}]},
        }
    }
    event = next(events_from_objects([obj]))
    assert event.raw["eventid"] == 4688 and event.raw["image"] == "C:\\a.exe"
    assert ("windows", "process_creation", None) in event.tags


def test_unclaimed_json_is_counted_and_still_read() -> None:
    from bastion.detect.sigma.events import events_from_objects

    skips = ReadSkips()
    events = list(events_from_objects([{"foo": {"bar": 1}}, 5], skips=skips))
    assert skips.unmapped == 1 and events[0].raw == {"foo.bar": 1}
    assert skips.lines() == ["1 skipped: JSON value is not an object (first at <events>[1])"]


def test_default_pipelines_are_valid_data() -> None:
    names = {p.name for p in default_pipelines()}
    assert {
        "windows",
        "windows-flat",
        "syslog",
        "auditd",
        "cloudtrail",
        "okta",
        "azure",
        "kubernetes",
        "web",
    } <= names


def test_bad_pipeline_file_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "p.yml"
    bad.write_text("name: x\nkind: json\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"p.yml: description: Field required"):
        load_pipeline(bad)
    bad.write_text("name: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid YAML"):
        load_pipeline(bad)
    assert PipelineSpec(name="n", description="d").flatten == [""]


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2026-12-06T10:00:00.1234567Z", "2026-12-06T10:00:00.123456+00:00"),
        ("2026-12-06 10:00:00", "2026-12-06T10:00:00+00:00"),
        (1765015200, "2025-12-06T10:00:00+00:00"),
        (1765015200000, "2025-12-06T10:00:00+00:00"),
    ],
)
def test_parse_time(value: object, iso: str) -> None:
    parsed = parse_time(value)
    assert parsed is not None and parsed.isoformat() == iso
    assert parse_time("yesterday") is None and parse_time(None) is None
