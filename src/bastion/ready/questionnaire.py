"""The process questionnaire: what no tool can see, answered by a named person on a date.

Answers live in a JSON file (``{"version": 1, "answers": [...]}``), appended atomically, or on a
Bastion server (``POST /api/v1/ready/answers``, read back from ``GET /api/v1/ready/answers``);
either way the latest answer to a question in a scope (a project, or the organisation) counts
until its kind's ``max_age_days`` pass, then it is stale.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bastion import atomic
from bastion.errors import InputError, UsageError
from bastion.ready.collect import Fetch, SourceError
from bastion.ready.evidence import Evidence, EvidenceSet
from bastion.ready.mapping import Mapping
from bastion.ready.signals import parse_time
from bastion.structured import read_json

__all__ = [
    "ANSWERS",
    "ANSWERS_PATH",
    "NOTE_LIMIT",
    "Answer",
    "answer_evidence",
    "check_answer",
    "load_answers",
    "record_answer",
    "send_answer",
    "server_answers",
]

ANSWERS = {"yes": 1.0, "partly": 0.5, "no": 0.0}
VERSION = 1
ANSWERS_PATH = "/api/v1/ready/answers"
"""Where a Bastion server takes (POST) and lists (GET) questionnaire answers."""
NOTE_LIMIT = 2000
"""Characters a note may hold."""
NAME_LIMIT = 200
"""Characters the name of who answered may hold."""
_FILE_HINT = "no process answer yet (bastion ready answer QUESTION yes|partly|no --by NAME)"
_SERVER_HINT = (
    "no process answer on the server yet (bastion ready answer QUESTION yes|partly|no --by NAME "
    "--server URL, or the form on /ready)"
)


@dataclass(frozen=True)
class Answer:
    """One dated, attributed answer."""

    question: str
    answer: str
    by: str
    at: str
    note: str = ""
    project: str = ""
    """The project answered for; empty for the organisation."""


def check_answer(
    mapping: Mapping, question: str, answer: str, by: str, note: str = "", *, flag: str = "--"
) -> None:
    """:class:`UsageError` in one line unless ``question`` is a questionnaire question, ``answer``
    one of yes/partly/no, ``by`` names someone and ``note`` is not too long (fields named
    ``{flag}by``, ``{flag}note``: options on the command line, plain names in the API)."""
    questions = mapping.questions()
    if question not in questions:
        raise UsageError(f"unknown question {question!r}: choose from {', '.join(questions)}")
    if answer not in ANSWERS:
        raise UsageError(f"answer {answer!r}: choose from {', '.join(ANSWERS)}")
    if not by.strip():
        raise UsageError(f"{flag}by: who answers is required")
    if len(by.strip()) > NAME_LIMIT:
        raise UsageError(f"{flag}by: at most {NAME_LIMIT} characters")
    if len(note) > NOTE_LIMIT:
        raise UsageError(f"{flag}note: at most {NOTE_LIMIT} characters")


def _row(row: Any, where: str, questions: dict[str, Any]) -> Answer:
    if not isinstance(row, dict):
        raise InputError(f"{where}: expected an object")
    if row.get("question") not in questions:
        raise InputError(f"{where}.question: choose from {', '.join(questions)}")
    if row.get("answer") not in ANSWERS:
        raise InputError(f"{where}.answer: choose from {', '.join(ANSWERS)}")
    if not isinstance(row.get("by"), str) or not row["by"].strip():
        raise InputError(f"{where}.by: who answered is required")
    if parse_time(row.get("at")) is None:
        raise InputError(f"{where}.at: expected an ISO date and time")
    project = row.get("project") or ""
    if not isinstance(project, str):
        raise InputError(f"{where}.project: expected a project slug")
    return Answer(row["question"], row["answer"], row["by"], row["at"], str(row.get("note", "")), project)


def load_answers(path: Path, mapping: Mapping) -> list[Answer]:
    """The answers in ``path`` (none when it does not exist); one-line errors naming the field."""
    if not path.exists():
        return []
    data = read_json(path, what="readiness answers")
    if (
        not isinstance(data, dict)
        or data.get("version") != VERSION
        or not isinstance(data.get("answers"), list)
    ):
        raise InputError(f"{path}: expected {{'version': {VERSION}, 'answers': [...]}}")
    questions = mapping.questions()
    return [_row(row, f"{path}: answers[{index}]", questions) for index, row in enumerate(data["answers"])]


def record_answer(
    path: Path,
    mapping: Mapping,
    question: str,
    answer: str,
    by: str,
    note: str = "",
    now: datetime | None = None,
) -> Answer:
    """Append one answer to ``path`` (written whole or not at all)."""
    check_answer(mapping, question, answer, by, note)
    answers = load_answers(path, mapping)
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    new = Answer(question, answer, by.strip(), when, note)
    rows = [{k: v for k, v in asdict(a).items() if k != "project" or v} for a in [*answers, new]]
    body = {"version": VERSION, "answers": rows}
    atomic.write_text(path, json.dumps(body, indent=2) + "\n", what="readiness answers")
    return new


def answer_evidence(
    answers: list[Answer], mapping: Mapping, origin: str, hint: str = _FILE_HINT
) -> EvidenceSet:
    """The latest answer to each question in each scope as evidence (the questionnaire source is
    missing, saying ``hint``, when nothing was answered)."""
    out = EvidenceSet()
    questions = mapping.questions()
    latest: dict[tuple[str, str], tuple[datetime, Answer]] = {}
    for answer in answers:
        when = parse_time(answer.at)
        key = (answer.question, answer.project)
        if when is not None and (key not in latest or latest[key][0] <= when):
            latest[key] = (when, answer)
    for (question, project), (when, answer) in sorted(latest.items()):
        info = questions[question]
        said = f'{answer.answer} ("{info.question}"), answered by {answer.by}'
        out.add(
            Evidence(info.kind, ANSWERS[answer.answer], said, when, f"{origin} (questionnaire)", project),
            "questionnaire",
        )
    if not latest:
        out.missing("questionnaire", hint)
    return out


def server_answers(fetch: Fetch, mapping: Mapping, origin: str) -> EvidenceSet:
    """The answers a Bastion server keeps, as evidence; the questionnaire source is missing with
    the reason when the server does not answer or answers rows that are not answers. Rows for a
    question ``mapping`` does not ask (the server's mapping may be another) are left out."""
    try:
        data = fetch(ANSWERS_PATH)
        rows = data["answers"] if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise SourceError(f"{ANSWERS_PATH}: expected {{'answers': [...]}}")
        questions = mapping.questions()
        answers = [
            _row(row, f"{ANSWERS_PATH}: answers[{index}]", questions)
            for index, row in enumerate(rows)
            if not isinstance(row, dict) or row.get("question") in questions
        ]
    except (SourceError, InputError, KeyError) as exc:
        out = EvidenceSet()
        out.missing("questionnaire", str(exc))
        return out
    return answer_evidence(answers, mapping, f"{origin}{ANSWERS_PATH}", _SERVER_HINT)


def send_answer(
    server: str,
    token: str,
    answer: Answer,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """POST ``answer`` to the server (its ``at`` is ignored: the server dates it); returns the
    stored row. :class:`UsageError` for a bad URL or no token, :class:`InputError` in one line
    when the server cannot be reached or refuses. The token goes in the header only, never in a
    message."""
    if not server.startswith(("http://", "https://")):
        raise UsageError(f"--server {server!r}: expected an http:// or https:// URL")
    if not token:
        raise UsageError("no API token: pass --token or set BASTION_TOKEN")
    parts = urlsplit(server.rstrip("/"))
    base = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
    body: dict[str, str] = {"question": answer.question, "answer": answer.answer, "by": answer.by}
    if answer.note:
        body["note"] = answer.note
    if answer.project:
        body["project"] = answer.project
    try:
        with httpx.Client(base_url=base, timeout=timeout, transport=transport) as client:
            response = client.post(ANSWERS_PATH, json=body, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise InputError(f"cannot reach {base} ({type(exc).__name__})") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 201 or not isinstance(data, dict):
        detail = data.get("detail") if isinstance(data, dict) else response.text
        line = " ".join(str(detail).split())[:300]
        raise InputError(f"answer refused by {base} (HTTP {response.status_code}): {line}")
    return data
