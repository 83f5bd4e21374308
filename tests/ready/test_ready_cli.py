"""``bastion ready`` end to end: formats, the questionnaire, the trend, a live server, bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ready_world import SECRET, World, report
from typer.testing import CliRunner

from bastion.cli.main import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ready"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["ready", *args], env={"BASTION_TOKEN": ""})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "scan.json").write_text(json.dumps(report([SECRET])))
    return folder


def test_table_answer_weakest_and_roadmap(reports: Path) -> None:
    code, out, err = run("--from", str(reports))
    assert code == 0, err
    assert re.search(r"^not ready: weakest dimension is detect at 0/100", out, re.M)
    assert "Three weakest points" in out and "Roadmap (biggest gain first)" in out
    assert "questionnaire: no answers given" in out
    assert "first assessment: nothing to compare with" in out


def test_questionnaire_answers_are_dated_attributed_and_counted(reports: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    for question in ("backups-restored", "bcdr-plan"):
        code, out, err = run(
            "answer", question, "yes", "--by", "maya", "--answers", str(answers), "--note", "T-12"
        )
        assert code == 0, err
        assert out.startswith(f"recorded {question} = yes by maya at ")
    saved = json.loads(answers.read_text())["answers"]
    assert [(a["question"], a["by"], a["note"]) for a in saved] == [
        ("backups-restored", "maya", "T-12"),
        ("bcdr-plan", "maya", "T-12"),
    ]
    assert datetime.fromisoformat(saved[0]["at"]) > datetime.now(UTC) - timedelta(minutes=5)
    code, out, _ = run("--from", str(reports), "--answers", str(answers), "--format", "json")
    data = json.loads(out)
    assert data["dimensions"]["recover"] == 100.0
    kinds = {k["kind"]: k for k in data["kinds"]}
    assert kinds["process.backups-restored"]["evidence"][0]["detail"].endswith("answered by maya")
    # an answer older than its validity (180 days for a restore test) no longer counts
    saved[0]["at"] = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    answers.write_text(json.dumps({"version": 1, "answers": saved}))
    data = json.loads(run("--from", str(reports), "--answers", str(answers), "--format", "json")[1])
    assert data["dimensions"]["recover"] == 50.0
    assert {k["kind"]: k["state"] for k in data["kinds"]}["process.backups-restored"] == "stale"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("answer", "coffee", "yes", "--by", "x"), "unknown question 'coffee'"),
        (("answer", "on-call", "maybe", "--by", "x"), "answer 'maybe': choose from yes, partly, no"),
        (("answer", "on-call", "yes", "--by", " "), "--by: who answers is required"),
    ],
)
def test_bad_answers_are_usage_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    code, _, err = run(*args, "--answers", str(tmp_path / "a.json"))
    assert code == 2 and message in err
    assert not (tmp_path / "a.json").exists()


def test_malformed_answers_file_names_the_field(reports: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(
        json.dumps({"version": 1, "answers": [{"question": "on-call", "answer": "yes", "at": "x"}]})
    )
    code, _, err = run("--from", str(reports), "--answers", str(answers))
    assert code == 2
    assert err.strip() == f"error: {answers}: answers[0].by: who answered is required"


def test_history_gives_the_trend(reports: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    assert run("--from", str(reports), "--history", str(history))[0] == 0
    (reports / "sbom.json").write_text(json.dumps({"bomFormat": "CycloneDX", "components": []}))
    _, out, _ = run("--from", str(reports), "--history", str(history), "--format", "json")
    trend = json.loads(out)["trend"]
    assert trend["previous_verdict"] == "not ready"
    assert trend["dimensions"]["prepare"] == round(100 / 14, 1)
    assert len(json.loads(history.read_text())["assessments"]) == 2
    # a project's assessment in the same file compares with that project's last one only
    _, out, _ = run("--from", str(reports), "--history", str(history), "--project", "demo", "-f", "json")
    assert json.loads(out)["trend"]["previous"] is None
    kept = json.loads(history.read_text())
    assert [r["scope"] for r in kept["assessments"]] == ["organisation", "organisation", "demo"]
    kept["assessments"][-1]["dimensions"]["prepare"] = 99.0  # tell the project's row apart
    history.write_text(json.dumps(kept))
    _, out, _ = run("--from", str(reports), "--history", str(history), "--format", "json")
    assert json.loads(out)["trend"]["dimensions"]["prepare"] == 0.0  # against the organisation's last
    _, out, _ = run("--from", str(reports), "--history", str(history), "--project", "demo", "-f", "json")
    prepare = json.loads(out)["dimensions"]["prepare"]
    assert json.loads(out)["trend"]["dimensions"]["prepare"] == round(prepare - 99.0, 1)


def test_markdown_and_html_reports(reports: Path, tmp_path: Path) -> None:
    code, out, _ = run("--from", str(reports), "--format", "md", "--dsomm", str(FIXTURES / "dsomm"))
    assert code == 0 and out.startswith("# Readiness (organisation)")
    assert "| prepare |" in out and "DSOMM Test and Verification" in out
    page = tmp_path / "ready.html"
    code, out, _ = run(
        "--from", str(reports), "--format", "html", "-o", str(page), "--samm", str(FIXTURES / "samm")
    )
    assert code == 0 and out.startswith("not ready: ")
    html = page.read_text()
    assert "Are we ready to respond to a cyberattack?" in html and "SAMM" in html
    assert not re.search(r"""(src|href)=["']?https?:""", html)  # self-contained: nothing fetched


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give one of --server URL or --from DIR"),
        (("--from", "x", "--server", "http://127.0.0.1:1"), "give one of --server URL or --from DIR"),
        (("--server", "ftp://127.0.0.1"), "expected an http:// or https:// URL"),
        (("--server", "http://127.0.0.1:1"), "no API token"),
        (("--from", "does-not-exist"), "does-not-exist: not a folder of reports"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    code, _, err = run(*args)
    assert code == 2 and message in err


def test_dsomm_of_another_version_is_one_line(reports: Path) -> None:
    code, _, err = run("--from", str(reports), "--dsomm", str(FIXTURES / "dsomm-v3.yaml"))
    assert code == 2
    assert err.strip().endswith("dsomm-v3.yaml: meta.version 3.0.0 is not supported (DSOMM 4.x)")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("---\nmeta: {version: 4.1}\n---\nBuild:\n  Patch:\n    Auto-merge: {uuid: u1, level: seven}\n",
         "Build.Patch.Auto-merge.level: expected 1 to 5"),
        ("---\nmeta: {version: 4.1}\n---\nBuild:\n  Patch:\n    Auto-merge: {level: 2}\n",
         "Build.Patch.Auto-merge.uuid: missing or not a string"),
        ("---\nmeta: {released: 2026}\n---\nBuild: {}\n", "meta.version is missing"),
    ],
)  # fmt: skip
def test_malformed_dsomm_exits_2_naming_file_and_field(
    reports: Path, tmp_path: Path, text: str, field: str
) -> None:
    model = tmp_path / "model.yaml"
    model.write_text(text)
    code, out, err = run("--from", str(reports), "--dsomm", str(model))
    assert (code, out) == (2, "")
    line = " ".join(err.split())  # the console may wrap a long line; it is one message
    assert str(model) in line and field in line
    assert "Traceback" not in err and err.count("error") <= 1


