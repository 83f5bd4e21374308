"""The fast paths give what the straightforward evaluation gives.

The index (log source, literal and regex keys scanned by Hyperscan) may only skip rules that cannot
match, and flattening planned per object shape must build the very fields the generic walk builds.
Checked on events that vary every value the modifiers look at (case, Unicode, numbers, null, lists,
dashes, base64, addresses), against each rule's predicate run on every event and against the
reference (pySigma's SQLite backend).
"""

from __future__ import annotations

import base64
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from sigma_helpers import REGRESSION, write_rules

from bastion.detect.sigma.engine import SigmaEngine
from bastion.detect.sigma.event import Event
from bastion.detect.sigma.events import events_from_objects, read_events
from bastion.detect.sigma.index import accepts, literal_scanner
from bastion.detect.sigma.loader import load_rules
from bastion.detect.sigma.pipeline import default_pipelines, flatten
from bastion.detect.sigma.values import REGEX_KEY, regex_key

DETECTIONS = [
    "sel:\n  CommandLine|contains: 'whoami'\ncondition: sel",
    "sel:\n  Image|startswith: 'C:\\Temp\\'\ncondition: sel",
    "sel:\n  Image|endswith: '\\evil.exe'\ncondition: sel",
    "sel:\n  CommandLine|contains|all: ['-enc', 'hidden']\ncondition: sel",
    "sel:\n  CommandLine|re: 'a[0-9]+b'\ncondition: sel",
    "sel:\n  CommandLine|re|i: 'k[0-9]'\ncondition: sel",
    "sel:\n  CommandLine|re: 'a.b'\ncondition: sel",
    "sel:\n  CommandLine|re|m: '^second$'\ncondition: sel",
    "sel:\n  CommandLine|re: '\\Aps'\ncondition: sel",
    "sel:\n  CommandLine|re: '\\s[a-f0-9]{8}\\s'\ncondition: sel and not filter\n"
    "filter:\n  Image|endswith: '\\cmd.exe'",
    "sel:\n  DestinationIp|cidr: '10.0.0.0/8'\ncondition: sel",
    "sel:\n  CommandLine|base64offset|contains: 'whoami'\ncondition: sel",
    "sel:\n  CommandLine|windash|contains: '-enc '\ncondition: sel",
    "sel:\n  Image: null\n  CommandLine|contains: 'ps'\ncondition: sel",
    "sel:\n  ProcessId: 4\ncondition: sel",
    "sel:\n  ProcessId|gt: 100\n  Image|endswith: '.exe'\ncondition: sel",
    "sel:\n  CommandLine:\n    - 'a'\n    - 'whoami /all'\n    - 'ps*hidden'\ncondition: sel",
    "keywords:\n  - 'mimikatz'\n  - 'SQBFAFgA'\ncondition: keywords",
    "sel:\n  Image|contains: '\\'\ncondition: not sel",
    "sel:\n  CommandLine|cased: 'Whoami'\ncondition: sel",
    "sel:\n  ParentImage|exists: true\n  Image|endswith: '\\cmd.exe'\ncondition: sel",
    "sel:\n  CommandLine|fieldref|contains: User\ncondition: sel",
    "sel:\n  CommandLine|contains:\n    - 'iex'\n    - 'invoke-'\n    - 'downloadstring'\n"
    "  Image|endswith:\n    - '\\powershell.exe'\n    - '\\pwsh.exe'\n    - '\\cmd.exe'\ncondition: sel",
    "sel:\n  CommandLine|contains:\n    - '.*'\n    - '(whoami'\n"
    "    - '\u00fcn\u00efc'\n    - '[x'\ncondition: sel",
    "a:\n  CommandLine|contains: 'x'\nb:\n  Image|endswith: '\\cmd.exe'\nc:\n  User|startswith: 'corp'\n"
    "condition: 1 of a* or (b and c)",
]

COMMAND_LINES: list[Any] = [
    "whoami /all",
    "WHOAMI /ALL",
    "ps -enc SQBFAFgA -w hidden",
    "ps \u2013enc x hidden",
    "ps /enc hidden",
    "xa123b",
    "xA1B",
    "K1 and \u212a2",
    "a\u0130b",
    "first\nsecond",
    "ps deadbeef run",
    "run DEADBEEF x",
    "IEX (New-Object Net.WebClient).DownloadString('x')",
    base64.b64encode(b"cmd /c whoami").decode(),
    base64.b64encode(b"xwhoami").decode(),
    "corp\\alice",
    "run (whoami",
    "say \u00fcn\u00efcode",
    "a [x] b",
    "glob .* here",
    "mimikatz.exe",
    "",
    None,
    ["a", "whoami /all"],
    7,
]
IMAGES: list[Any] = [
    "C:\\Windows\\System32\\cmd.exe",
    "c:\\temp\\EVIL.exe",
    "C:\\x\\powershell.exe",
    "MemCompression",
    "",
    None,
]
EXTRA: list[dict[str, Any]] = [
    {"ProcessId": 4, "DestinationIp": "10.1.2.3", "User": "corp\\alice"},
    {"ProcessId": "4000", "DestinationIp": "192.168.1.1", "ParentImage": "C:\\Windows\\explorer.exe"},
    {"ProcessId": 50, "DestinationIp": "not an ip", "User": "CORP\\bob"},
]


def _objects() -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = []
    for cmd, image, extra in product(COMMAND_LINES, IMAGES, EXTRA):
        event: dict[str, Any] = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, **extra}
        if cmd is not None:
            event["CommandLine"] = cmd
        if image is not None:
            event["Image"] = image
        objs.append(event)
    return objs


