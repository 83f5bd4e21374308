"""The process questionnaire: what no tool can see, answered by a named person on a date.

Answers live in a JSON file (``{"version": 1, "answers": [...]}``), appended atomically; the
latest answer to a question counts until its kind's ``max_age_days`` pass, then it is stale.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bastion import atomic
from bastion.errors import InputError, UsageError
from bastion.ready.evidence import Evidence, EvidenceSet
from bastion.ready.mapping import Mapping
from bastion.ready.signals import parse_time
from bastion.structured import read_json

__all__ = ["ANSWERS", "Answer", "answer_evidence", "load_answers", "record_answer"]

ANSWERS = {"yes": 1.0, "partly": 0.5, "no": 0.0}
VERSION = 1


@dataclass(frozen=True)
class Answer:
    """One dated, attributed answer."""

    question: str
    answer: str
    by: str
    at: str
    note: str = ""


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
    out = []
    for index, row in enumerate(data["answers"]):
        where = f"{path}: answers[{index}]"
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
        out.append(Answer(row["question"], row["answer"], row["by"], row["at"], str(row.get("note", ""))))
    return out


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
    questions = mapping.questions()
    if question not in questions:
        raise UsageError(f"unknown question {question!r}: choose from {', '.join(questions)}")
    if answer not in ANSWERS:
        raise UsageError(f"answer {answer!r}: choose from {', '.join(ANSWERS)}")
    if not by.strip():
        raise UsageError("--by: who answers is required")
    answers = load_answers(path, mapping)
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    new = Answer(question, answer, by.strip(), when, note)
    body = {"version": VERSION, "answers": [asdict(a) for a in [*answers, new]]}
    atomic.write_text(path, json.dumps(body, indent=2) + "\n", what="readiness answers")
    return new


def answer_evidence(answers: list[Answer], mapping: Mapping, origin: str) -> EvidenceSet:
    """The latest answer to each question as evidence (the questionnaire source is missing when
    nothing was answered)."""
    out = EvidenceSet()
    questions = mapping.questions()
    latest: dict[str, tuple[datetime, Answer]] = {}
    for answer in answers:
        when = parse_time(answer.at)
        if when is not None and (answer.question not in latest or latest[answer.question][0] <= when):
            latest[answer.question] = (when, answer)
    for question, (when, answer) in sorted(latest.items()):
        info = questions[question]
        said = f'{answer.answer} ("{info.question}"), answered by {answer.by}'
        out.add(
            Evidence(info.kind, ANSWERS[answer.answer], said, when, f"{origin} (questionnaire)"),
            "questionnaire",
        )
    if not latest:
        out.missing(
            "questionnaire", "no process answer yet (bastion ready answer QUESTION yes|partly|no --by NAME)"
        )
    return out
