"""The questionnaire kept on the server: ``POST``/``GET /api/v1/ready/answers``, the ``/ready``
form, the assessment reading the answers (present, stale, missing), and ``bastion ready answer
--server`` against a live server."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ready_world import NOW, World
from server_world import bearer, login
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.ready.collect import SourceError
from bastion.ready.mapping import load_mapping
from bastion.ready.questionnaire import server_answers
from bastion.store.models import Project
from bastion.store.ready_answers import add_answer

ANSWERS = "/api/v1/ready/answers"


def post(client: TestClient, body: Any, headers: dict[str, str]) -> Any:
    return client.post(
        ANSWERS, content=json.dumps(body), headers={"Content-Type": "application/json", **headers}
    )


def kinds(client: TestClient, headers: dict[str, str], project: str = "") -> dict[str, dict[str, Any]]:
    data = client.get(f"/api/v1/ready?project={project}", headers=headers).json()
    out = {k["kind"]: k for k in data["kinds"]}
    out["_sources"] = {s["name"]: s for s in data["sources"]}
    return out


def test_token_answer_counts_in_the_assessment(seeded: World) -> None:
    with TestClient(seeded.app, base_url="http://testserver") as client:
        before = kinds(client, bearer(seeded.demo_token), "demo")
        assert before["_sources"]["questionnaire"]["state"] == "missing"
        assert "no process answer on the server yet" in before["_sources"]["questionnaire"]["why"]
        assert before["process.on-call"]["state"] == "not evidenced"
        body = {"question": "on-call", "answer": "yes", "by": "maya", "note": "PagerDuty rota OPS-7"}
        response = post(client, body, bearer(seeded.demo_token))
        assert response.status_code == 201, response.text
        row = response.json()
        assert (row["question"], row["answer"], row["by"], row["project"]) == (
            "on-call",
            "yes",
            "maya",
            "demo",
        )
        assert row["recorded_by"].startswith("token:ci (") and seeded.demo_token not in json.dumps(row)
        after = kinds(client, bearer(seeded.demo_token), "demo")
    assert after["_sources"]["questionnaire"]["state"] == "present"
    on_call = after["process.on-call"]
    assert on_call["state"] == "counted" and on_call["score"] == 1.0
    assert on_call["reason"].startswith('demo: yes ("Is there a security on-call rota')
    assert on_call["reason"].endswith("answered by maya")
    assert on_call["evidence"][0]["origin"] == "/api/v1/ready/answers (questionnaire)"
    assert after["process.backups-restored"]["state"] == "not evidenced"


def test_expired_answer_is_stale_and_a_newer_one_counts(seeded: World) -> None:
    with seeded.store.write() as session:
        demo = session.query(Project).filter_by(slug="demo").one().id
        add_answer(session, demo, "backups-restored", "yes", "maya", "maya", now=NOW - timedelta(days=200))
        add_answer(session, None, "bcdr-plan", "partly", "root", "root", now=NOW - timedelta(days=30))
    with TestClient(seeded.app, base_url="http://testserver") as client:
        found = kinds(client, bearer(seeded.demo_token), "demo")
        stale = found["process.backups-restored"]
        assert stale["state"] == "stale" and stale["score"] == 0.0
        assert re.fullmatch(r"stale: newest evidence 200 days old, counts for 180 days", stale["reason"])
        bcdr = found["process.bcdr-plan"]  # organisation-wide answers count for every project
        assert bcdr["state"] == "counted" and bcdr["score"] == 0.5 and bcdr["evidence"][0]["project"] == ""
        assert post(client, {"question": "backups-restored", "answer": "partly", "by": "maya"},
                    bearer(seeded.demo_token)).status_code == 201  # fmt: skip
        again = kinds(client, bearer(seeded.demo_token), "demo")["process.backups-restored"]
        history = client.get(ANSWERS, headers=bearer(seeded.demo_token)).json()["answers"]
    assert again["state"] == "counted" and again["score"] == 0.5
    assert [(a["question"], a["answer"]) for a in history] == [
        ("backups-restored", "partly"),
        ("bcdr-plan", "partly"),
        ("backups-restored", "yes"),
    ]  # history kept, newest first


@pytest.mark.parametrize(
    ("who", "body", "status", "detail"),
    [
        ("read_token", {"question": "on-call", "answer": "yes", "by": "x"}, 403, "this token lacks"),
        ("other_token", {"question": "on-call", "answer": "yes", "by": "x", "project": "demo"}, 403,
         "this token belongs to another project"),
        ("demo_token", {"question": "coffee", "answer": "yes", "by": "x"}, 422, "unknown question 'coffee'"),
        ("demo_token", {"question": "on-call", "answer": "maybe", "by": "x"}, 422,
         "answer 'maybe': choose from yes, partly, no"),
        ("demo_token", {"question": "on-call", "answer": "yes"}, 422, "by: who answers is required"),
        ("demo_token", {"question": "on-call", "answer": "yes", "by": "x", "at": "2020"}, 422,
         "unknown field(s) at: expected question, answer, by, note, project"),
        ("demo_token", {"question": "on-call", "answer": 1, "by": "x"}, 422, "answer: expected a string"),
        ("demo_token", ["on-call"], 422, "expected an object with question"),
        ("demo_token", {"question": "on-call", "answer": "yes", "by": "x", "note": "n" * 2001}, 422,
         "note: at most 2000 characters"),
        ("demo_token", {"question": "on-call", "answer": "yes", "by": "x", "project": "nope"}, 404,
         "project 'nope': no such project"),
    ],
)  # fmt: skip
def test_refused_and_bad_input_are_one_line(
    world: World, who: str, body: Any, status: int, detail: str
) -> None:
    with TestClient(world.app, base_url="http://testserver") as client:
        response = post(client, body, bearer(getattr(world, who)))
        assert response.status_code == status, response.text
        text = response.json()["detail"]
        assert isinstance(text, str) and detail in text and "\n" not in text
        assert client.get(ANSWERS, headers=bearer(world.demo_token)).json()["answers"] == []


def test_not_json_wrong_type_and_signed_out(world: World) -> None:
    with TestClient(world.app, base_url="http://testserver") as client:
        raw = client.post(ANSWERS, content=b"{nope", headers={"Content-Type": "application/json",
                                                               **bearer(world.demo_token)})  # fmt: skip
        assert raw.status_code == 422 and raw.json()["detail"].startswith("not JSON")
        form = client.post(ANSWERS, data={"question": "on-call"}, headers=bearer(world.demo_token))
        assert form.status_code == 415
        assert post(client, {"question": "on-call", "answer": "yes", "by": "x"}, {}).status_code == 401
        assert client.get(ANSWERS).status_code == 401


def test_users_roles_csrf_and_visibility(world: World) -> None:
    body = {"question": "on-call", "answer": "yes", "by": "someone else"}
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        csrf = login(client, "vic")  # a viewer reads, never writes
        assert post(client, {**body, "project": "demo"}, {"X-CSRF-Token": csrf}).status_code == 403
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        csrf = login(client, "maya")
        assert post(client, {**body, "project": "demo"}, {}).status_code == 403  # no CSRF token
        organisation = post(client, body, {"X-CSRF-Token": csrf})
        assert organisation.status_code == 403 and "needs an admin" in organisation.json()["detail"]
        mine = post(client, {**body, "project": "demo"}, {"X-CSRF-Token": csrf})
        assert mine.status_code == 201 and mine.json()["by"] == "maya"  # a person answers as themselves
        assert post(client, {**body, "project": "other"}, {"X-CSRF-Token": csrf}).status_code == 403
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        csrf = login(client, "root")
        assert post(client, {**body, "answer": "partly"}, {"X-CSRF-Token": csrf}).status_code == 201
        assert post(client, {**body, "project": "other"}, {"X-CSRF-Token": csrf}).status_code == 201
        everything = client.get(ANSWERS).json()["answers"]
        assert {(a["project"], a["by"]) for a in everything} == {
            ("demo", "maya"),
            ("", "root"),
            ("other", "root"),
        }
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "vic")
        seen = {a["project"] for a in client.get(ANSWERS).json()["answers"]}
        assert seen == {"demo", ""}  # not the other project's answer
        assert "other" not in json.dumps(client.get("/api/v1/ready").json()["kinds"])


def test_page_form_for_maintainers(world: World) -> None:
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        csrf = login(client, "maya")
        assert 'id="ready-answer-form"' not in client.get("/ready").text  # organisation: admins only
        page = client.get("/ready?project=demo")
        assert 'id="ready-answer-form"' in page.text and "Process questionnaire for demo" in page.text
        form = {
            "question": "backups-restored",
            "answer": "yes",
            "note": "restore test T-12",
            "project": "demo",
        }
        assert client.post("/ready/answers", data=form).status_code == 403  # CSRF field missing
        done = client.post("/ready/answers", data={**form, "csrf_token": csrf})
        assert done.status_code == 303 and done.headers["location"] == "/ready?project=demo"
        after = client.get("/ready?project=demo").text
        assert (
            "yes (&#34;Was a backup of every critical system restored in a test?&#34;), answered by maya"
            in after
        )
        bad = client.post("/ready/answers", data={**form, "answer": "maybe", "csrf_token": csrf})
        assert bad.status_code == 422 and "answer &#39;maybe&#39;: choose from yes, partly, no" in bad.text
        long = client.post("/ready/answers", data={**form, "note": "n" * 2001, "csrf_token": csrf})
        assert long.status_code == 422 and "note: at most 2000 characters" in long.text
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        csrf = login(client, "vic")
        assert 'id="ready-answer-form"' not in client.get("/ready?project=demo").text
        form = {"question": "on-call", "answer": "yes", "project": "demo", "csrf_token": csrf}
        assert client.post("/ready/answers", data=form).status_code == 403


def test_server_answers_that_are_not_answers_are_a_missing_source() -> None:
    mapping = load_mapping()

    def refuse(path: str) -> Any:
        raise SourceError(f"HTTP 403 for {path}")

    assert (
        server_answers(refuse, mapping, "").sources["questionnaire"].why
        == "HTTP 403 for /api/v1/ready/answers"
    )
    broken = server_answers(lambda _: {"answers": [{"question": "on-call", "answer": "yes"}]}, mapping, "")
    assert (
        broken.sources["questionnaire"].why
        == "/api/v1/ready/answers: answers[0].by: who answered is required"
    )
    odd = server_answers(lambda _: [], mapping, "").sources["questionnaire"].why
    assert odd == "/api/v1/ready/answers: expected {'answers': [...]}"
    other = {
        "question": "a-question-of-another-mapping",
        "answer": "yes",
        "by": "x",
        "at": "2026-01-01T00:00:00",
    }
    skipped = server_answers(lambda _: {"answers": [other]}, mapping, "")
    assert skipped.items == [] and skipped.sources["questionnaire"].state == "missing"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["ready", *args], env={"BASTION_TOKEN": ""})
    return result.exit_code, result.stdout, result.stderr


def test_cli_answers_on_a_live_server(seeded_live: tuple[str, World]) -> None:
    url, world = seeded_live
    code, out, err = run(
        "answer",
        "on-call",
        "yes",
        "--by",
        "maya",
        "--note",
        "OPS-7",
        "--server",
        url,
        "--token",
        world.demo_token,
    )
    assert code == 0, err
    assert re.fullmatch(rf"recorded on-call = yes by maya at \S+ for project demo on {re.escape(url)}\n", out)
    assert world.demo_token not in out + err
    code, out, err = run(
        "--server", url, "--token", world.demo_token, "--format", "json", "--project", "demo"
    )
    assert code == 0, err
    data = json.loads(out)
    on_call = {k["kind"]: k for k in data["kinds"]}["process.on-call"]
    assert (
        on_call["state"] == "counted"
        and on_call["evidence"][0]["origin"] == f"{url}/api/v1/ready/answers (questionnaire)"
    )
    assert {s["name"]: s["state"] for s in data["sources"]}["questionnaire"] == "present"


def test_cli_refused_and_bad_input_exit_2(seeded_live: tuple[str, World], tmp_path: Any) -> None:
    url, world = seeded_live
    code, out, err = run(
        "answer", "on-call", "yes", "--by", "vic", "--server", url, "--token", world.read_token
    )
    assert code == 2 and out == ""
    assert err.strip() == (
        f"error: answer refused by {url} (HTTP 403): this token lacks the scope needed to upload"
    )
    assert world.read_token not in err
    code, _, err = run("answer", "on-call", "yes", "--by", "x", "--server", url, "--token", "bst_wrong")
    assert code == 2 and "(HTTP 401): authentication required" in err and "bst_wrong" not in err
    code, _, err = run("answer", "coffee", "yes", "--by", "x", "--server", url, "--token", world.demo_token)
    assert code == 2 and "unknown question 'coffee'" in err
    code, _, err = run("answer", "on-call", "yes", "--by", "x", "--server", url)
    assert code == 2 and "no API token" in err
    code, _, err = run("answer", "on-call", "yes", "--by", "x", "--server", "ftp://h", "--token", "t")
    assert code == 2 and "expected an http:// or https:// URL" in err
    code, _, err = run(
        "answer", "on-call", "yes", "--by", "x", "--server", "http://127.0.0.1:1", "--token", "t"
    )
    assert code == 2 and err.strip() == "error: cannot reach http://127.0.0.1:1 (ConnectError)"
    code, _, err = run("answer", "on-call", "yes", "--by", "x", "--project", "demo",
                       "--answers", str(tmp_path / "a.json"))  # fmt: skip
    assert code == 2 and "--project needs --server" in err
    with TestClient(world.app, base_url="http://testserver") as client:
        assert client.get(ANSWERS, headers=bearer(world.demo_token)).json()["answers"] == []
