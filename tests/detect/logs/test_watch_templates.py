"""Template miner: accuracy on real loghub samples, masking, persistence."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

import bastion.detect.logs.masking as masking_module
from bastion.detect.logs.masking import _UNITS, _is_variable
from bastion.detect.logs.templates import (
    WILDCARD,
    TemplateMiner,
    clear_caches,
    event_text,
    load_state,
    mask_key,
    mask_line,
    save_state,
    tokenize,
)
from bastion.errors import InputError

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"


def grouping_accuracy(pred: list[int], truth: list[str]) -> float:
    """Share of lines whose predicted group equals their true group exactly."""
    groups: dict[int, set[int]] = defaultdict(set)
    true_groups: dict[str, set[int]] = defaultdict(set)
    for i, (p, t) in enumerate(zip(pred, truth, strict=True)):
        groups[p].add(i)
        true_groups[t].add(i)
    ok = sum(len(idx) for idx in groups.values() if true_groups[truth[next(iter(idx))]] == idx)
    return ok / len(pred)


@pytest.mark.parametrize("name", ["Linux", "OpenSSH"])
def test_grouping_accuracy_on_loghub(name: str) -> None:
    with (LOGS / f"{name}_2k.log_structured.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    pred = TemplateMiner().add_all(r["Content"] for r in rows)
    assert grouping_accuracy(pred, [r["EventId"] for r in rows]) >= 0.97


def test_masking_of_generic_variables() -> None:
    tokens = mask_line("connection from 10.0.0.1 (host.example.com) at Sat Jul 9 22:53:19 2005 size 4 KB")
    assert tokens == [
        "connection", "from", WILDCARD, WILDCARD, "at", WILDCARD, WILDCARD, WILDCARD, WILDCARD, WILDCARD,
        "size", WILDCARD,
    ]  # fmt: skip
    assert mask_line("key=0xdeadbeefcafe user=bob ()") == ["key", WILDCARD, "user", "bob", WILDCARD]


def test_tokenize_bounds_long_lines() -> None:
    assert len(tokenize("a " * 100_000)) == 256
    assert tokenize("") == []


def test_low_cardinality_words_split_events_and_many_values_merge() -> None:
    miner = TemplateMiner()
    lines = [f"session opened for user {u}" for u in ("root", "root", "guest")]
    ids = miner.add_all(lines)
    assert ids[0] == ids[1] != ids[2]
    many = TemplateMiner()
    ids = many.add_all(f"session opened for user u{c}x" for c in "abcdefgh")
    assert len(set(ids)) == 1
    ids = many.add_all(f"Invalid user {name} from host" for name in ("ann", "bob", "cy", "dee", "ed"))
    assert len(set(ids)) == 1


def test_match_and_event_text() -> None:
    miner = TemplateMiner()
    miner.add_all(
        ["Accepted password for root from 1.2.3.4 port 22", "Accepted password for root from 5.6.7.8 port 23"]
    )
    found = miner.match("Accepted password for root from 9.9.9.9 port 1")
    assert found is not None and found.count == 2
    assert event_text(found, mask_line("Accepted password for root from 9.9.9.9 port 1")).startswith(
        "Accepted"
    )
    assert miner.match("kernel panic now") is None
    assert miner.match("Accepted publickey for root from 9.9.9.9 port 1 extra") is None


def test_state_round_trip(tmp_path: Path) -> None:
    miner = TemplateMiner()
    lines = [f"user {u} logged in from 10.0.0.{i}" for i, u in enumerate(["a", "b", "a", "c"])]
    first = miner.add_all(lines)
    path = tmp_path / "state.json"
    save_state(miner, path)
    again = load_state(path)
    assert again.to_dict() == miner.to_dict()
    assert [again.event_id(again.match(line), mask_line(line)) for line in lines] == first


def test_state_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read template state"):
        load_state(bad)
    bad.write_text("[]", encoding="utf-8")
    with pytest.raises(InputError, match="not a Bastion"):
        load_state(bad)
    state = TemplateMiner().to_dict()
    state["version"] = 99
    bad.write_text(json.dumps(state), encoding="utf-8")
    with pytest.raises(InputError, match="version 99 is not supported"):
        load_state(bad)
    state["version"] = 1
    del state["next_id"]
    bad.write_text(json.dumps(state), encoding="utf-8")
    with pytest.raises(InputError, match="damaged"):
        load_state(bad)
    with pytest.raises(ValueError, match="similarity"):
        TemplateMiner(similarity=0)


def test_unknown_variant_is_unseen_in_detection() -> None:
    miner = TemplateMiner()
    miner.add_all(["session opened for user root", "session opened for user guest"])
    tokens = mask_line("session opened for user admin")
    template = miner.match_tokens(tokens)
    assert template is not None
    assert miner.event_id(template, tokens, new=False) == -1
    assert miner.event_id(template, tokens) > 0


def _reference_mask(line: str) -> list[str]:
    """The miner's masking rule applied token by token, with no cache (what the shape cache must equal)."""
    out: list[str] = []
    previous_wild = False
    for token in tokenize(line):
        if re.search(r"\d", token) or _is_variable(token) or (previous_wild and token in _UNITS):
            out.append(WILDCARD)
            previous_wild = True
        else:
            out.append(token)
            previous_wild = False
    return out


