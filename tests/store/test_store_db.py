"""Engine setup, URLs, migrations up and down, and the upload parsers' error messages."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import warnings
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bastion.errors import ConfigError, InputError
from bastion.findings import Severity
from bastion.store.db import Store, default_url, normalize_url
from bastion.store.parse import parse_document, parse_upload

DATA = Path(__file__).parent / "data"


def test_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BASTION_DATABASE_URL", raising=False)
    assert default_url().startswith("sqlite:///") and default_url().endswith("bastion.db")
    monkeypatch.setenv("BASTION_DATABASE_URL", "postgresql://u@db/x")
    assert default_url() == "postgresql+psycopg://u@db/x"
    for bad in ("nonsense", "mysql://u@h/db"):
        with pytest.raises(ConfigError, match="BASTION_DATABASE_URL"):
            normalize_url(bad)


def test_migrations_up_down_and_head(store: Store) -> None:
    assert store.current_revision() == store.head_revision() == "0016"
    assert {"findings", "audit_events", "api_tokens", "users"} <= set(inspect(store.engine).get_table_names())
    assert store.downgrade() == "base"
    assert store.current_revision() is None
    assert "findings" not in inspect(store.engine).get_table_names()
    assert store.migrate() == "0016"


def test_store_creates_sqlite_directory(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'deep' / 'dir' / 'b.db'}")
    assert store.dialect == "sqlite"
    store.migrate()
    store.close()
    assert (tmp_path / "deep" / "dir" / "b.db").exists()


def test_sqlite_store_is_private_to_its_owner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default store: 0600 file (and WAL files) in a 0700 directory, whatever the umask."""
    import stat

    monkeypatch.delenv("BASTION_DATABASE_URL", raising=False)
    data_dir = str(tmp_path / "data" / "bastion")
    monkeypatch.setattr("platformdirs.user_data_dir", lambda *_args, **_kwargs: data_dir)
    old = os.umask(0o022)
    try:
        store = Store.open()
        store.migrate()
        store.close()
        created = Store.open(f"sqlite:///{tmp_path / 'named' / 'c.db'}")
        created.migrate()
        created.close()
    finally:
        os.umask(old)
    for directory in (tmp_path / "data" / "bastion", tmp_path / "named"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        for file in directory.iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    loose = tmp_path / "data" / "bastion"
    loose.chmod(0o755)
    (loose / "bastion.db").chmod(0o644)
    Store.open().close()
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700
    assert stat.S_IMODE((loose / "bastion.db").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"hello": 1}', "neither a Bastion JSON report nor a SARIF"),
        (b'{"version": "2.0.0", "runs": []}', "2.1.0 only"),
        (b'{"version": "2.1.0", "runs": {}}', "'runs' must be a list"),
        (b'{"version": "2.1.0", "runs": [{"tool": {}}]}', "no tool.driver.name"),
        (
            b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [1]}]}',
            "is not an object",
        ),
        (
            b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{}]}]}',
            "has no ruleId",
        ),
        (b'{"schema_version": 1, "findings": {}}', "'findings' must be a list"),
        (b'{"schema_version": 1, "findings": [{"rule_id": "x"}]}', "findings[0] is not a valid finding"),
    ],
)
def test_parse_errors_name_the_file(payload: bytes, message: str) -> None:
    with pytest.raises(InputError, match=r"scan\.json") as caught:
        parse_upload(payload, "scan.json")
    assert message in str(caught.value)


