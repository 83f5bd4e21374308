"""Every Sigma modifier, keyword detections and conditions, each with hand-written events."""

from __future__ import annotations

import base64

import pytest
from sigma_helpers import fired, flat_event

RULE = """
title: {title}
id: 6f1b7a2e-0000-4000-8000-{n:012d}
logsource: {{product: windows, category: process_creation}}
level: high
detection:
{detection}
"""


def rule(detection: str, title: str = "t", n: int = 1) -> str:
    """A process-creation rule with the given detection block (indented two spaces)."""
    return RULE.format(
        title=title, n=n, detection="\n".join("  " + line for line in detection.strip().splitlines())
    )


CASES = [
    # (detection, matching CommandLine/fields, non-matching)
    (
        "sel:\n  CommandLine|contains: 'whoami'\ncondition: sel",
        {"CommandLine": "C:\\x\\WHOAMI.exe /all"},
        {"CommandLine": "who ami"},
    ),
    (
        "sel:\n  Image|startswith: 'C:\\Temp\\'\ncondition: sel",
        {"Image": "c:\\temp\\a.exe"},
        {"Image": "D:\\c:\\temp\\a.exe"},
    ),
    (
        "sel:\n  Image|endswith: '\\evil.exe'\ncondition: sel",
        {"Image": "C:\\x\\EVIL.EXE"},
        {"Image": "C:\\x\\evil.exe.bak"},
    ),
    (
        "sel:\n  CommandLine|contains|all: ['-enc', 'hidden']\ncondition: sel",
        {"CommandLine": "ps -enc AAA -w hidden"},
        {"CommandLine": "ps -enc AAA"},
    ),
    (
        "sel:\n  CommandLine|re: 'a[0-9]+b'\ncondition: sel",
        {"CommandLine": "xa123b"},
        {"CommandLine": "xA123B"},
    ),
    (
        "sel:\n  CommandLine|re|i: 'a[0-9]+b'\ncondition: sel",
        {"CommandLine": "xA123B"},
        {"CommandLine": "ab"},
    ),
    (
        "sel:\n  CommandLine|re|m: '^second$'\ncondition: sel",
        {"CommandLine": "first\nsecond\nthird"},
        {"CommandLine": "first second"},
    ),
    ("sel:\n  CommandLine|re|s: 'a.b'\ncondition: sel", {"CommandLine": "a\nb"}, {"CommandLine": "a\n\nb"}),
    (
        "sel:\n  CommandLine|base64: 'secret'\ncondition: sel",
        {"CommandLine": base64.b64encode(b"secret").decode()},
        {"CommandLine": "secret"},
    ),
    (
        "sel:\n  CommandLine|base64offset|contains: 'http://'\ncondition: sel",
        {"CommandLine": "powershell -e " + base64.b64encode(b"xxhttp://evil").decode()},
        {"CommandLine": "http://"},
    ),
    (
        "sel:\n  CommandLine|utf16le|base64offset|contains: 'ping'\ncondition: sel",
        {"CommandLine": base64.b64encode("a ping".encode("utf-16le")).decode()},
        {"CommandLine": "ping"},
    ),
    (
        "sel:\n  CommandLine|utf16be|base64|contains: 'ab'\ncondition: sel",
        {"CommandLine": "x" + base64.b64encode("ab".encode("utf-16be")).decode()},
        {"CommandLine": "ab"},
    ),
    (
        "sel:\n  CommandLine|wide|base64offset|contains: 'cmd'\ncondition: sel",
        {"CommandLine": base64.b64encode("cmd".encode("utf-16le")).decode()},
        {"CommandLine": "cmd"},
    ),
    (
        "sel:\n  CommandLine|windash|contains: ' -exec '\ncondition: sel",
        {"CommandLine": "tool /exec bypass"},
        {"CommandLine": "tool exec bypass"},
    ),
    (
        "sel:\n  SourceIp|cidr: '10.0.0.0/8'\ncondition: sel",
        {"SourceIp": "10.2.3.4"},
        {"SourceIp": "11.2.3.4"},
    ),
    ("sel:\n  SourceIp|cidr: 'fd00::/8'\ncondition: sel", {"SourceIp": "fd00::1"}, {"SourceIp": "not-an-ip"}),
    ("sel:\n  Extra|exists: true\ncondition: sel", {"Extra": ""}, {}),
    ("sel:\n  Extra|exists: false\ncondition: sel", {}, {"Extra": "x"}),
    (
        "sel:\n  User|fieldref: TargetUser\ncondition: sel",
        {"User": "bob", "TargetUser": "bob"},
        {"User": "bob", "TargetUser": "alice"},
    ),
    ("sel:\n  Count|gt: 5\ncondition: sel", {"Count": 6}, {"Count": 5}),
    ("sel:\n  Count|gte: 5\ncondition: sel", {"Count": "5"}, {"Count": 4}),
    ("sel:\n  Count|lt: 5\ncondition: sel", {"Count": 4.5}, {"Count": "x"}),
    ("sel:\n  Count|lte: 5\ncondition: sel", {"Count": 5}, {"Count": 6}),
    (
        "sel:\n  CommandLine|cased: 'MiXeD'\ncondition: sel",
        {"CommandLine": "MiXeD"},
        {"CommandLine": "mixed"},
    ),
    (
        "sel:\n  CommandLine|contains|cased: 'MiX'\ncondition: sel",
        {"CommandLine": "aMiXb"},
        {"CommandLine": "amixb"},
    ),
    (
        "sel:\n  Image: 'C:\\W*\\a?c.exe'\ncondition: sel",
        {"Image": "c:\\windows\\sys\\abc.exe"},
        {"Image": "c:\\windows\\abbc.exe"},
    ),
    ("sel:\n  Image: 'a*b*c'\ncondition: sel", {"Image": "axxbyyc"}, {"Image": "acb"}),
    ("sel:\n  ParentImage: null\ncondition: sel", {}, {"ParentImage": "x"}),
    ("sel:\n  EventID: 1\n  Flag: true\ncondition: sel", {"Flag": True}, {"Flag": False}),
    ("sel:\n  CommandLine|neq: 'x'\ncondition: sel", {"CommandLine": "y"}, {"CommandLine": "x"}),
    (
        "keywords:\n  - 'mimikatz'\ncondition: keywords",
        {"Anything": "run MIMIKATZ now"},
        {"Anything": "mimi katz"},
    ),
    (
        "keywords:\n  '|all':\n    - 'lsass'\n    - 'dump'\ncondition: keywords",
        {"A": "lsass", "B": "procdump"},
        {"A": "lsass"},
    ),
    (
        "a:\n  Image|endswith: '\\a.exe'\nb:\n  CommandLine|contains: 'x'\nfilter_1:\n  User: 'admin'\n"
        "condition: (a or b) and not 1 of filter_*",
        {"CommandLine": "x", "User": "bob"},
        {"CommandLine": "x", "User": "ADMIN"},
    ),
    (
        "sel_a:\n  A: '1'\nsel_b:\n  B: '2'\ncondition: all of sel_*",
        {"A": "1", "B": "2"},
        {"A": "1", "B": "3"},
    ),
    ("sel_a:\n  A: '1'\nsel_b:\n  B: '2'\ncondition: 1 of them", {"B": "2"}, {"A": "2"}),
    ("sel_a:\n  A: '1'\nsel_b:\n  B: '2'\ncondition: all of them", {"A": "1", "B": "2"}, {"B": "2"}),
    (
        "sel:\n  Image|endswith:\n    - '\\a.exe'\n    - '\\b.exe'\n    - '\\c.exe'\n    - '\\d.exe'\n"
        "  CommandLine|contains:\n    - ' -x '\n    - ' /y '\n    - 'zz'\ncondition: sel",
        {"Image": "C:\\B.exe", "CommandLine": "b /y q"},
        {"Image": "C:\\b.exe", "CommandLine": "b -y q"},
    ),
    ("sel:\n  Tags|contains: 'evil'\ncondition: sel", {"Tags": ["good", "very-evil"]}, {"Tags": ["good"]}),
]


