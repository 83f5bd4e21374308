"""The reference evaluator: pySigma's SQLite backend over the same events, for cross-checks.

Each rule becomes SQL (``pysigma-backend-sqlite``); the events go into an in-memory SQLite table
(one column per field, ``COLLATE NOCASE`` as Zircolite builds it, a ``REGEXP`` function, and a
``_raw`` full-text column for keyword rules). Log sources are applied with the same pipeline tags
Bastion uses, so a difference is a difference in matching. Used by the tests and the benchmark.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bastion.detect.sigma.event import Event, LogSource
from bastion.detect.sigma.index import accepts
from bastion.detect.sigma.loader import rule_files

__all__ = ["ReferenceRule", "SqliteReference"]


@dataclass(frozen=True)
class ReferenceRule:
    """One rule as SQL."""

    id: str
    logsource: LogSource
    sql: str


def _regexp(pattern: str, value: object) -> bool:
    if value is None:
        return False
    try:
        return re.search(pattern, str(value)) is not None
    except re.error:
        return False


class SqliteReference:
    """Rules converted by pySigma's SQLite backend; :meth:`match` runs them over events."""

    def __init__(self, paths: Iterable[Path]) -> None:
        """Convert every rule under ``paths``; ``refused`` holds ``(path, reason)`` for the rest."""
        from sigma.backends.sqlite.sqlite import sqliteBackend
        from sigma.collection import SigmaCollection
        from sigma.exceptions import SigmaError
        from sigma.rule import SigmaRule

        backend = sqliteBackend(fulltext_field="_raw")  # type: ignore[no-untyped-call]
        self.rules: list[ReferenceRule] = []
        self.refused: list[tuple[str, str]] = []
        for path in rule_files(paths):
            try:
                collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"), collect_errors=True)
                for rule in collection.rules:
                    if not isinstance(rule, SigmaRule) or rule.errors:
                        continue
                    queries = backend.convert_rule(rule)  # type: ignore[no-untyped-call]
                    ls = rule.logsource
                    for q in queries:
                        sql = str(q).replace("SELECT * FROM logs WHERE", "SELECT _idx FROM logs WHERE", 1)
                        self.rules.append(
                            ReferenceRule(str(rule.id), (ls.product, ls.category, ls.service), sql)
                        )
            except (SigmaError, ValueError, TypeError, OSError) as exc:
                self.refused.append((str(path), str(exc).splitlines()[0] if str(exc) else type(exc).__name__))

    def match(self, events: Sequence[Event]) -> list[list[str]]:
        """For each event, the ids of the rules that match it (in rule order)."""
        columns: dict[str, None] = {}
        for event in events:
            for key in event.raw:
                columns.setdefault(key, None)
        names = [c for c in columns if c not in ("_idx", "_raw") and '"' not in c]
        db = sqlite3.connect(":memory:")
        db.create_function("REGEXP", 2, _regexp, deterministic=True)
        cols = ", ".join(f'"{c}" TEXT COLLATE NOCASE' for c in names)
        # bastion: ignore[sast.semgrep.python-sql-string-built-query] quoted names, no values in it
        db.execute(f"CREATE TABLE logs (_idx INTEGER, _raw TEXT COLLATE NOCASE{', ' + cols if cols else ''})")
        marks = ", ".join("?" for _ in range(len(names) + 2))
        quoted = ", ".join(f'"{c}"' for c in names)
        rows = []
        for i, event in enumerate(events):
            values = [_cell(event.raw.get(c, _MISSING)) for c in names]
            raw_text = "\n".join(v if isinstance(v, str) else "\n".join(v) for v in event.low.values())
            rows.append([i, raw_text, *values])
        # column names are event field names, double-quoted (names holding a quote are left out);
        # every value goes in as a bound parameter
        # bastion: ignore[sast.bandit.B608] quoted column names, values bound as parameters
        insert = f"INSERT INTO logs (_idx, _raw{', ' + quoted if quoted else ''}) VALUES ({marks})"
        # bastion: ignore[sast.semgrep.python-sql-string-built-query] values bound as parameters
        db.executemany(insert, rows)
        out: list[list[str]] = [[] for _ in events]
        for rule in self.rules:
            try:
                hits = [row[0] for row in db.execute(rule.sql)]
            except sqlite3.Error:
                continue  # a column no event has: the rule cannot match these events
            for i in hits:
                if accepts(rule.logsource, events[i].tags) and rule.id not in out[i]:
                    out[i].append(rule.id)
        db.close()
        return out


_MISSING = object()


def _cell(value: object) -> object:
    if value is _MISSING or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
