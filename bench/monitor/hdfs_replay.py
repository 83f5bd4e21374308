"""Raw HDFS log lines for labeled block sessions.

The hdfs-100k sessions are event-id sequences (E1..E30 of Xu et al.). Each event id gets the
real HDFS_2k.log lines of that event (matched with the HDFS_templates.csv patterns); a session
is rendered by taking, for each of its events, one such line with the block id replaced by the
session's own (plus a per-round suffix when replayed several times) and IP last octets varied.
Sessions are interleaved in groups, as concurrent blocks are in a real log.
"""

from __future__ import annotations

import csv
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

DATA = (
    Path(os.environ.get("BASTION_SHARED_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
    / "logs"
)
_BLOCK = re.compile(r"blk_-?\d+")


def event_examples() -> dict[str, list[str]]:
    """E-id -> real raw lines of that event from HDFS_2k.log (a synthetic one where none)."""
    patterns = []
    with (DATA / "loghub-2k/HDFS/HDFS_templates.csv").open() as f:
        for row in csv.DictReader(f):
            regex = ".*?".join(re.escape(part) for part in row["EventTemplate"].split("<*>"))
            patterns.append((row["EventId"], re.compile(regex), row["EventTemplate"]))
    examples: dict[str, list[str]] = {e: [] for e, _, _ in patterns}
    raw = (DATA / "loghub-2k/HDFS/HDFS_2k.log").read_text(encoding="utf-8").splitlines()
    for line in raw:
        line = line.rstrip("\r")
        for event, regex, _ in patterns:
            if regex.search(line):
                examples[event].append(line)
                break
    for event, _, template in patterns:
        if not examples[event]:
            text = template.replace("<*>", " blk_1 ").strip()
            examples[event].append(f"081109 203615 148 INFO dfs.DataNode: {' '.join(text.split())}")
    return examples


def read_sessions() -> list[tuple[str, bool, str, list[str]]]:
    """(block id, anomalous, split, event ids) of every hdfs-100k block."""
    with (DATA / "hdfs-100k-sessions/hdfs100k_block_sessions.csv").open() as f:
        return [
            (
                row["BlockId"],
                row["Label"] == "Anomaly",
                row["DeepLoglizerSplit"],
                row["EventSequence"].split(),
            )
            for row in csv.DictReader(f)
        ]


def render(
    sessions: list[tuple[str, list[str]]], examples: dict[str, list[str]], seed: int = 0, group: int = 20
) -> Iterator[str]:
    """Raw lines of ``sessions`` ((block id, event ids)), ``group`` sessions interleaved at a time."""
    rng = random.Random(seed)  # bastion: ignore[sast.bandit.B311] seeded replay order, not security
    for start in range(0, len(sessions), group):
        queues = [
            [_BLOCK.sub(block, rng.choice(examples[e])) for e in events]
            for block, events in sessions[start : start + group]
        ]
        while queues:
            i = rng.randrange(len(queues))
            yield queues[i].pop(0)
            if not queues[i]:
                queues.pop(i)