@pytest.mark.parametrize(("detection", "hit", "miss"), CASES, ids=[c[0].splitlines()[1][:40] for c in CASES])
def test_modifier_matches_and_misses(rules_from, detection: str, hit: dict, miss: dict) -> None:
    ruleset = rules_from(rule(detection))
    assert not ruleset.refused, ruleset.refused
    assert fired(ruleset, [flat_event(**hit)]) == ["t"]
    assert fired(ruleset, [flat_event(**miss)]) == []


def test_expand_placeholders(rules_from) -> None:
    ruleset = rules_from(
        rule("sel:\n  User|expand: '%admins%'\ncondition: sel"), placeholders={"admins": ["root", "adm*"]}
    )
    assert fired(ruleset, [flat_event(User="ADMIN1"), flat_event(User="root"), flat_event(User="bob")]) == [
        "t",
        "t",
    ]


def test_expand_without_values_is_refused_with_reason(rules_from) -> None:
    ruleset = rules_from(rule("sel:\n  User|expand: '%admins%'\ncondition: sel"))
    assert not ruleset.rules
    assert "placeholder %admins% has no values" in ruleset.refused[0].reason


def test_logsource_limits_rules(rules_from) -> None:
    ruleset = rules_from(rule("sel:\n  CommandLine|contains: 'x'\ncondition: sel"))
    assert fired(ruleset, [flat_event(EventID=11, CommandLine="x")]) == []
    assert fired(ruleset, [{"Channel": "Security", "EventID": 4688, "CommandLine": "x"}]) == ["t"]


def test_security_4688_fields_fall_back_to_sysmon_names(rules_from) -> None:
    ruleset = rules_from(rule("sel:\n  Image|endswith: '\\cmd.exe'\ncondition: sel"))
    assert fired(ruleset, [{"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\cmd.exe"}]) == [
        "t"
    ]


def test_matched_fields_name_the_positive_tests(rules_from) -> None:
    from sigma_helpers import events

    from bastion.detect.sigma.engine import SigmaEngine

    ruleset = rules_from(
        rule("sel:\n  Image|endswith: '\\a.exe'\n  CommandLine|contains: 'go'\ncondition: sel")
    )
    event = events([flat_event(Image="c:\\a.exe", CommandLine="go")])[0]
    hits, _ = SigmaEngine(ruleset).process(event)
    assert hits[0].rule.matched_fields(event) == ["Image", "CommandLine"]
