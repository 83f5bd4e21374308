"""Migration 0009_integrations: its tables come and go with upgrade and downgrade, and their
unique keys hold, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from helpers_store import finding, new_project, scan_of
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.integrations import IssueLink, SentNotice
from bastion.store.models import FindingRecord

TABLES = {"integration_issues", "integration_notices"}


def test_tables_upgrade_downgrade_and_unique_keys(store: Store) -> None:
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    assert store.current_revision() == store.head_revision()
    project = new_project(store)
    ingest(store, project, scan_of(finding("sqli", "a.py", "q")), "ci")
    with store.read() as session:
        finding_id = session.scalars(select(FindingRecord.id)).one()
    with store.write() as session:
        session.add(IssueLink(project_id=project, finding_id=finding_id, tracker="gh", external_key="a/b#1"))
        session.add(SentNotice(channel="chat", event_key=f"critical:{finding_id}", project_id=project))
    with pytest.raises(IntegrityError), store.write() as session:
        session.add(IssueLink(project_id=project, finding_id=finding_id, tracker="gh", external_key="a/b#2"))
    with pytest.raises(IntegrityError), store.write() as session:
        session.add(SentNotice(channel="chat", event_key=f"critical:{finding_id}", project_id=project))
    with store.write() as session:
        session.execute(IssueLink.__table__.delete())
        session.execute(SentNotice.__table__.delete())

    store.downgrade("0008")
    assert not TABLES & set(inspect(store.engine).get_table_names())
    store.migrate()
    assert set(inspect(store.engine).get_table_names()) >= TABLES
