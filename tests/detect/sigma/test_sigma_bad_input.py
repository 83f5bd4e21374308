"""Bad rules and bad logs: one-line reasons, counted skips, no traceback, bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sigma_helpers import fired, flat_event, write_rules

from bastion.detect.sigma.events import ReadSkips, read_events
from bastion.detect.sigma.loader import load_rules
from bastion.detect.sigma.values import compile_regex, has_nested_quantifier, regex_literal
from bastion.errors import InputError

GOOD = """
title: good
id: 5a5a5a5a-0000-4000-8000-000000000001
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\\x.exe'}
  condition: sel
"""


def test_every_bad_rule_gets_a_one_line_reason(tmp_path: Path) -> None:
    folder = write_rules(
        tmp_path / "r",
        GOOD,
        "title: [unclosed\n",
        GOOD.replace("good", "unknown-mod").replace("0001", "0002").replace("endswith", "endswithh"),
        GOOD.replace("good", "no-cond").replace("0001", "0003").replace("  condition: sel\n", ""),
        GOOD.replace("good", "pipe")
        .replace("0001", "0004")
        .replace("condition: sel", "condition: sel | count() > 5"),
        GOOD.replace("good", "bad-regex")
        .replace("0001", "0005")
        .replace("Image|endswith: '\\x.exe'", "Image|re: '(?=x)(a+)+$'"),
    )
    (folder / "notes.txt").write_text("not a rule", encoding="utf-8")
    ruleset = load_rules([folder])
    assert [r.title for r in ruleset.rules] == ["good"]
    assert len(ruleset.refused) == 5
    reasons = " | ".join(r.line() for r in ruleset.refused)
    assert "invalid rule file" in reasons
    assert "Unknown modifier 'endswithh'" in reasons
    assert "at least one condition" in reasons
    assert "pipe syntax" in reasons
    # pySigma's safe policy checks every regex with re2: lookaround is refused with re2's reason
    assert "'(?=x)(a+)+$' is invalid" in reasons
    assert all("\n" not in r.line() for r in ruleset.refused)


def test_missing_rules_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such rule file"):
        load_rules([tmp_path / "nope"])


def test_catastrophic_regex_runs_in_linear_time(rules_from) -> None:
    ruleset = rules_from(GOOD.replace("Image|endswith: '\\x.exe'", "CommandLine|re: '^(a+)+$'"))
    assert ruleset.rules and not ruleset.refused  # re2 takes it: no backtracking
    start = time.perf_counter()
    assert fired(ruleset, [flat_event(CommandLine="a" * 50_000 + "!")]) == []
    assert time.perf_counter() - start < 2


def test_regex_helpers() -> None:
    assert has_nested_quantifier("(a+)+") and not has_nested_quantifier("a+b+")
    assert compile_regex("(?<=a)b")("ab")  # lookbehind: Python re, guarded
    assert regex_literal("cmd.{0,5}whoami") == "whoami" and regex_literal("[a-z]+") is None
    assert regex_literal("(") is None


def test_events_missing_every_field_match_nothing(rules_from) -> None:
    ruleset = rules_from(GOOD)
    assert fired(ruleset, [flat_event(), {"Channel": "x", "EventID": 1}, {}]) == []


def test_broken_json_lines_are_counted_skips(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text(
        '{"EventID": 1, "Channel": "Security"}\n{"EventID": 2, broken\n[1, 2]\n'
        '{"EventID": 3, "Channel": "x"}\n',
        encoding="utf-8",
    )
    skips = ReadSkips()
    events = list(read_events([log], skips))
    assert [e.raw.get("eventid") for e in events] == [1, 3]
    assert skips.total == 3
    assert any("invalid JSON" in line for line in skips.lines())


def test_truncated_pretty_json_is_a_counted_skip(tmp_path: Path) -> None:
    log = tmp_path / "events.json"
    log.write_text('{"Channel": "Security",\n "EventID": 4625\n}\n{"Channel": "Sec', encoding="utf-8")
    skips = ReadSkips()
    assert [e.raw["eventid"] for e in read_events([log], skips)] == [4625]
    assert skips.lines()[0].startswith("1 skipped: truncated JSON at end of file")


def test_broken_evtx_is_a_one_line_error_or_skip(tmp_path: Path) -> None:
    bad = tmp_path / "broken.evtx"
    bad.write_bytes(b"ElfFile\x00" + b"\x00" * 4096 + b"garbage" * 100)
    skips = ReadSkips()
    try:
        events = list(read_events([bad], skips))
    except InputError as exc:
        assert "broken.evtx" in str(exc) and "\n" not in str(exc)
    else:
        assert events == [] or skips.total >= 0