def test_sarif_severity_locations_and_fingerprints() -> None:
    run = {
        "tool": {
            "driver": {
                "name": "CodeQL",
                "rules": [
                    {
                        "id": "py/sqli",
                        "shortDescription": {"text": "SQL injection"},
                        "helpUri": "https://codeql.github.com",
                        "properties": {
                            "security-severity": "9.8",
                            "tags": ["security", "external/cwe/cwe-089"],
                        },
                    },
                    {"id": "py/weak", "properties": {"security-severity": "5.0"}},
                    {"id": "py/note", "defaultConfiguration": {"level": "note"}},
                ],
            }
        },
        "results": [
            {
                "ruleId": "py/sqli",
                "ruleIndex": 0,
                "message": {"text": "query built from input"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": "src/db%20layer.py"},
                            "region": {"startLine": 4, "snippet": {"text": "q = x"}},
                        }
                    }
                ],
            },
            {
                "ruleId": "py/weak",
                "message": {"text": "weak"},
                "fingerprints": {"a/v1": "abc"},
                "locations": [
                    {"physicalLocation": {"artifactLocation": {"uri": "https://app.example/login"}}}
                ],
            },
            {
                "ruleId": "py/note",
                "message": {"text": "n"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "pkg:pypi/flask@1.0"}}}],
            },
            {
                "ruleId": "py/other",
                "level": "error",
                "message": {"text": "e"},
                "properties": {"confidence": "low"},
            },
            {"ruleId": "py/sqli", "message": {"text": "suppressed"}, "suppressions": [{"kind": "inSource"}]},
        ],
    }
    parsed = parse_document({"version": "2.1.0", "runs": [run]}, "codeql.sarif")
    sqli, weak, note, other = parsed.findings
    assert (sqli.rule_id, sqli.scanner, sqli.severity, sqli.cwe) == (
        "codeql.py/sqli",
        "codeql",
        Severity.CRITICAL,
        (89,),
    )
    assert (sqli.location.path, sqli.location.start_line, sqli.title) == (
        "src/db layer.py",
        4,
        "SQL injection",
    )
    assert (weak.severity, weak.location.url) == (Severity.MEDIUM, "https://app.example/login")
    assert (note.severity, note.location.purl) == (Severity.LOW, "pkg:pypi/flask@1.0")
    assert (other.severity, other.confidence.value) == (Severity.HIGH, "low")
    assert len({f.fingerprint for f in parsed.findings}) == 4
    again = parse_document({"version": "2.1.0", "runs": [run]}, "codeql.sarif")
    assert [f.fingerprint for f in again.findings] == [f.fingerprint for f in parsed.findings]


def test_bastion_report_keeps_every_field() -> None:
    document = json.loads((DATA / "examples-scan.json").read_bytes())
    parsed = parse_document(document, "examples-scan.json")
    assert parsed.source_format == "bastion" and parsed.scanners == ["sast", "secrets"]
    assert [f.to_dict() for f in parsed.findings] == document["findings"]


def test_migrated_schema_matches_the_models(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import SAWarning

    import bastion.store
    from bastion.store.models import Base

    # Every feature keeps its tables in its own store module on the one Base: import them all,
    # so a table the migrations create and no model declares (or the reverse) is a difference.
    for module in pkgutil.iter_modules(bastion.store.__path__):
        importlib.import_module(f"bastion.store.{module.name}")
    importlib.import_module("bastion.jobs.models")  # the job board's tables live with the jobs
    with store.engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # Expression indexes (substr of title/location) cannot be compared by reflection, and
    # the PostgreSQL-only trigram index is not part of the portable models.
    names = ("ix_findings_project_title", "ix_findings_project_location", "ix_findings_search_trgm")
    assert [d for d in differences if not any(n in repr(d) for n in names)] == []


def test_each_revision_upgrades_and_downgrades_on_its_own(tmp_path: Path) -> None:
    """Run the revision modules as ordinary imports (so their code is measured too)."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'direct.db'}")
    names = ("0001_initial_schema", "0002_findings_list_indexes", "0003_scan_coverage")
    revisions = [importlib.import_module(f"bastion.store.migrations.versions.{n}") for n in names]
    with engine.begin() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        with Operations.context(context):
            for revision in revisions:
                revision.upgrade()
            assert "search_key" in {c["name"] for c in inspect(connection).get_columns("findings")}
            for revision in reversed(revisions):
                revision.downgrade()
            assert inspect(connection).get_table_names() == []
    engine.dispose()
