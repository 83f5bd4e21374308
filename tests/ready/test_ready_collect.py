"""Evidence collection: a server seeded with history (through its API), and a folder of reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from ready_world import NOW
from server_world import World, bearer

from bastion.ready.collect import SourceError, collect_dir, collect_server, http_fetch
from bastion.ready.evidence import EvidenceKind, SourceState
from bastion.ready.mapping import load_mapping
from bastion.ready.score import KindState, assess

K = EvidenceKind


def test_server_history_becomes_dated_evidence_with_origins(seeded: World) -> None:
    with TestClient(seeded.app, base_url="http://testserver", headers=bearer(seeded.demo_token)) as client:
        evidence = collect_server(http_fetch(client), "http://testserver", NOW)
    by_kind = {e.kind: e for e in evidence.items}
    assert {K.SCAN_SECRETS, K.SCAN_DEPS, K.SCAN_SAST} <= set(by_kind)
    assert K.SCAN_IAC not in by_kind  # iac never ran: not evidenced, never assumed
    scan = by_kind[K.SCAN_DEPS]
    assert (scan.project, scan.observed_at) == ("demo", NOW - timedelta(days=5))
    assert scan.origin == "http://testserver/api/v1/projects/demo/scans"
    assert by_kind[K.FINDINGS_CRITICAL].score == 0.0
    assert by_kind[K.FINDINGS_CRITICAL].detail == "1 critical finding(s) open"
    assert (by_kind[K.FINDINGS_SECRETS].score, by_kind[K.FINDINGS_SECRETS].detail) == (1.0, "no secret open")
    # KEV: one fixed in 10 days, one still open after 60 days
    assert by_kind[K.PATCH_KEV].score == 0.5
    assert by_kind[K.PATCH_KEV].detail == "1 of 2 known-exploited vulnerabilities fixed within 14 days"
    # a project token may not read alerts of other projects' pages, drills or phishing: shown missing
    assert evidence.sources["scans"].state is SourceState.PRESENT
    assert evidence.sources["phish"].state is SourceState.MISSING
    assert evidence.sources["phish"].why.startswith("HTTP 40")


def test_server_assessment_scores_the_project(seeded: World) -> None:
    with TestClient(seeded.app, base_url="http://testserver", headers=bearer(seeded.demo_token)) as client:
        evidence = collect_server(http_fetch(client), "http://testserver", NOW)
    result = assess(evidence, load_mapping(), NOW, scope="demo")
    kinds = {r.info.kind: r for r in result.kinds}
    assert kinds[K.SCAN_SECRETS].state is KindState.COUNTED
    assert kinds[K.PHISH_REPORTING].reason.startswith("not evidenced: HTTP 40")
    assert result.verdict == "not ready"


def test_empty_server_has_no_evidence_yet(world: World) -> None:
    with TestClient(world.app, base_url="http://testserver", headers=bearer(world.demo_token)) as client:
        evidence = collect_server(http_fetch(client), "http://testserver", NOW)
    assert evidence.items == []
    assert evidence.sources["scans"].why == "no scan uploaded to any project yet"
    result = assess(evidence, load_mapping(), NOW)
    assert result.answer() == "not ready: no evidence yet"
    assert result.first_steps


def test_unreachable_server_is_every_source_missing() -> None:
    def refuse(path: str) -> object:
        raise SourceError(f"cannot reach the server for {path.split('?')[0]} (ConnectError)")

    evidence = collect_server(refuse, "http://127.0.0.1:9", NOW)
    assert evidence.items == []
    assert {s.state for s in evidence.sources.values()} == {SourceState.MISSING}
    assert set(evidence.sources) >= {"scans", "findings", "alerts", "drills", "phish", "catalog"}


def _drill(start: datetime) -> dict[str, object]:
    return {
        "version": 1,
        "exercise": "q4-game",
        "period": {"start": start.isoformat(), "hours": 4},
        "coverage": {"detected": 3, "assessed": 4, "share": 0.75},
        "points": 10,
        "timeline": [
            {"status": "detected", "ttd_s": 120.0, "tta_s": 600.0, "ttc_s": 1200.0, "ttr_s": None},
            {"status": "detected", "ttd_s": 600.0, "tta_s": 1800.0, "ttc_s": None, "ttr_s": None},
            {"status": "detected", "ttd_s": 300.0, "tta_s": None, "ttc_s": None, "ttr_s": None},
            {"status": "missed", "ttd_s": None},
        ],
        "techniques": [
            {"id": "T1110.003", "status": "detected"},
            {"id": "T1621", "status": "partly detected"},
            {"id": "T1140", "status": "missed"},
            {"id": "T1003", "status": "not assessed"},
        ],
    }


def _phish(launched: datetime) -> dict[str, object]:
    return {
        "campaign": {"name": "invoice", "status": "finished", "launched_at": launched.isoformat()},
        "total": {"delivered": 40, "clicked": 10, "submitted": 2, "reported": 8},
    }


def test_folder_of_reports(tmp_path: Path) -> None:
    from ready_world import SECRET, report

    (tmp_path / "scan.json").write_text(json.dumps(report([SECRET])))
    (tmp_path / "drill.json").write_text(json.dumps(_drill(NOW - timedelta(days=20))))
    (tmp_path / "phish.json").write_text(json.dumps(_phish(NOW - timedelta(days=100))))
    sbom = {"bomFormat": "CycloneDX", "metadata": {"timestamp": NOW.isoformat()}, "components": [{}, {}]}
    (tmp_path / "sbom.cdx.json").write_text(json.dumps(sbom))
    scores = {"nist": 80.0, "cis": 60.0, "iso": None}  # a framework with nothing assessed is left out
    frameworks = {name: {"summary": {"score": score}} for name, score in scores.items()}
    earlier = {"generated": "2026-11-01T08:00:00+00:00", "scores": {"nist": 70.0, "cis": 65.0}}
    trend = {"points": [earlier, {"generated": NOW.isoformat(), "scores": {"nist": 80.0, "cis": 60.0}}]}
    posture = {"posture_version": 1, "generated": NOW.isoformat(), "frameworks": frameworks, "trend": trend}
    (tmp_path / "posture.json").write_text(json.dumps(posture))
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    (tmp_path / "broken.json").write_text("{")
    errors: list[str] = []
    evidence = collect_dir(tmp_path, errors)
    by_kind = {e.kind: e for e in evidence.items}
    assert by_kind[K.DRILL_DETECTION].score == 0.75
    assert by_kind[K.DRILL_DETECTION].detail == (
        "q4-game: 3 of 4 replayed attacks detected; ATT&CK: 1 of 3 techniques detected (1 partly); "
        "median time to detect 5 min"
    )
    assert round(by_kind[K.DRILL_RESPONSE].score, 3) == round(1 / 3, 3)
    assert by_kind[K.DRILL_RESPONSE].detail.endswith("median acknowledge 20 min")
    assert (by_kind[K.PHISH_REPORTING].score, by_kind[K.PHISH_CLICKS].score) == (0.2, 0.75)
    assert by_kind[K.COMPLY_POSTURE].score == 0.7
    assert by_kind[K.COMPLY_POSTURE].detail == (
        "compliance posture 70% passed over 2 framework(s) (cis 60%, nist 80%); "
        "since 1 Nov 2026: cis -5, nist +10"
    )
    assert by_kind[K.SBOM].detail == "SBOM with 2 components"
    assert (by_kind[K.FINDINGS_SECRETS].score, by_kind[K.SCAN_SECRETS].origin) == (
        0.0,
        str(tmp_path / "scan.json"),
    )
    assert by_kind[K.FINDINGS_CRITICAL].score == 1.0
    assert sorted(e.split(": ")[0] for e in errors) == [
        str(tmp_path / "broken.json"),
        str(tmp_path / "notes.json"),
    ]
    assert all(s.state is SourceState.PRESENT for s in evidence.sources.values())


def test_folder_without_a_source_reports_it_missing(tmp_path: Path) -> None:
    (tmp_path / "drill.json").write_text(json.dumps(_drill(datetime(2026, 1, 1, tzinfo=UTC))))
    evidence = collect_dir(tmp_path)
    assert evidence.sources["phish"].state is SourceState.MISSING
    assert evidence.sources["phish"].why == f"no phish report in {tmp_path}"
    result = assess(evidence, load_mapping(), NOW)
    kinds = {r.info.kind: r for r in result.kinds}
    assert kinds[K.DRILL_DETECTION].state is KindState.STALE  # a drill from January is past 180 days


def test_iac_policy_failures_open_on_main_halve_the_practice(world: World, tmp_path: Path) -> None:
    from ready_world import finding, report

    from bastion.store.ingest import ingest
    from bastion.store.models import Project
    from bastion.store.parse import parse_document

    failing = finding("iac.aws.s3-bucket-encryption", "iac", "high", "S3 bucket without encryption", "i1")
    document = report([failing])
    document["scope"]["scanners"] = {"iac": {"status": "complete"}}
    with world.store.read() as session:
        other = session.query(Project).filter_by(slug="other").one().id
    ingest(world.store, other, parse_document(document, "iac.json"), "ci", now=NOW - timedelta(days=1))
    with TestClient(world.app, base_url="http://testserver", headers=bearer(world.other_token)) as client:
        evidence = collect_server(http_fetch(client), "http://testserver", NOW)
    iac = next(e for e in evidence.items if e.kind is K.SCAN_IAC)
    assert (iac.project, iac.score) == ("other", 0.5)
    assert iac.detail.endswith("1 policy failure(s) open")
    # the same report in a folder
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "iac.json").write_text(json.dumps(document))
    local = next(e for e in collect_dir(folder).items if e.kind is K.SCAN_IAC)
    assert (local.score, local.detail) == (0.5, "iac ran (iac.json); 1 policy failure(s)")


def test_a_failing_coverage_gate_halves_the_practice(world: World, tmp_path: Path) -> None:
    """A real ``bastion coverage`` report (coverage.py's 60 % against --min 80), in a folder and uploaded."""
    from typer.testing import CliRunner

    from bastion.cli.main import app
    from bastion.store.ingest import ingest
    from bastion.store.models import Project
    from bastion.store.parse import parse_document

    project = Path(__file__).resolve().parents[1] / "fixtures" / "coverage" / "project"
    folder = tmp_path / "reports"
    folder.mkdir()
    args = ["coverage", str(project / "reports" / "py-cobertura.xml"), "--min", "80", "--root", str(project)]
    result = CliRunner().invoke(app, [*args, "--format", "json", "-o", str(folder / "coverage.json")])
    assert result.exit_code == 1  # the gate failed
    local = next(e for e in collect_dir(folder).items if e.kind is K.COVERAGE_GATE)
    assert (local.score, local.detail) == (0.5, "coverage ran (coverage.json); 1 coverage gate failure(s)")
    document = json.loads((folder / "coverage.json").read_text())
    with world.store.read() as session:
        other = session.query(Project).filter_by(slug="other").one().id
    ingest(world.store, other, parse_document(document, "coverage.json"), "ci", now=NOW - timedelta(days=2))
    with TestClient(world.app, base_url="http://testserver", headers=bearer(world.other_token)) as client:
        evidence = collect_server(http_fetch(client), "http://testserver", NOW)
    gate = next(e for e in evidence.items if e.kind is K.COVERAGE_GATE)
    assert (gate.project, gate.score, gate.observed_at) == ("other", 0.5, NOW - timedelta(days=2))
    assert gate.detail.endswith("; 1 coverage gate failure(s) open")