def _rules(tmp_path: Path) -> Path:
    texts = []
    for n, detection in enumerate(DETECTIONS):
        body = "\n".join("  " + line for line in detection.splitlines())
        texts.append(
            f"title: rule {n}\nid: 6f1b7a2e-0000-4000-8000-{n:012d}\n"
            f"logsource: {{product: windows, category: process_creation}}\nlevel: high\ndetection:\n{body}\n"
        )
    return write_rules(tmp_path / "rules", *texts)


def _plain(event: Event) -> Event:
    """A fresh copy of ``event`` (nothing computed on it yet)."""
    return Event(dict(event.raw), tags=event.tags, source=event.source)


def test_index_agrees_with_every_predicate_on_every_event(tmp_path: Path) -> None:
    ruleset = load_rules([_rules(tmp_path)])
    assert not ruleset.refused and len(ruleset.rules) == len(DETECTIONS)
    engine = SigmaEngine(ruleset)
    hits = 0
    for event in events_from_objects(_objects()):
        fast = [r.id for r in engine.index.match(event)]
        slow = [r.id for r in ruleset.rules if accepts(r.logsource, event.tags) and r.match(_plain(event))]
        assert fast == slow, event
        hits += len(fast)
    assert hits > 100  # the events do exercise the rules


def test_index_agrees_with_the_reference(tmp_path: Path) -> None:
    pytest.importorskip("sigma.backends.sqlite")
    from bastion.detect.sigma.reference import SqliteReference

    folder = _rules(tmp_path)
    engine = SigmaEngine(load_rules([folder]))
    ref = SqliteReference([folder])
    # the reference has no counterpart for these: SQL LIKE has no `cased`, SQLite's REGEXP is
    # Python's (Unicode case folding differs), SQLite orders any text above every number (`gt`),
    # and Bastion reads an empty value as null (`Image: null`) where SQL's IS NULL does not
    skip = {f"6f1b7a2e-0000-4000-8000-{n:012d}" for n in (5, 13, 15, 19)}
    objs = [o for o in _objects() if not isinstance(o.get("CommandLine"), list | int)]
    evs = list(events_from_objects(objs))
    for event, want in zip(evs, ref.match(evs), strict=True):
        got = {r.id for r in engine.index.match(event)} - skip
        assert got == set(want) - skip, event


def test_regex_keys_let_through_every_event_the_regex_matches(tmp_path: Path) -> None:
    folder = write_rules(
        tmp_path / "rules",
        "title: t\nid: 6f1b7a2e-0000-4000-8000-000000000001\nlogsource: {product: windows}\nlevel: high\n"
        "detection:\n  sel:\n    CommandLine|re: '\\s[a-fA-F0-9]{8}\\s'\n  condition: sel\n",
    )
    ruleset = load_rules([folder])
    assert any(k.startswith(REGEX_KEY) for c in ruleset.rules[0].clauses for k in c)
    engine = SigmaEngine(ruleset)
    objs = [
        {"Channel": "Security", "EventID": 1, "CommandLine": cmd}
        for cmd in ("run DEADBEEF x", "run deadbeef x", "rundeadbeef x", "\u00e9 DEADBEEF \u00e9", "none")
    ]
    got = [bool(engine.index.match(e)) for e in events_from_objects(objs)]
    assert got == [True, True, False, True, False]
    assert engine.index.tested < len(objs)  # the key kept the rule from the events it cannot match


def test_regex_keys_refused_by_the_scanner_are_always_present() -> None:
    plain = regex_key("ab+c", "")
    empty = regex_key("a*", "")  # matches the empty text: Hyperscan refuses it
    assert plain is not None and empty is not None
    assert regex_key("\\Aabc", "") is None and regex_key("\u00e9+", "") is None
    keys = literal_scanner(["abc", plain, empty])
    assert keys.always == {2} and keys.regexes == {1}
    assert keys.scan(b"xx abbbc abc") == {0, 1}


def _json_objects() -> list[Any]:
    objs: list[Any] = [e.original for e in read_events(sorted(REGRESSION.rglob("*.json"))[:80])]
    objs += [
        {
            "Event": {
                "System": {"Provider": {"#attributes": {"Name": "P"}}, "EventID": 1, "Channel": "x"},
                "EventData": {"Data": [{"#attributes": {"Name": "Image"}, "#text": "a.exe"}]},
            }
        },
        {
            "Event": {
                "System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 7}, "Channel": "System"},
                "EventData": {"A B": 1, "a b": None, "Nested": {"Deep": {"X": True}}},
            }
        },
        {
            "Event": {
                "System": {"EventID": 2, "Channel": "Security", "Security": None},
                "UserData": {"Log": {"Name": 3.5}},
            }
        },
        {
            "Event": {
                "System": {
                    "EventID": 2,
                    "Channel": "Security",
                    "Security": {"#attributes": {"UserID": "S-1"}},
                }
            }
        },
        {
            "Channel": "Security",
            "EventID": 4688,
            "NewProcessName": "C:\\a.exe",
            "Sub": {"K": "v", "#text": "t"},
        },
        {"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "userIdentity": {"type": "Root"}},
    ]
    return objs


def test_shape_plans_build_the_generic_fields() -> None:
    pipelines = [p for p in default_pipelines() if p.spec.kind == "json"]
    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "sigma"
    objs = _json_objects()
    for path in sorted(fixtures.glob("*.json*")):
        objs += [e.original for e in read_events([path]) if isinstance(e.original, dict)]
    checked = 0
    for obj in objs * 2:  # the second time every shape has its plan
        for pipeline in pipelines:
            if pipeline.claims(obj):
                assert list(pipeline.fields(obj).items()) == list(pipeline.fields_generic(obj).items())
                checked += 1
                break
        else:
            assert flatten(obj)  # unclaimed objects are flattened whole
    assert checked > 100
