"""Fingerprint of everything Bastion's template miner decides, to prove a speed change changes nothing.

Usage: .venv/bin/python bench/monitor/miner_fingerprint.py [--write FILE | --check FILE]

For every input stream and every setting of the sensitivity sweep it records, as one SHA-256 per
case: the masked tokens of each line, each line's event id from ``add_all``, the full saved state
(``to_dict``: templates, wildcards, slots, variants, aliases, counts, examples) and what
``match``/``event_id(new=False)`` give for every line on the mined state and for the odd lines
on a state mined from the even ones only. Streams: the ``Content``
column of each system under all three ground truths, the raw ``.log`` lines (headers included),
all systems in one stream, three shuffled orders of that stream (so merges happen in other orders)
and 20,000 replayed HDFS lines with fresh block ids.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hdfs_replay

import bastion.detect.logs.templates as bastion_templates
from bastion.detect.logs.templates import TemplateMiner, mask_line

DATA = (
    Path(os.environ.get("BASTION_SHARED_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
    / "logs"
)
SYSTEMS = ["HDFS", "BGL", "Linux", "OpenSSH", "Apache", "Hadoop", "Spark", "Zookeeper"]
CSVS = {
    "loghub-2k": "loghub-2k/{s}/{s}_2k.log_structured.csv",
    "corrected": "loghub-2k-corrected/{s}/{s}_2k.log_structured_corrected.csv",
    "loghub-2.0": "loghub2-2k/{s}/{s}_2k.log_structured.csv",
}
SETTINGS: list[dict[str, float]] = [
    {},
    {"max_values": 2},
    {"max_values": 4},
    {"max_values": 6},
    {"similarity": 0.4},
    {"similarity": 0.6},
    {"similarity": 1.0},
]


def streams() -> Iterator[tuple[str, list[str]]]:
    """(name, lines) of every input stream."""
    mixed: list[str] = []
    for s in SYSTEMS:
        for name, pattern in CSVS.items():
            with (DATA / pattern.format(s=s)).open(encoding="utf-8") as f:
                lines = [r["Content"] for r in csv.DictReader(f)]
            if name == "loghub-2k":
                mixed.extend(lines)
            yield f"{s}/{name}", lines
        raw = (DATA / f"loghub-2k/{s}/{s}_2k.log").read_text(encoding="utf-8", errors="replace")
        yield f"{s}/raw", raw.splitlines()
    yield "mixed", mixed
    for seed in (1, 2, 3):
        shuffled = list(mixed)
        random.Random(seed).shuffle(shuffled)  # bastion: ignore[sast.bandit.B311] seeded test order
        yield f"mixed-shuffled-{seed}", shuffled
    sessions = [(block, events) for block, _, _, events in hdfs_replay.read_sessions()]
    replay = hdfs_replay.render(sessions, hdfs_replay.event_examples())
    yield "hdfs-replay-20k", [line for _, line in zip(range(20_000), replay, strict=False)]


def fingerprint(lines: list[str], settings: dict[str, float]) -> str:
    """SHA-256 over masking, event ids, the saved state and lookups of ``lines``."""
    clear = getattr(bastion_templates, "clear_caches", None) or bastion_templates._VARIABLE_CACHE.clear
    clear()
    digest = hashlib.sha256()
    for line in lines:
        digest.update(json.dumps(mask_line(line)).encode())
    miner = TemplateMiner(**settings)
    digest.update(json.dumps(miner.add_all(lines)).encode())
    digest.update(json.dumps(miner.to_dict(), sort_keys=True).encode())
    lookups = []
    for line in lines:
        template = miner.match(line)
        tokens = mask_line(line)
        lookups.append(
            None if template is None else (template.id, miner.event_id(template, tokens, new=False))
        )
    digest.update(json.dumps(lookups).encode())
    half = TemplateMiner(**settings)
    half.add_all(lines[::2])
    held_out = []  # lines never mined: lookups by wildcard match, not by the exact-line table
    for line in lines[1::2]:
        template = half.match(line)
        tokens = mask_line(line)
        held_out.append(
            None if template is None else (template.id, half.event_id(template, tokens, new=False))
        )
    digest.update(json.dumps(held_out).encode())
    reloaded = TemplateMiner.from_dict(json.loads(json.dumps(miner.to_dict())))
    digest.update(json.dumps(reloaded.add_all(lines[: len(lines) // 2])).encode())
    return digest.hexdigest()


def main() -> int:
    """Write or check the fingerprints."""
    parser = argparse.ArgumentParser()
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path)
    group.add_argument("--check", type=Path)
    args = parser.parse_args()
    result = {
        f"{name} {json.dumps(settings, sort_keys=True)}": fingerprint(lines, settings)
        for name, lines in streams()
        for settings in (SETTINGS if not name.startswith("hdfs-replay") else SETTINGS[:1])
    }
    if args.write:
        args.write.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if args.check:
        expected = json.loads(args.check.read_text(encoding="utf-8"))
        bad = [k for k in expected if result.get(k) != expected[k]]
        print(f"{len(result)} cases, {len(bad)} differ" + "".join(f"\n  {k}" for k in bad))
        return 1 if bad else 0
    print(f"{len(result)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
