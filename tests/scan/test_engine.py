"""The engine: one walk shared by scanners, thread and process pools, sharding, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.scan import engine
from bastion.scan.base import Scanner
from bastion.scan.engine import Concurrency, EngineOptions, disambiguate, run_scan
from bastion.scan.registry import Registration

MARKER = Registration("marker", "marker_scanner:MarkerScanner")
CRASHING = Registration("crashing", "marker_scanner:CrashingScanner")
MISSING = Registration("missing", "marker_scanner_gone:Nothing")


def _repo(root: Path, files: int) -> None:
    for i in range(files):
        sub = root / f"pkg{i % 7}"
        sub.mkdir(exist_ok=True)
        (sub / f"m{i}.py").write_text(f"x = {i}\ny = 'INSECURE-{'HIGH' if i % 2 else 'LOW'}'\n")


@pytest.mark.parametrize("concurrency", list(Concurrency))
def test_sharded_run_matches_single_worker(tmp_path: Path, concurrency: Concurrency) -> None:
    _repo(tmp_path, 450)
    single = run_scan(tmp_path, [MARKER], EngineOptions(jobs=1))
    pooled = run_scan(tmp_path, [MARKER], EngineOptions(concurrency=concurrency, jobs=2))
    assert len(single.findings) == 450
    assert pooled.findings == single.findings
    assert pooled.files_scanned == 450
    assert pooled.scanners == ["marker"]


def test_a_crashing_scanner_is_reported_and_others_finish(tmp_path: Path) -> None:
    _repo(tmp_path, 3)
    done: list[tuple[int, int]] = []
    result = run_scan(
        tmp_path,
        [MARKER, CRASHING, MISSING],
        EngineOptions(concurrency=Concurrency.THREAD, jobs=2),
        on_unit_done=lambda d, t: done.append((d, t)),
    )
    assert len(result.findings) == 3
    failures = {f.scanner: f.error for f in result.failures}
    assert failures["crashing"] == "RuntimeError: boom"
    assert "does not load" in failures["missing"]
    assert result.failures[0].describe().startswith("scanner ")
    assert sorted(done) == [(1, 2), (2, 2)]  # a scanner that does not load is no unit of work


def test_findings_are_ordered_by_location(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text("INSECURE-LOW\nINSECURE-HIGH INSECURE-MEDIUM\n")
    (tmp_path / "a.py").write_text("\n\nINSECURE-CRITICAL\n")
    result = run_scan(tmp_path, [MARKER], EngineOptions(jobs=1))
    assert [(f.location.path, f.location.start_line, f.rule_id) for f in result.findings] == [
        ("a.py", 3, "marker.critical"),
        ("b.py", 1, "marker.low"),
        ("b.py", 2, "marker.high"),
        ("b.py", 2, "marker.medium"),
    ]


def test_repeated_content_gets_distinct_stable_fingerprints(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("INSECURE-HIGH\nINSECURE-HIGH\n")
    first = [f.fingerprint for f in run_scan(tmp_path, [MARKER], EngineOptions(jobs=1)).findings]
    assert len(set(first)) == 2
    (tmp_path / "a.py").write_text("import os\n\nINSECURE-HIGH\nx = 1\nINSECURE-HIGH\n")
    moved = [f.fingerprint for f in run_scan(tmp_path, [MARKER], EngineOptions(jobs=1)).findings]
    assert moved == first
    assert disambiguate([]) == []


def test_invalid_utf8_is_scanned_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / "latin1.py").write_bytes("caf\xe9 = 'INSECURE-HIGH'\n".encode("latin-1"))
    result = run_scan(tmp_path, [MARKER], EngineOptions(jobs=1))
    assert [f.location.start_line for f in result.findings] == [1]
    assert [n.describe() for n in result.notices] == [
        "latin1.py: not valid UTF-8 (byte 3); scanned with replacement characters"
    ]


def test_each_scanner_is_loaded_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _repo(tmp_path, 450)  # enough files for two shards
    loads: list[str] = []
    real = engine.load_scanner

    def counting(reference: str) -> Scanner:
        loads.append(reference)
        return real(reference)

    monkeypatch.setattr(engine, "load_scanner", counting)
    result = run_scan(tmp_path, [MARKER, MISSING], EngineOptions(concurrency=Concurrency.THREAD, jobs=2))
    assert len(result.findings) == 450
    assert loads == [MARKER.reference, MISSING.reference]  # once each, shards share the instance
    assert [f.scanner for f in result.failures] == ["missing"]
    preloaded = run_scan(
        tmp_path,
        [MARKER],
        EngineOptions(concurrency=Concurrency.THREAD, jobs=2),
        scanners={"marker": real(MARKER.reference)},
    )
    assert preloaded.findings == result.findings
    assert len(loads) == 2  # the caller's instance was used
