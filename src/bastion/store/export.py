"""Every finding matching a filter, read in chunks: the export never holds the whole list.

Findings come worst severity first, then oldest id first. Each chunk is one short read
transaction found by keyset (severity, id) on the ``(project_id, severity_rank, id)`` index, so
an export of a million findings holds neither a million rows nor a long-running transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from bastion.store.db import Store
from bastion.store.models import FindingRecord, Project, utcnow
from bastion.store.queries import RANKS, FindingFilter, filter_conditions
from bastion.store.sla import SlaPolicy

__all__ = ["CHUNK", "iter_findings"]

CHUNK = 1000
"""Findings read per query."""


def iter_findings(
    store: Store,
    filt: FindingFilter,
    sla: SlaPolicy | None = None,
    now: datetime | None = None,
    chunk: int = CHUNK,
) -> Iterator[tuple[Row[Any], str]]:
    """Each finding matching ``filt`` (its page and sort ignored), as a row of the ``findings``
    table (attributes named as :class:`FindingRecord`'s, types converted the same way; no ORM
    objects, which took half the time), with its project's slug."""
    sla = sla or SlaPolicy()
    now = now or utcnow()
    wanted = [RANKS[s] for s in filt.severities if s in RANKS] if filt.severities else list(RANKS.values())
    slugs: dict[int, str] = {}
    for rank in sorted(set(wanted), reverse=True):
        last = 0
        while True:
            with store.read() as session:
                conditions = filter_conditions(filt, sla, now)
                query = (
                    select(FindingRecord.__table__)
                    .where(*conditions, FindingRecord.severity_rank == rank, FindingRecord.id > last)
                    .order_by(FindingRecord.id)
                    .limit(chunk)
                )
                rows = list(session.execute(query).all())
                missing = {r.project_id for r in rows} - slugs.keys()
                if missing:
                    named = select(Project.id, Project.slug).where(Project.id.in_(missing))
                    slugs.update((int(i), str(s)) for i, s in session.execute(named).all())
            yield from ((row, slugs.get(row.project_id, "")) for row in rows)
            if len(rows) < chunk:
                break
            last = rows[-1].id
