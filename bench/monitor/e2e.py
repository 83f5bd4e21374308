"""End-to-end runs from raw lines, with labels: hdfs-100k (rendered blocks) and BGL_2k.

hdfs-100k: every model trained on the rendered normal blocks of the deep-loglizer train split
and tested on its test split (1,588 blocks, 57 anomalous), from raw lines; also the same
split on the event sequences directly (the smoke set's reference: P 1.00 / R 0.53).
BGL_2k: trained on the normal lines of the first half (first token "-"), then detection on the
second half by node and time window; a window is abnormal when one of its lines is labeled.
Usage: .venv/bin/python bench/monitor/e2e.py
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from hdfs_replay import DATA, event_examples, read_sessions, render

from bastion.detect.ingest.records import RegexFormat, get_format, read_records
from bastion.detect.logs.features import SessionKey
from bastion.detect.logs.pipeline import train
from bastion.detect.logs.registry import MODELS, make_model

BGL_FORMAT = (
    r"^(?P<label>\S+) \d+ \S+ (?P<node>\S+) "
    r"(?P<timestamp>\d{4}-\d\d-\d\d-\d\d\.\d\d\.\d\d\.\d+) \S+ (?P<message>.*)$"
)


def prf(flagged: set[str], truth: set[str]) -> str:
    """Precision, recall and F1 as table cells."""
    tp = len(flagged & truth)
    p = tp / len(flagged) if flagged else 0.0
    r = tp / len(truth) if truth else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"{p:.3f} | {r:.3f} | {f:.3f} | {len(flagged)}"


def numbered(lines: Iterable[str], source: str) -> Iterable[tuple[str, int, str]]:
    """(source, n, text) triples."""
    return ((source, n, text) for n, text in enumerate(lines, 1))


def hdfs100k() -> None:
    """Raw-line and sequence runs on the hdfs-100k split."""
    examples = event_examples()
    sessions = read_sessions()
    train_normal = [(b, ev) for b, bad, split, ev in sessions if split == "train" and not bad]
    test = [(b, ev) for b, _, split, ev in sessions if split == "test"]
    truth = {b for b, bad, split, _ in sessions if split == "test" and bad}
    fmt = get_format("raw")
    print(
        f"hdfs-100k: train {len(train_normal)} normal blocks, "
        f"test {len(test)} blocks ({len(truth)} anomalous)\n"
    )
    print("| model | input | precision | recall | F1 | flagged |")
    print("|---|---|---|---|---|---|")
    for name in MODELS:
        detector, _ = train(read_records(numbered(render(train_normal, examples), "train"), fmt), name,
                            SessionKey("block"))  # fmt: skip
        alerts = detector.detect(read_records(numbered(render(test, examples, seed=1), "test"), fmt))
        flagged = {a.entity for a in alerts if a.entity_kind != "window"}  # the block sessions' verdicts
        print(f"| {name} | raw lines | {prf(flagged, truth)} |")
        model = make_model(name)
        model.fit([ev for _, ev in train_normal])
        flags = model.predict([ev for _, ev in test])
        print(
            f"| {name} | event sequences | "
            f"{prf({b for (b, _), f in zip(test, flags, strict=True) if f}, truth)} |"
        )


def bgl() -> None:
    """BGL_2k end to end by node and time window."""
    raw = (DATA / "loghub-2k/BGL/BGL_2k.log").read_text(encoding="utf-8").splitlines()
    raw = [line.rstrip("\r") for line in raw]
    half = len(raw) // 2
    first = [line for line in raw[:half] if line.startswith("- ")]
    second = raw[half:]
    fmt = RegexFormat(BGL_FORMAT, time_format="%Y-%m-%d-%H.%M.%S.%f")
    print(f"\nBGL_2k: train on {len(first)} normal lines of the first half, detect on {len(second)} lines "
          f"({sum(1 for x in second if not x.startswith('- '))} labeled alerts)\n")  # fmt: skip
    print("| model | session | window | precision | recall | F1 | flagged windows |")
    print("|---|---|---|---|---|---|---|")
    for by, window in (("node", 3600.0), ("node", 86400.0), ("none", 3600.0)):
        for name in MODELS:
            key = SessionKey(by, window)
            detector, _ = train(read_records(numbered(first, "bgl"), fmt), name, key)
            # Ground truth: the session names of every labeled line, computed with the same key.
            records = list(read_records(numbered(second, "bgl"), fmt))
            truth: set[str] = set()
            for r in records:
                if r.fields.get("label", "-") != "-" and r.timestamp is not None:
                    start = r.timestamp.timestamp() // window * window
                    begin = datetime.fromtimestamp(start, UTC).isoformat()
                    entity = key.entities(r)
                    truth.update(f"{e}@{begin}" for e in entity)
            flagged = {a.entity for a in detector.detect(iter(records)) if a.entity_kind != "window"}
            print(f"| {name} | {by} | {window:g} s | {prf(flagged, truth)} |")


def bgl_default() -> None:
    """BGL_2k through watch's defaults (format auto, --session auto, ranges, time windows auto):
    per-window evaluation on the detector's own time windows, labels only for scoring."""
    raw = [
        x.rstrip("\r") for x in (DATA / "loghub-2k/BGL/BGL_2k.log").read_text(encoding="utf-8").splitlines()
    ]
    half = len(raw) // 2
    first = [line for line in raw[:half] if line.startswith("- ")]
    detector, summary = train(read_records(numbered(first, "bgl")), "ranges", SessionKey("auto"))
    if detector.windows is None:
        print("\nBGL_2k defaults: no time-window layer")
        return
    length = detector.windows.window
    records = list(read_records(numbered(raw[half:], "bgl")))
    truth = {int(r.timestamp.timestamp() // length) for r in records
             if r.timestamp is not None and not r.raw.startswith("- ")}  # fmt: skip
    alerts = list(detector.detect(iter(records)))
    scored = detector.last_scorer.scored if detector.last_scorer else 0
    windows = {int(a.window_start.timestamp() // length) for a in alerts if a.entity_kind == "window"}
    print(f"\nBGL_2k, watch defaults ({summary.session_note or detector.key.by}); time windows of "
          f"{length:g} s chosen from training; {scored} test windows, "
          f"{len(truth)} hold a labelled line\n")  # fmt: skip
    print("| alerts counted | precision | recall | F1 | flagged windows |")
    print("|---|---|---|---|---|")
    print(f"| window layer | {prf({str(w) for w in windows}, {str(t) for t in truth})} |")


if __name__ == "__main__":
    hdfs100k()
    bgl()
    bgl_default()
