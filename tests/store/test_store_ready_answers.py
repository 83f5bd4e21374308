"""The readiness questionnaire's table: history kept, newest first, scoped by project."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bastion.store.accounts import create_project
from bastion.store.db import Store
from bastion.store.ready_answers import add_answer, list_answers

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_history_is_kept_and_filtered_by_project(store: Store) -> None:
    with store.write() as session:
        demo = create_project(session, "demo", "Demo", "root").id
        other = create_project(session, "other", "Other", "root").id
        add_answer(session, demo, "on-call", "no", "maya", "maya", now=T0)
        add_answer(
            session, demo, "on-call", "yes", "maya", "token:ci (bst_ab)", "rota OPS-7", T0 + timedelta(days=1)
        )
        add_answer(session, None, "bcdr-plan", "partly", "root", "root", now=T0 + timedelta(days=2))
        add_answer(session, other, "on-call", "yes", "olga", "olga", now=T0 + timedelta(days=3))
    with store.read() as session:
        everything = [(r.question, r.answer, slug, r.answered_at) for r, slug in list_answers(session, None)]
        mine = [(slug, r.answer, r.note, r.recorded_by) for r, slug in list_answers(session, [demo])]
        nothing = [slug for _, slug in list_answers(session, [])]
    assert everything == [
        ("on-call", "yes", "other", T0 + timedelta(days=3)),
        ("bcdr-plan", "partly", "", T0 + timedelta(days=2)),
        ("on-call", "yes", "demo", T0 + timedelta(days=1)),
        ("on-call", "no", "demo", T0),
    ]
    assert mine == [
        ("", "partly", "", "root"),
        ("demo", "yes", "rota OPS-7", "token:ci (bst_ab)"),
        ("demo", "no", "", "maya"),
    ]
    assert nothing == [""]  # organisation answers only