def test_malformed_samm_exits_2_naming_file_and_field(reports: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "samm"
    shutil.copytree(FIXTURES / "samm", root)
    activity = root / "model" / "activities" / "O-IM-1-A.yml"
    activity.write_text("title: Detect incidents\nstream: s\nid: i\n")
    code, out, err = run("--from", str(reports), "--samm", str(root))
    assert (code, out) == (2, "")
    line = " ".join(err.split())
    assert f"{activity}: level: missing (not a SAMM 2 activity)" in line and "Traceback" not in err
    activity.write_text("title: [unclosed\n")
    code, _, err = run("--from", str(reports), "--samm", str(root))
    assert code == 2 and str(activity) in " ".join(err.split()) and "Traceback" not in err


def test_empty_live_server_is_not_ready_with_first_steps(live_sqlite: Any) -> None:
    code, out, err = run("--server", live_sqlite.url, "--token", live_sqlite.world.demo_token)
    assert code == 0, err
    assert out.startswith("Readiness (organisation), ")
    assert "\nnot ready: no evidence yet\n" in out
    steps = out.split("First steps\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert steps == [
        "- Scan every build for secrets and upload the result: bastion scan . --scanners secrets "
        "--upload URL",
        "- Monitor system and application logs for anomalies and Sigma rules: bastion watch run LOGS / "
        "bastion sigma run LOGS --rules DIR",
        "- Record acknowledge, contain and resolve in every war game: bastion drill ack|contain|resolve",
        "- Restore a backup of every critical system and record it: bastion ready answer backups-restored "
        "yes --by NAME",
    ]
    assert "- scans: no scan uploaded to any project yet" in out


def test_live_server(seeded_live: tuple[str, World]) -> None:
    url, world = seeded_live
    code, out, err = run(
        "--server", url, "--token", world.demo_token, "--format", "json", "--project", "demo"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["scope"] == "demo"
    kinds = {k["kind"]: k for k in data["kinds"]}
    assert kinds["scan.secrets"]["state"] == "counted"
    assert kinds["scan.secrets"]["evidence"][0]["origin"] == f"{url}/api/v1/projects/demo/scans"
    assert kinds["patch.kev"]["score"] == 0.5
    assert world.demo_token not in out
    # a user and password in the URL never reach the report
    with_user = url.replace("http://", "http://ops:hunter2-pass@")
    code, out, _ = run("--server", with_user, "--token", world.demo_token, "--format", "json")
    assert code == 0 and "hunter2-pass" not in out and f"{url}/api/v1/projects/demo/scans" in out
    # a wrong token: nothing could be read, and that is said, never taken for a pass
    code, out, _ = run("--server", url, "--token", "bst_wrong", "--format", "json")
    data = json.loads(out)
    assert data["answer"] == "not ready: no evidence yet"
    assert {s["name"]: s["why"] for s in data["sources"]}["scans"] == "HTTP 401 for /api/v1/projects"
