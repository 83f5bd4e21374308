"""Siblings: a position that took many words across otherwise identical templates is a parameter."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bastion.detect.logs.near import MAX_RELATIONS, NearIndex, nearest, relation
from bastion.detect.logs.templates import (
    MAX_SAME_TAIL,
    WILDCARD,
    TemplateMiner,
    _group_key,
    load_state,
    mask_key,
    save_state,
)
from bastion.errors import InputError

KEYS = ["profile", "avatar", "settings", "feed", "inbox", "drafts", "contacts", "photos", "search"]
PROGRAMS = ["chrome.exe", "firefox.exe", "Dropbox.exe", "outlook.exe", "Skype.exe", "svchost.exe"]


def test_short_message_with_many_words_becomes_one_event() -> None:
    miner = TemplateMiner()
    ids = miner.add_all(f"Cache miss {key}" for key in KEYS * 3)
    assert len(set(ids)) == 1
    (template,) = miner.templates.values()
    assert template.tokens == ["Cache", "miss", WILDCARD] and template.count == len(KEYS) * 3
    assert template.text == "Cache miss <*>"
    # a word never seen in training is the same event in detection
    found = miner.match("Cache miss wallpapers")
    assert found is not None and found.id == template.id


def test_few_words_stay_separate_events() -> None:
    # three services that start: the service could be an enumeration, Loghub keeps such events apart
    miner = TemplateMiner()
    ids = miner.add_all(f"Service {name} started" for name in ["nginx", "redis", "cron"] * 4)
    assert len(set(ids)) == 3
    # verbs that differ: one relation holds started/stopped, two words, no merge
    ids = miner.add_all(["Service nginx stopped", "Service nginx started"])
    assert ids[0] != ids[1]


def test_sibling_values_zero_keeps_inner_positions_apart() -> None:
    miner = TemplateMiner(sibling_values=0)
    assert len(set(miner.add_all(f"Cache miss {key}" for key in KEYS))) == len(KEYS)


def test_a_number_where_a_word_was_is_a_parameter_at_once() -> None:
    miner = TemplateMiner()
    ids = miner.add_all(["Worker main stopped", "Worker 3 stopped", "Worker 12 stopped"])
    assert len(set(ids)) == 1
    assert next(iter(miner.templates.values())).tokens == ["Worker", WILDCARD, "stopped"]


def test_program_led_messages_merge_across_leading_words() -> None:
    miner = TemplateMiner()
    lines = [f"{p} opened www.example.com:{443 + i} through proxy proxy.local:5070 HTTPS" for i, p in
             enumerate(PROGRAMS * 2)]  # fmt: skip
    ids = miner.add_all(lines)
    assert len(set(ids)) == 1
    (template,) = miner.templates.values()
    assert template.tokens[0] == WILDCARD
    assert template.text.startswith("<*> opened <*> through proxy ")
    # detection: a program never seen is found through the wildcard-led group
    found = miner.match("iexplore.exe opened www.example.com:80 through proxy proxy.local:5070 HTTPS")
    assert found is not None and found.id == template.id
    # three programs only: they stay apart (the leading word uses max_values, 3)
    few = TemplateMiner()
    assert len(set(few.add_all(lines[:3]))) == 3


def test_merged_ids_resolve_and_add_all_matches_line_by_line() -> None:
    lines = [f"Connection closed {k}" for k in KEYS] + ["Connection closed profile"]
    batch = TemplateMiner().add_all(lines)
    one = TemplateMiner()
    first = [one.add(line).id for line in lines]
    assert len(set(batch)) == 1
    assert {one.resolve(t) for t in first} == {next(iter(one.templates))}
    assert all(one.resolve(t) in one.templates for t in first)


def test_relations_survive_a_saved_state(tmp_path: Path) -> None:
    miner = TemplateMiner()
    miner.add_all(f"Cache miss {key}" for key in KEYS[:5])  # five words: not yet a parameter
    assert len(miner.templates) == 5
    path = tmp_path / "state.json"
    save_state(miner, path)
    again = load_state(path)
    assert again.sibling_values == 6
    again.add_all(f"Cache miss {key}" for key in KEYS[5:7])  # the seventh word proves it
    assert len(again.templates) == 1
    data = json.loads(path.read_text(encoding="utf-8"))
    data["near"] = [[1, "not a list", [], []]]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="damaged template state"):
        load_state(path)


def test_nearest_rules() -> None:
    probe = (["Cache", "miss", "feed"], 0)
    # one differing position: a sibling at 2
    found = nearest(mask_key("Cache miss inbox"), [(7, probe)])
    assert [(n.template, n.position) for n in found] == [(7, 2)]
    # equal at every constant of a template mostly made of wildcards: join
    found = nearest(mask_key("Cache miss inbox"), [(8, (["Cache", "miss", None], 1))])
    assert [(n.template, n.position) for n in found] == [(8, -1)]
    # two differences, or only one equal constant: nothing
    assert nearest(mask_key("Disk full now"), [(7, probe)]) == []
    assert nearest(mask_key("Cache hit"), [(9, (["Cache", "miss"], 0))]) == []


def test_index_bounds_and_round_trip() -> None:
    index = NearIndex()
    key = relation(["Cache", "miss", "feed"], 2)
    assert key == (2, ("Cache", "miss", WILDCARD))
    assert index.record(key, 1, "feed") == 1
    assert index.record(key, None, "inbox") == 2
    assert index.record(key, None, WILDCARD) == MAX_RELATIONS
    back = NearIndex.from_list(json.loads(json.dumps(index.to_list())))
    assert back.values == index.values and back.members == index.members
    assert back.take(key) == [1] and back.take(key) == []
    full = NearIndex()
    full.values = {(0, (str(i),)): [] for i in range(MAX_RELATIONS)}
    assert full.record((1, ("x",)), 1, "y") == 0  # past the bound nothing new is recorded


def test_random_streams_keep_groups_consistent_and_every_mined_line_found() -> None:
    words = ["a", "b", "c", "d", "e", "f", "g", "h", "x1", "Cache", "miss", "10.0.0.1", "0x1f", "12 ms"]
    for seed in range(400):
        r = random.Random(seed)  # bastion: ignore[sast.bandit.B311] reproducible test data
        lines = [" ".join(r.choice(words) for _ in range(r.randint(1, 5))) for _ in range(r.randint(5, 60))]
        miner = TemplateMiner(
            similarity=r.choice([0.5, 0.7, 1.0]),
            sibling_values=r.choice([0, 2, 6]),
            max_values=r.choice([1, 3]),
        )
        miner.add_all(lines)
        grouped = [tid for tids in miner._groups.values() for tid in tids]
        assert sorted(grouped) == sorted(miner.templates), seed
        for key, tids in miner._groups.items():
            assert all(_group_key(miner.templates[t].tokens) == key for t in tids), seed
        reloaded = TemplateMiner.from_dict(miner.to_dict())
        for line in lines:
            assert miner.match(line) is not None and reloaded.match(line) is not None, (seed, line)


def test_sibling_search_is_bounded_when_leading_words_never_merge() -> None:
    # max_values 0: the leading word is never a parameter; every program keeps its own template,
    # and the tail index stops growing at its bound instead of making each new line slower
    miner = TemplateMiner(max_values=0)
    ids = miner.add_all(
        f"prog{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}x opened a socket" for i in range(300)
    )
    assert len(set(ids)) == 300
    assert max(len(v) for v in miner._tails.values()) == MAX_SAME_TAIL
