"""Differential fuzz: this tree's template miner against another version's, on random lines.

Usage (the miner before the speed work, commit e9b123a):
    mkdir -p build/before && git archive e9b123a src | tar -x -C build/before
    .venv/bin/python bench/monitor/miner_diff.py build/before/src/bastion/detect/logs/templates.py

Masking: random strings over digits (ASCII and not), separators, brackets, units, calendar words,
literal wildcards. Mining: random short lines over small vocabularies (so templates generalize,
collide and take low-cardinality variants) under several settings; compared are the event ids,
the saved state, held-out lookups and line-by-line ``add``. Exit 1 at the first difference.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import bastion.detect.logs.templates as ours

CHARS = [
    *"aAbxfF09 5,;=|\"'\t\n.:-_()[]<>*/\u0663\uff11\u00a0\x1c",
    *("ms", "KB", "Mon", "jan", "deadbeef", "0x", "host.a.b", "<*>"),
]
WORDS = [
    *("open", "file", "disk", "alpha", "beta", "gamma", "now", "later", "user", "root", "guest"),
    *("<*>", "ms", "KB", "12", "0x1f", "a.b.c.d", "(x)", "Mon", "="),
]
SETTINGS: list[dict[str, float]] = [
    {}, {"similarity": 0.4}, {"similarity": 0.6}, {"max_values": 1}, {"max_values": 2},
]  # fmt: skip


def load(path: Path) -> ModuleType:
    """Import another copy of templates.py under its own module name."""
    spec = importlib.util.spec_from_file_location("other_templates", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: cannot import")
    module = importlib.util.module_from_spec(spec)
    sys.modules["other_templates"] = module
    spec.loader.exec_module(module)
    return module


def mining(module: ModuleType, lines: list[str], settings: dict[str, float]) -> Any:
    """Everything a miner decides on ``lines``."""
    miner = module.TemplateMiner(**settings)
    ids = miner.add_all(lines[::2])
    lookups = []
    for line in lines[1::2]:
        template = miner.match(line)
        tokens = module.mask_line(line)
        found = None if template is None else (template.id, miner.event_id(template, tokens, new=False))
        lookups.append(found)
    single = module.TemplateMiner(**settings)
    return ids, miner.to_dict(), lookups, [single.add(line).id for line in lines], single.to_dict()


def main() -> int:
    """Run both fuzzers; print the first difference."""
    other = load(Path(sys.argv[1]))
    rng = random.Random(7)  # bastion: ignore[sast.bandit.B311] seeded fuzz input, not security
    for i in range(200_000):
        line = "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 30)))
        if other.mask_line(line) != ours.mask_line(line):
            print(f"masking differs on {line!r}")
            return 1
        if i % 50_000 == 0:
            ours.clear_caches()
    for seed in range(3000):
        rng = random.Random(seed)  # bastion: ignore[sast.bandit.B311] seeded fuzz input, not security
        vocab = rng.sample(WORDS, rng.randint(3, 8))
        lines = []
        for _ in range(rng.randint(5, 60)):
            sep = rng.choice([" ", " ", ",", "="])
            words = (rng.choice(vocab) if rng.random() < 0.8 else str(rng.randint(0, 999)) for _ in range(5))
            lines.append(sep.join(list(words)[: rng.randint(1, 5)]))
        settings = rng.choice(SETTINGS)
        if mining(other, lines, settings) != mining(ours, lines, settings):
            print(f"mining differs (seed {seed}, settings {settings}) on {lines}")
            return 1
    print("200,000 random lines masked and 3,000 random streams mined alike")
    return 0


if __name__ == "__main__":
    sys.exit(main())