def _fixture_lines() -> list[str]:
    lines: list[str] = []
    for name in ("HDFS_2k.log", "BGL_2k.log", "OpenSSH_2k.log"):
        lines += (LOGS / name).read_text(encoding="utf-8", errors="replace").splitlines()
    with (LOGS / "Linux_2k.log_structured.csv").open(encoding="utf-8") as f:
        lines += [r["Content"] for r in csv.DictReader(f)]
    return lines


EDGE_LINES = [
    "",
    "   ",
    "<*> 12 ms <*> KB",  # a literal wildcard is a constant: no unit masking after it
    "took 12 ms then 3 KB; 4,5 MB|x=7 s 'q9' \"r0\"",
    "Arabic-Indic digits \u0663\u0664 and fullwidth \uff11 are numbers too",
    "host a.b.example.com and deadbeefcafe and Mon Jan and (x) ()",
    "x" * 9000 + " 1 2",
    " ".join(f"w{i} word" for i in range(300)),
    "trailing digit token 123",
    "12 leading digit token",
    "mixed\ttabs\x1cseparators 0xff\u00a0nbsp 42",
]


def test_shape_cache_masks_exactly_like_the_token_rule() -> None:
    clear_caches()
    lines = _fixture_lines() + EDGE_LINES
    assert [mask_line(line) for line in lines] == [_reference_mask(line) for line in lines]
    # second pass from the warm caches
    assert [mask_line(line) for line in lines] == [_reference_mask(line) for line in lines]
    assert all(mask_key(line) == tuple(mask_line(line)) for line in lines)


def test_shape_cache_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_caches()
    long_line = "word " * 300 + "7"
    assert mask_line(long_line) == _reference_mask(long_line)
    assert not masking_module._SHAPE_CACHE  # too long to keep
    monkeypatch.setattr(masking_module, "_SHAPE_LIMIT", 3)
    for word in ("alpha", "beta", "gamma", "delta"):
        mask_line(f"{word} 1")
    assert len(masking_module._SHAPE_CACHE) == 1  # cleared when full, then refilled
    assert mask_line("alpha 99") == ["alpha", WILDCARD]
    clear_caches()
    assert not masking_module._SHAPE_CACHE and not masking_module._VARIABLE_CACHE


def test_add_all_equals_adding_line_by_line() -> None:
    lines = _fixture_lines()
    fast = TemplateMiner()
    ids = fast.add_all(lines)
    slow = TemplateMiner()
    mined = [(slow.add_tokens(mask_line(line), line).id, mask_line(line)) for line in lines]
    expected = [slow.event_id(slow.templates[slow.resolve(tid)], tokens) for tid, tokens in mined]
    assert ids == expected
    assert fast.to_dict() == slow.to_dict()
    again = TemplateMiner()
    assert [again.add(line).id for line in lines[:50]] == [
        again.add_tokens(mask_key(line), line).id for line in lines[:50]
    ]


def test_wildcard_lookup_sees_templates_generalized_after_their_first_lookup() -> None:
    miner = TemplateMiner()
    first = miner.add("job alpha started on node")
    assert miner.match("job delta started on node") is None  # "alpha" is still a constant
    assert miner.add("job beta started on node").id == first.id  # "alpha" becomes a wildcard
    again = miner.match("job delta started on node")  # not a known masked line: wildcard match
    assert again is not None and again.id == first.id
    assert again.tokens == ["job", WILDCARD, "started", "on", "node"]
    assert miner.event_id(again, mask_key("job delta started on node"), new=False) == -1
    assert miner.match("job delta stopped on node") is None
