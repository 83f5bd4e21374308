"""Header detection, leave-systems-out: is each held-out system's header found by rules it did not shape?

The header rules (:mod:`bastion.detect.ingest.headers`) were written looking at all eight raw
loghub logs. Their per-log choice is the trailing shape (``_TRAILING``) that follows the time/level
prefix. For each fold of two held-out systems, every trailing shape that only the fold's own
systems choose (no other system's log picks it) is removed; then the held-out logs are split
with what is left and scored: the share of lines whose detected message equals the ground
truth's ``Content`` (whitespace-normalised). The full rule set is scored alongside.
Usage: .venv/bin/python bench/monitor/headers_loso.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from synth import DATA, SYSTEMS

from bastion.detect.ingest import headers

FOLDS = (("HDFS", "Spark"), ("BGL", "Zookeeper"), ("Linux", "Hadoop"), ("OpenSSH", "Apache"))
FULL = headers._TRAILING


def lines_and_truth(system: str) -> tuple[list[str], list[str]]:
    """Raw lines and their ground-truth messages."""
    folder = DATA / "loghub-2k" / system
    raw = [x.rstrip("\r") for x in (folder / f"{system}_2k.log").read_text(encoding="utf-8").splitlines()]
    with (folder / f"{system}_2k.log_structured.csv").open(encoding="utf-8") as fh:
        truth = [row["Content"] for row in csv.DictReader(fh)]
    return raw, truth


def exact(system: str) -> tuple[float, tuple[str, ...]]:
    """Share of lines whose message is the ground truth's, and the trailing shape chosen."""
    raw, truth = lines_and_truth(system)
    header = headers.detect_header(raw[:50])
    pairs = zip(raw, truth, strict=True)
    hits = sum(" ".join(header.message(line).split()) == " ".join(t.split()) for line, t in pairs)
    return hits / len(raw), header.trailing


def tail(shape: tuple[str, ...]) -> tuple[str, ...]:
    """The ``_TRAILING`` entry of a chosen shape (its process-id/separator lead taken off)."""
    for lead in sorted(headers._LEADS, key=len, reverse=True):
        if shape[: len(lead)] == lead and shape[len(lead) :] in FULL:
            return shape[len(lead) :]
    return shape


def main() -> None:
    """Per fold, with the held-out systems' own shapes removed."""
    chosen = {s: tail(exact(s)[1]) for s in SYSTEMS}
    print("| fold | system | shape chosen (all rules) | exact (all rules) | shapes removed "
          "| exact (held out) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for fold in FOLDS:
        others = {chosen[s] for s in SYSTEMS if s not in fold}
        removed = {chosen[s] for s in fold} - others - {()}
        kept = tuple(shape for shape in FULL if shape not in removed)
        for system in fold:
            headers._TRAILING = FULL
            full, shape = exact(system)
            headers._TRAILING = kept
            held, _ = exact(system)
            headers._TRAILING = FULL
            names = ", ".join("".join(r) for r in sorted(removed)) or "none"
            shown = "".join(shape) or "(prefix only)"
            print(f"| {'+'.join(fold)} | {system} | {shown} | {full:.3f} | {names} | {held:.3f} |")


if __name__ == "__main__":
    main()
