"""Sessions: keys, fixed and sliding windows, out-of-order time, bounded memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bastion.detect.ingest.records import Record
from bastion.detect.logs.features import Session, Sessionizer, SessionKey, Vocabulary, count_matrix, texts_of
from bastion.detect.logs.templates import TemplateMiner
from bastion.errors import UsageError

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def rec(message: str, seconds: float = 0, host: str = "h1", **fields: str) -> Record:
    return Record(message, T0 + timedelta(seconds=seconds), host, "prog", dict(fields), raw=message)


def test_block_sessions_and_unseen_events() -> None:
    miner = TemplateMiner()
    lines = [
        rec("Receiving block blk_1 src 10.0.0.1"),
        rec("Receiving block blk_2 src 10.0.0.2"),
        rec("no block"),
    ]
    for r in lines:
        miner.add(r.message)
    sessions = list(
        Sessionizer(miner, SessionKey("block"), learn=False).feed([*lines, rec("panic in blk_1 now")])
    )
    by_key = {s.key: s for s in sessions}
    assert set(by_key) == {"blk_1", "blk_2"}
    assert by_key["blk_1"].events[-1] == -1
    assert "panic" in by_key["blk_1"].texts[-1]
    assert by_key["blk_1"].kind == "session"


def test_keys() -> None:
    r = rec("user bob failed from 1.2.3.4", ip="1.2.3.4", user="bob")
    assert SessionKey("ip").entities(r) == ["1.2.3.4"]
    assert SessionKey("user").entities(r) == ["bob"]
    assert SessionKey("host").entities(r) == ["h1"]
    assert SessionKey("program").entities(r) == ["prog"]
    assert SessionKey("none").entities(r) == ["all"]
    assert SessionKey(r"re:user (\w+)").entities(r) == ["bob"]
    assert SessionKey(r"re:\d+\.\d+").entities(r) == ["1.2"]
    assert SessionKey("re:zzz").entities(r) == []
    assert SessionKey("missing").entities(r) == []
    assert SessionKey("host").entities(Record("x")) == []
    assert SessionKey("program").entities(Record("x")) == []
    assert SessionKey("none").kind == "stream" and SessionKey("re:x").kind == "session"
    assert SessionKey("ip").kind == "ip"
    for bad in ({"window": -1}, {"step": 5}, {"window": 5, "step": 10}, {"by": "re:("}):
        with pytest.raises(UsageError):
            SessionKey(**bad)


def test_fixed_and_sliding_windows_with_out_of_order_time() -> None:
    records = [rec("tick", s) for s in (0, 10, 70, 5, 130, 400)]
    miner = TemplateMiner()
    fixed = list(Sessionizer(miner, SessionKey("host", window=60), learn=True).feed(records))
    counts = {s.key.split("@")[1][11:19]: len(s.events) for s in fixed}
    assert counts == {"00:00:00": 3, "00:01:00": 1, "00:02:00": 1, "00:06:00": 1}
    first = next(s for s in fixed if len(s.events) == 3)
    assert first.start == T0 and first.end == T0 + timedelta(seconds=10)
    sliding = list(Sessionizer(miner, SessionKey("host", window=60, step=30), learn=True).feed(records))
    assert sum(len(s.events) for s in sliding) == 2 * len(records)


def test_bounded_open_sessions_and_events() -> None:
    miner = TemplateMiner()
    sessionizer = Sessionizer(miner, SessionKey("ip"), learn=True, max_open=10, max_events=3, max_evidence=2)
    records = [rec(f"hit from 10.0.{i % 50}.1", ip=f"10.0.{i % 50}.1") for i in range(200)]
    out = []
    for r in records:
        out.extend(sessionizer.add(r))
        assert len(sessionizer.open) <= 10
    out.extend(sessionizer.flush())
    assert sum(len(s.events) + s.truncated for s in out) == 200
    assert all(len(s.events) <= 3 and len(s.evidence) <= 2 for s in out)


def test_vocabulary_and_counts() -> None:
    vocab = Vocabulary([3, 1, 1, -1])
    assert vocab.ids == [1, 3] and vocab.size == 3 and vocab.column(7) == 2
    matrix = count_matrix([[1, 1, 3], [9]], vocab)
    assert matrix.tolist() == [[2, 1, 0], [0, 0, 1]]
    assert texts_of([Session("a", "ip", texts={1: "x"}), Session("b", "ip", texts={1: "y", 2: "z"})]) == {
        1: "x",
        2: "z",
    }
