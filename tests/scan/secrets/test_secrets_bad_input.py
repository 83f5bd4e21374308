"""Hostile input: huge lines, many lines, binary-ish bytes; bounded time and no crash."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from bastion.scan.engine import EngineOptions, run_scan
from bastion.scan.registry import Registration
from bastion.scan.secrets.detect import Detector

SECRETS = Registration("secrets", "bastion.scan.secrets:SecretsScanner")
# Catastrophic regex backtracking on these inputs would take minutes to hours; this bound
# catches that while tolerating coverage tracing (about 4x slower) on a shared 2-core CI.
# Throughput itself is measured in bench/, not here.
BUDGET_S = 45.0


def _minified(size: int) -> str:
    rng = random.Random(5)
    words = [
        "var ",
        "token",
        "=",
        "function(e){",
        "return ",
        "password",
        ";",
        "secret:",
        "'",
        "eyJ",
        "ghp_",
        "sk-",
    ]
    chunks: list[str] = []
    total = 0
    while total < size:
        chunk = rng.choice(words) + "".join(
            rng.choice("abcdefXYZ0123456789") for _ in range(rng.randint(1, 30))
        )
        chunks.append(chunk)
        total += len(chunk)
    return "".join(chunks)


@pytest.mark.slow
def test_ten_megabyte_single_line_finishes_in_bounded_time(detector: Detector) -> None:
    text = _minified(10_000_000)
    token = "ghp_" + "Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gfe" + "000000"
    text = text[:5_000_000] + f' "{token}" ' + text[5_000_000:]
    started = time.perf_counter()
    hits = detector.detect(text, "bundle.min.js")
    assert time.perf_counter() - started < BUDGET_S
    assert any(hit.rule_id == "secrets.github-pat-classic" for hit in hits)


def test_one_million_short_lines(detector: Detector) -> None:
    lines = [f"value_{i} = {i}" for i in range(1_000_000)]
    lines[777_777] = 'password = "Hq8#vLz2Pw9!mKt4"'
    started = time.perf_counter()
    hits = detector.detect("\n".join(lines), "big.py")
    assert time.perf_counter() - started < BUDGET_S
    assert [(h.rule_id, h.line) for h in hits] == [("secrets.generic-password", 777_778)]


@pytest.mark.slow
def test_adversarial_repetitions_stay_fast(detector: Detector) -> None:
    for text in ("password=" * 200_000, "-----BEGIN RSA PRIVATE KEY-----" + "A" * 2_000_000, "eyJ" * 300_000):
        started = time.perf_counter()
        detector.detect(text, "x.env")
        assert time.perf_counter() - started < BUDGET_S


def test_binary_and_invalid_utf8_do_not_crash(tmp_path: Path) -> None:
    rng = random.Random(9)
    (tmp_path / "blob.dat").write_bytes(bytes(rng.randrange(256) for _ in range(200_000)))
    (tmp_path / "latin1.cfg").write_bytes(b"password = caf\xe9-Hq8vLz2Pw9mKt4\n\xff\xfe token: x\n")
    (tmp_path / "nul.txt").write_text("api_key = 'Hq8vLz2Pw9mKt4Xr'\x00\x00\n")
    result = run_scan(tmp_path, [SECRETS], EngineOptions(jobs=1))
    assert not result.failures
    assert {f.location.path for f in result.findings} <= {"latin1.cfg", "nul.txt", "blob.dat"}
