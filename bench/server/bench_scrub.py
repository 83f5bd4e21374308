"""CPU of the store's secret scrubbing on an upload of Trivy findings, before and after (issue 27).

The server scrubs every text of every upload (:func:`bastion.store.sanitize.scrub_all`, one call
per chunk of findings). This measures that call on the findings of a Trivy report, side by side
with the previous implementation (kept below, verbatim, as ``_previous_*``), in the same process,
and checks that both return the same values.

The findings come from the real Trivy fixture (tests/fixtures/imports/trivy/
misconfigurations_and_secrets.json): its two urllib3 vulnerabilities repeated over ``--findings``
packages (as bench/imports/trivy_50k.py does), in three variants:

* ``repeated``: as a real report repeats an advisory's title and description per package;
* ``distinct``: every finding's description and message made unique (a numbered line appended),
  the case where deduplicating texts saves nothing;
* ``one-secret``: ``repeated`` with a GitHub token glued behind a ``_`` in one finding's message
  (the slow path: something must be rebuilt).

Usage: .venv/bin/python bench/server/bench_scrub.py [--findings 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bastion.imports import import_report
from bastion.scan.secrets.prefilter import ascii_lower
from bastion.scan.secrets.redact import redact
from bastion.scan.secrets.scanner import detector_for
from bastion.store import sanitize

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/imports/trivy/misconfigurations_and_secrets.json"
PLANTED = "ghp_" + "kY9pF34Qy6nB3Wwd25rq4f5zr3QA7Y3T9fPo"
"""Generated for this benchmark, grants nothing (split so the repository's own scan skips it)."""


def _previous_spans(text: str) -> list[tuple[int, int]]:
    """sanitize._spans before issue 27: shadows built character by character."""
    detector = detector_for((), frozenset(), True)
    spans = [(hit.start, hit.end) for hit in detector.detect(text, "")]
    found = [(end - length + 1, end + 1) for end, (length, _) in sanitize._keywords().raw(ascii_lower(text))]
    separators = sanitize._SEPARATORS
    glued_left = [start for start, _ in found if start > 0 and text[start - 1] in separators]
    glued_right = any(c in separators for _, end in found for c in text[end : end + sanitize._TOKEN_REACH])
    if not glued_left and not glued_right:
        return spans
    in_keyword = [False] * len(text)
    for start, end in found:
        in_keyword[start:end] = [True] * (end - start)
    shadows = []
    if glued_left:
        left = list(text)
        for start in glued_left:
            left[start - 1] = "\n"
        shadows.append("".join(left))
    if glued_right:
        shadows.append(
            "".join("\n" if c in separators and not in_keyword[i] else c for i, c in enumerate(text))
        )
    for shadow in shadows:
        spans.extend((hit.start, hit.end) for hit in detector.detect(shadow, ""))
    return spans


def _previous_scrub(text: str) -> str:
    if len(text) < 8:
        return text
    spans = sorted(_previous_spans(text))
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + redact(text[start:end]) + text[end:]
    return text


def _previous_rebuild(value: Any) -> Any:
    if isinstance(value, str):
        return _previous_scrub(value)
    if isinstance(value, dict):
        return {_previous_scrub(str(k)): _previous_rebuild(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_previous_rebuild(v) for v in value]
    return value


def _previous_scrub_tree(value: Any) -> Any:
    joined = "\n".join(sanitize._leaves(value, "value"))
    if _previous_scrub(joined) == joined:
        return value
    return _previous_rebuild(value)


def previous_scrub_all(values: list[Any]) -> list[Any]:
    """sanitize.scrub_all before issue 27."""
    joined = "\n".join(leaf for value in values for leaf in sanitize._leaves(value, "value"))
    if _previous_scrub(joined) == joined:
        return values
    return [_previous_scrub_tree(value) for value in values]


def trivy_findings(count: int) -> list[dict[str, Any]]:
    """``count`` Trivy findings as the store receives them (``Finding.to_dict()``)."""
    source = json.loads(FIXTURE.read_text(encoding="utf-8"))
    template = source["Results"][0]
    vulns = template["Vulnerabilities"]
    batch = []
    for n in range(count):
        vuln = copy.deepcopy(vulns[n % len(vulns)])
        vuln["PkgName"] = f"urllib3-{n // len(vulns)}"
        batch.append(vuln)
    template["Vulnerabilities"] = batch
    source["Results"] = [template]
    result = import_report(json.dumps(source).encode("utf-8"), "trivy.json")
    return [finding.to_dict() for finding in result.findings]


def variants(count: int) -> dict[str, list[dict[str, Any]]]:
    """The three inputs described in the module docstring."""
    repeated = trivy_findings(count)
    distinct = copy.deepcopy(repeated)
    for n, finding in enumerate(distinct):
        finding["message"] = f"{finding['message']}\nseen in build {n}"
        finding["metadata"]["description"] = f"{finding['metadata'].get('description', '')} (#{n})"
    planted = copy.deepcopy(repeated)
    planted[count // 2]["message"] = f"{planted[count // 2]['message']} token_{PLANTED}"
    return {"repeated": repeated, "distinct": distinct, "one-secret": planted}


def cpu(repeat: int, run: Callable[[], object]) -> float:
    """Median CPU seconds (this process, one core) of ``run()``."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    """Print one line per variant: previous and current CPU seconds, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.findings:,} Trivy findings per variant, median of {args.repeat}, CPU seconds")
    print(f"{'variant':<11} {'previous':>9} {'current':>9} {'ratio':>7}  same output")
    for name, values in variants(args.findings).items():
        before = previous_scrub_all(values)
        after = sanitize.scrub_all(values)
        same = before == after
        if name == "one-secret" and (PLANTED in json.dumps(after) or after == values):
            raise SystemExit("the planted token was not scrubbed")
        old = cpu(args.repeat, partial(previous_scrub_all, values))
        new = cpu(args.repeat, partial(sanitize.scrub_all, values))
        print(f"{name:<11} {old:>9.2f} {new:>9.2f} {old / new:>6.1f}x  {same}")


if __name__ == "__main__":
    main()
