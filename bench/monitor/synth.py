"""Labelled anomalies injected into real normal logs, with ground truth per time window.

Takes a real log (loghub-2k, several systems), keeps its normal lines, splits it in time (first
half: training, second half: test) and injects into chosen test windows one anomaly each:

new-error  one line carrying an error message taken from ANOTHER system's real error lines,
           under this log's own header (its level word, when it has one, set to ERROR)
burst      one real line of the window repeated (max(10, 2 x the window's lines) copies)
silence    every line of the window removed (only in a stream busy in >= 90 % of the training
           windows, and where the two windows either side hold at least half the training's median
           window: elsewhere an empty window is normal)
reorder    the messages of the window's lines reversed (headers and time stamps stay in place)
quiet      every line of the window's most common component removed (only where the log names
           components, that component appears in >= 90 % of training windows, the window holds at
           least half the training's median window and another component; otherwise skipped)

Windows are the detector's own time windows (their length chosen from the training data); an
injected window is abnormal, every other test window normal. Usage: imported by anomaly_eval.py.
"""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bastion.detect.ingest.records import HeaderFormat, Record, detect_format, read_records

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "logs"
SYSTEMS = ("HDFS", "Spark", "BGL", "Zookeeper", "Linux", "Hadoop", "OpenSSH", "Apache")
KINDS = ("new-error", "burst", "silence", "reorder", "quiet")
_LEVEL = re.compile(r"\b(INFO|NOTICE|DEBUG|TRACE|WARN(?:ING)?)\b")
_ERROR_LEVELS = {"ERROR", "FATAL", "WARN", "WARNING", "SEVERE", "error", "crit", "CRITICAL"}


@dataclass
class Line:
    """A raw line with its parsed time (seconds)."""

    text: str
    time: float
    component: str


@dataclass
class Case:
    """One system's training lines, test lines with injections, and the truth per window."""

    system: str
    train: list[str]
    test: list[str]
    truth: dict[int, tuple[str, float]] = field(default_factory=dict)
    """Window index (time // length) -> (anomaly kind, time the anomaly starts)."""
    skipped: Counter[str] = field(default_factory=Counter)


def normal_lines(system: str) -> list[str]:
    """The system's 2k raw lines, labelled alert lines left out (BGL)."""
    path = DATA / "loghub-2k" / system / f"{system}_2k.log"
    lines = [x.rstrip("\r") for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [x for x in lines if x.startswith("- ")] if system == "BGL" else lines


def error_messages(system: str) -> list[str]:
    """Real error messages of a system (its structured CSV's Level, or error words for syslog ones)."""
    import csv

    path = DATA / "loghub-2k" / system / f"{system}_2k.log_structured.csv"
    out = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            level = row.get("Level", "")
            bad = level in _ERROR_LEVELS or (
                not level and re.search(r"(?i)fail|error|denied", row["Content"])
            )
            if bad and (system != "BGL" or row.get("Label") == "-"):
                out.append(row["Content"])
    return sorted(set(out))


def parse(lines: list[str]) -> tuple[list[Line], HeaderFormat | None]:
    """Lines with time stamps, in file order, and the detected header format."""
    fmt = detect_format(lines[:50])
    out = []
    for n, record in enumerate(read_records((("s", i, t) for i, t in enumerate(lines, 1)), fmt), 1):
        if record.timestamp is not None:
            out.append(Line(record.raw, record.timestamp.timestamp(), _component(record)))
        del n
    return out, fmt if isinstance(fmt, HeaderFormat) else None


def _component(record: Record) -> str:
    return record.program or record.fields.get("component", "")


def inject(system: str, length: float, seed: int, every: int = 3, errors: list[str] | None = None) -> Case:
    """Build the case: training = first half, test = second half with anomalies every ``every``
    busy windows (kinds in turn), window ``length`` seconds."""
    lines, fmt = parse(normal_lines(system))
    half = len(lines) // 2
    train, test = lines[:half], lines[half:]
    case = Case(system, [x.text for x in train], [])
    # bastion: ignore[sast.bandit.B311] seeded injection for reproducible benchmarks, not security
    rng = random.Random(seed)
    pool = errors if errors is not None else []
    by_window: dict[int, list[Line]] = defaultdict(list)
    for x in test:
        by_window[int(x.time // length)].append(x)
    first, last = min(by_window), max(by_window)
    train_windows = Counter(int(x.time // length) for x in train)
    train_windows_all = range(int(train[0].time // length), int(train[-1].time // length) + 1)
    busy_level = statistics.median(train_windows.values()) / 2
    """Lines a window needs to count as busy: half the training's median busy window."""
    comp_presence: Counter[str] = Counter()
    for w in {int(x.time // length) for x in train}:
        comp_presence.update({x.component for x in train if int(x.time // length) == w and x.component})
    steady = {c for c, n in comp_presence.items() if n >= 0.9 * len(train_windows)}
    busy = [w for w in range(first + 1, last) if by_window.get(w)]
    chosen = busy[rng.randrange(every) :: every]
    kinds = list(KINDS)
    rng.shuffle(kinds)
    for i, w in enumerate(chosen):
        kind = kinds[i % len(kinds)]
        window = by_window[w]
        start = window[0].time
        if kind == "new-error":
            if not pool or fmt is None:
                case.skipped[kind] += 1
                continue
            host = rng.choice(window)
            head, _ = fmt.header.split(host.text)
            if not head:
                case.skipped[kind] += 1
                continue
            new_head = _LEVEL.sub("ERROR", head, count=1)
            text = f"{new_head} {rng.choice(pool)}"
            window.insert(window.index(host) + 1, Line(text, host.time, host.component))
            start = host.time
        elif kind == "burst":
            host = rng.choice(window)
            copies = max(10, 2 * len(window))
            at = window.index(host)
            window[at + 1 : at + 1] = [host] * copies
            start = host.time
        elif kind == "silence":
            around = (w - 2, w - 1, w + 1, w + 2)
            if len({int(x.time // length) for x in train}) < 0.9 * len(train_windows_all) or not all(
                len(by_window.get(v, ())) >= busy_level for v in around
            ):
                case.skipped[kind] += 1  # a silence is a gap in a busy stream, not in a sparse one
                continue
            window.clear()
            start = w * length
        elif kind == "reorder":
            if len(window) < 3 or fmt is None:
                case.skipped[kind] += 1
                continue
            heads = [fmt.header.split(x.text) for x in window]
            messages = [m for _, m in heads][::-1]
            if messages == [m for _, m in heads]:
                case.skipped[kind] += 1
                continue
            window[:] = [
                Line(f"{h} {m}" if h else m, x.time, x.component)
                for (h, _), m, x in zip(heads, messages, window, strict=True)
            ]
        else:  # quiet
            present = Counter(x.component for x in window if x.component in steady)
            if not present or len(window) < busy_level or len({x.component for x in window}) < 2:
                case.skipped[kind] += 1
                continue
            gone = present.most_common(1)[0][0]
            start = window[0].time
            window[:] = [x for x in window if x.component != gone]
        case.truth[w] = (kind, start)
    case.test = [x.text for w in sorted(by_window) for x in by_window[w]]
    return case
