"""Template text: variables inside their punctuation, dates as one value, unvarying words as text;
parsing accuracy (Loghub-2.0's PA) on real annotated logs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.logs.evaluation import canonical, exact, grouping_scores, parsing_accuracy
from bastion.detect.logs.render import render, variable_text, word_like
from bastion.detect.logs.templates import WILDCARD, TemplateMiner, event_text, mask_key

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"


@pytest.mark.parametrize(
    ("token", "text"),
    [
        ("core.1234", "core.<*>"),
        ("0)", "<*>)"),
        ("[1234]", "[<*>]"),
        ("10.0.0.1:80", "<*>"),
        ("1.5", "<*>.<*>"),
        ("hdfs://10.1.2.3:9000/user/x.log", "hdfs://<*>"),
        ("/var/www/html/", "<*>"),
        ("(host-1.example.com)", "(<*>)"),
        ("deadbeefcafe", "<*>"),
        ("alice", "<*>"),
        ("[alice]", "[<*>]"),
        ("::", "<*>"),
    ],
)
def test_variable_text(token: str, text: str) -> None:
    assert variable_text(token) == text


def test_word_like_constants() -> None:
    assert word_like("ssh2") and word_like("jk2_init()") and word_like("bytes")
    assert not word_like("blk_1234567") and not word_like("Jun") and not word_like("host.example.com")
    assert not word_like("1234")


def test_dates_read_as_one_value() -> None:
    line = "connection from 1.2.3.4 (h.example.net) at Sun Jul 24 02:34:05 2005"
    tokens = list(mask_key(line))
    assert render(tokens, line) == "connection from <*> (<*>) at <*>"
    iso = "job done at 2024-03-01T10:11:12.5Z in 3 ms"
    assert render(list(mask_key(iso)), iso) == "job done at <*> in <*> ms"
    assert render(["a", "b"], None) == "a b"


def test_masked_word_that_never_varies_reads_as_text() -> None:
    lines = [f"Failed password for u{i % 3}x from 10.0.0.{i} port {4000 + i} ssh2" for i in range(12)]
    miner = TemplateMiner()
    miner.add_all(lines)
    template = miner.match(lines[0])
    assert template is not None
    assert template.text == "Failed password for <*> from <*> port <*> ssh2"
    strict = TemplateMiner(evidence=50)  # not enough lines seen: the masked word stays a value
    strict.add_all(lines)
    found = strict.match(lines[0])
    assert found is not None and found.text.endswith("port <*> <*>")


def test_a_position_that_varies_later_is_a_value() -> None:
    lines = [f"state of node{i} is ok2" for i in range(6)] + [
        f"state of node{i} is ok{i}" for i in range(6, 9)
    ]
    miner = TemplateMiner()
    miner.add_all(lines)
    template = miner.match(lines[0])
    assert template is not None and template.text == "state of <*> is <*>"


def test_values_on_both_sides_do_not_count_against_similarity() -> None:
    # 9 tokens, 3 of them values: two users differ in 1 of the 6 words that can differ
    miner = TemplateMiner(similarity=0.7)
    ids = miner.add_all(
        [f"Failed password for {u} from 10.0.0.{i} port {i} ssh2" for i, u in enumerate("abcdefgh")]
    )
    assert len(set(ids)) == 1


def test_state_keeps_raw_observations() -> None:
    miner = TemplateMiner()
    miner.add_all([f"Accepted publickey for deploy from 10.0.0.{i} port {i} ssh2" for i in range(6)])
    state = miner.to_dict()
    again = TemplateMiner.from_dict(state)
    assert [t.text for t in again.templates.values()] == [t.text for t in miner.templates.values()]
    for item in state["templates"]:  # a state written before raw observations still loads
        del item["raw"], item["seen"]
    del state["evidence"]
    old = TemplateMiner.from_dict(state)
    assert all(WILDCARD in t.text for t in old.templates.values())


@pytest.mark.parametrize("name", ["OpenSSH_2k", "Linux_2k"])
def test_parsing_accuracy_on_annotated_logs(name: str) -> None:
    with (LOGS / f"{name}.log_structured.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lines = [r["Content"] for r in rows]
    miner = TemplateMiner()
    ids = miner.add_all(lines)
    texts = []
    for line in lines:
        tokens = mask_key(line)
        template = miner.match_tokens(tokens)
        assert template is not None
        texts.append(event_text(template, tokens))
    ga, fga = grouping_scores(ids, [r["EventId"] for r in rows])
    pa = parsing_accuracy(texts, [r["EventTemplate"] for r in rows], canonical)
    assert ga >= 0.99 and fga >= 0.95 and pa >= 0.95, (ga, fga, pa)
    assert parsing_accuracy(texts, texts, exact) == 1.0


def test_metrics_by_hand() -> None:
    ga, fga = grouping_scores([1, 1, 2, 3], ["a", "a", "b", "b"])
    assert ga == 0.5 and fga == pytest.approx(0.4)
    assert grouping_scores([1, 2], ["a", "b"]) == (1.0, 1.0)
    assert grouping_scores([1, 1], ["a", "b"]) == (0.0, 0.0)
    assert (
        canonical("Receiving block <*> src: /<*>:<*> dest: /<*>:<*>")
        == "Receiving block <*> src: <*> dest: <*>"
    )
    assert canonical("size  123 true blk_<*>") == "size <*> <*> <*>"


def test_templates_cli_shows_values_inside_punctuation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "templates", str(LOGS / "OpenSSH_2k.log"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    texts = {t["template"] for t in data["templates"]}
    assert "Failed password for <*> from <*> port <*> ssh2" in texts
    assert any(t.startswith("Received disconnect from <*>: <*>: Bye Bye [preauth]") for t in texts)


def test_a_word_that_varies_after_the_sample_is_a_value() -> None:
    lines = [f"service alpha started pid {i}" for i in range(40)] + ["service beta started pid 41"]
    miner = TemplateMiner()
    miner.add_all(lines)
    template = miner.match(lines[0])
    assert template is not None and template.text == "service <*> started pid <*>"


def test_hex_literal_is_never_shown_as_text() -> None:
    assert not word_like("0x1") and not word_like("(0xFF)")
    assert word_like("ssh2") and word_like("e820")
    miner = TemplateMiner()
    miner.add_all(f"acquire lock={n}, flags=0x1, uid={n % 7}" for n in range(10))
    (template,) = miner.templates.values()
    assert template.text == "acquire lock=<*>, flags=<*>, uid=<*>"


def test_quantities_read_with_their_unit() -> None:
    assert [variable_text(t) for t in ("<1 sec", "(1.16 KB)", "12 ms")] == ["<*> sec", "(<*> KB)", "<*> ms"]
    miner = TemplateMiner()
    lines = [
        f"closed, {n} bytes sent, lifetime {life}" for n, life in [(5, "<1 sec"), (9, "00:02"), (7, "<1 sec")]
    ]
    assert len(set(miner.add_all(lines))) == 1  # one position for a duration with or without a unit
