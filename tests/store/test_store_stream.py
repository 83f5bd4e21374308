"""Uploads are parsed incrementally: same findings as a whole-document parse, the results cap
answered as soon as it is crossed, memory bounded by one finding (issue 13, item 8's rest)."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from bastion.errors import InputError
from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.store.parse import parse_document, parse_upload
from bastion.store.stream import UploadSpool, read_upload

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", ["examples-scan.json", "examples-scan.sarif", "semgrep.sarif"])
def test_the_stream_reads_what_the_whole_document_holds(name: str) -> None:
    data = (DATA / name).read_bytes()
    document = json.loads(data)
    parsed = parse_upload(data, name)
    if "findings" in document:
        expected = [*document["findings"], *(document.get("baselined") or [])]
        assert [f.to_dict() for f in parsed.findings] == expected
        return
    results = [r for run in document["runs"] for r in run.get("results", []) if not r.get("suppressions")]
    assert len(parsed.findings) == len(results) > 0
    assert [f.rule_id.rsplit(".", 1)[-1] for f in parsed.findings] == [
        str(r.get("ruleId")).rsplit(".", 1)[-1] for r in results
    ]
    assert parse_document(document, name).findings == parsed.findings


class _Counting(io.BytesIO):
    """A body that remembers how far the parser read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.furthest = 0

    def read(self, size: int | None = -1) -> bytes:
        block = super().read(size)
        self.furthest = self.tell()
        return block


def _finding(i: int) -> dict[str, Any]:
    location = Location(path=f"src/f{i}.py", start_line=1)
    return Finding(
        rule_id="sast.r",
        scanner="sast",
        title="t",
        severity=Severity.LOW,
        location=location,
        message="m" * 200,
        fingerprint=make_fingerprint("sast.r", location, str(i)),
    ).to_dict()


def _report(count: int) -> bytes:
    document = {
        "schema_version": 1,
        "tool": {"name": "bastion", "version": "1"},
        "scanners": ["sast"],
        "findings": [_finding(i) for i in range(count)],
        "skipped": [],
        "failures": [],
        "notices": [],
    }
    return json.dumps(document).encode()


def test_the_results_cap_answers_as_soon_as_it_is_crossed() -> None:
    data = _report(20_000)
    body = _Counting(data)
    with pytest.raises(InputError, match="more than 100 results"):
        read_upload(body, "big.json", max_results=100)
    assert body.furthest < len(data) / 10, "refused long before the end of the body"


def test_memory_is_bounded_by_a_finding_not_the_document() -> None:
    """Parsing a 10 MB report allocates far less than the document json.loads builds."""
    data = _report(20_000)
    tracemalloc.start()
    json.loads(data)
    whole = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    spool = UploadSpool(memory=64 * 1024)
    for start in range(0, len(data), 65536):
        spool.write(data[start : start + 65536])
    streamed_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    reader = _Counting(data)
    with pytest.raises(InputError):
        read_upload(reader, "x", max_results=19_999)
    capped = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    spool.close()
    assert streamed_peak < len(data) / 20, "the spool keeps the body on disk past its memory"
    assert capped < whole, (capped, whole)


def test_results_before_the_tool_and_dropped_parts() -> None:
    sarif = {
        "version": "2.1.0",
        "runs": [
            {
                "results": [
                    {"ruleId": "R1", "message": {"text": "m"}},
                    {"ruleId": "R2", "suppressions": [{}]},
                ],
                "tool": {"driver": {"name": "Other Tool", "rules": [{"id": "R1"}]}},
            }
        ],
    }
    parsed = parse_upload(json.dumps(sarif).encode(), "late.sarif")
    assert [f.rule_id for f in parsed.findings] == ["other-tool.R1"]
    report = json.loads(_report(2))
    report["suppressed"] = [{"reason": "x", "finding": {"not": "read"}}] * 3
    report["summary"] = {"deep": [[[1]]]}
    assert len(parse_upload(json.dumps(report).encode(), "r.json").findings) == 2


_RUN = b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, '


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not valid JSON"),
        (b'{"schema_version": 1, "findings": [', "not valid JSON"),
        (b"[" * 200 + b"]" * 200, "nested too deeply"),
        (b"42", "expected a JSON object"),
        (b'{"version": "2.1.0", "runs": [7]}', "runs\\[0\\] is not an object"),
        (b'{"version": "2.1.0", "runs": [{"results": [1]}]}', "no tool.driver.name"),
        (_RUN + b'"results": {}}]}', "must be a list"),
        (_RUN + b'"results": [1]}]}', "not an object"),
        (b'{"schema_version": 1, "findings": {}}', "'findings' must be a list"),
        (b'{"schema_version": 1, "findings": [7]}', "not a valid finding"),
        (b'{"version": "1.0", "runs": []}', "not supported"),
        (b'{"hello": 1}', "neither a Bastion"),
    ],
)
def test_bad_bodies_are_one_line(body: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_upload(body, "upload")
    assert "\n" not in str(caught.value)


def test_surrogates_lone_refused_paired_kept() -> None:
    report = json.loads(_report(1))
    report["findings"][0]["message"] = "\ud83d\ude00 smile"
    paired = json.dumps(report).encode()  # ensure_ascii writes the pair as two escapes
    assert b"\\ud83d" in paired
    assert parse_upload(paired, "ok.json").findings[0].message == "\U0001f600 smile"
    lone = paired.replace(b"\\ude00", b"x")
    with pytest.raises(InputError, match="surrogate"):
        parse_upload(lone, "lone.json")
    spool = UploadSpool()
    for position in range(0, len(lone), 3):  # an escape split across chunks is still seen
        spool.write(lone[position : position + 3])
    with pytest.raises(InputError, match="surrogate"):
        spool.parse("lone.json")
    spool.close()
