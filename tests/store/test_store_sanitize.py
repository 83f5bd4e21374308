"""No upload brings a secret into the store, and no malformed upload gets past the parser
(issue 13, items 3 and 11)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers_store import new_project
from sqlalchemy import select

from bastion.errors import InputError
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.models import Base
from bastion.store.parse import parse_upload
from bastion.store.sanitize import MAX_DEPTH, check_text, scrub_tree

# Generated for this test, grant nothing.
SECRETS = (
    "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",
    "AKIAQ4ZJ7XW2N5RB3YTC",
    "glpat-kY9pF34Qy6nB3Wwd25rq",
)


def _bastion_report(secret: str) -> dict[str, Any]:
    finding = {
        "rule_id": f"secrets.{secret}",
        "scanner": f"secrets-{secret}",
        "title": f"title {secret}",
        "severity": "high",
        "confidence": "high",
        "location": {"path": f"src/{secret}/app.py", "start_line": 3, "commit": secret},
        "message": f"message {secret}",
        "evidence": f"aws_key = '{secret}'",
        "fingerprint": f"fp-{secret}",
        "cwe": [798],
        "controls": [f"nist:{secret}"],
        "fix": f"rotate {secret}",
        "help_uri": f"https://example.com/?k={secret}",
        "metadata": {secret: secret, "nested": {"deeper": [secret]}},
    }
    return {
        "schema_version": 1,
        "tool": {"name": "bastion", "version": secret},
        "target": ".",
        "scanners": [f"secrets-{secret}"],
        "duration_s": 0.1,
        "summary": {},
        "findings": [finding],
        "suppressed": [],
        "baselined": [],
        "skipped": [{"component": f"deps {secret}", "reason": secret}],
        "failures": [],
        "notices": [{"kind": "scanner", "message": secret, "path": secret, "scanner": "deps"}],
    }


def _sarif(driver: str, secret: str) -> dict[str, Any]:
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": driver,
                        "version": secret,
                        "rules": [
                            {
                                "id": f"rule-{secret}",
                                "helpUri": f"https://example.com/{secret}",
                                "shortDescription": {"text": f"title {secret}"},
                            }
                        ],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "warning",
                                "message": {"text": secret},
                                "locations": [
                                    {"physicalLocation": {"artifactLocation": {"uri": f"n/{secret}"}}}
                                ],
                            }
                        ],
                    }
                ],
                "results": [
                    {
                        "ruleId": f"rule-{secret}",
                        "message": {"text": f"found {secret}"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": f"src/{secret}.py"},
                                    "region": {"startLine": 2, "snippet": {"text": secret}},
                                }
                            }
                        ],
                        "partialFingerprints": {"bastionFingerprint/v1": f"fp-{secret}"},
                        "properties": {
                            "scanner": f"sc-{secret}",
                            "evidence": secret,
                            "controls": [f"cis:{secret}"],
                            "metadata": {f"k-{secret}": [secret, {"x": secret}]},
                        },
                    }
                ],
            }
        ],
    }


UPLOADS = {
    "bastion-json": lambda secret: _bastion_report(secret),
    "sarif-driver-bastion": lambda secret: _sarif("bastion", secret),
    "foreign-sarif": lambda secret: _sarif("leaky", secret),
}


def _all_stored(store: Store) -> str:
    """Every column of every table, as text."""
    with store.read() as session:
        rows = [
            dict(row)
            for table in Base.metadata.sorted_tables
            for row in session.execute(select(table)).mappings().all()
        ]
    return repr(rows) + json.dumps(rows, default=str, ensure_ascii=False)


@pytest.mark.parametrize("kind", list(UPLOADS))
@pytest.mark.parametrize("secret", SECRETS)
def test_no_stored_column_holds_a_secret_whatever_the_uploader_claims(
    store: Store, kind: str, secret: str
) -> None:
    project = new_project(store)
    document = UPLOADS[kind](secret)
    ingest(store, project, parse_upload(json.dumps(document).encode(), f"{kind}.json"), "ci")
    # the same document again: the scrubbed finding is recognized, not duplicated
    again = ingest(store, project, parse_upload(json.dumps(document).encode(), f"{kind}.json"), "ci")
    assert again.new == 0 and again.findings == 1
    stored = _all_stored(store)
    assert secret not in stored
    assert secret[:4] + "\u2026" in stored  # redacted, still recognizable


def test_scrub_tree_rebuilds_only_values_with_a_secret() -> None:
    clean = {"a": ["b", {"c": "d"}]}
    assert scrub_tree(clean) is clean
    dirty = {SECRETS[0]: [SECRETS[1], {"c": 3}]}
    assert scrub_tree(dirty) == {"ghp_\u2026(40 chars)": ["AKIA\u2026(20 chars)", {"c": 3}]}


def _nest(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


MALFORMED: dict[str, tuple[bytes, str]] = {
    "100k-deep JSON": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "deep metadata": (
        json.dumps(
            {
                **_bastion_report("x"),
                "findings": [{**_bastion_report("x")["findings"][0], "metadata": _nest(MAX_DEPTH + 5)}],
            }
        ).encode(),
        "nested deeper",
    ),
    "string physicalLocation": (
        json.dumps(
            _sarif("tool", "x")
            | {
                "runs": [
                    {
                        **_sarif("tool", "x")["runs"][0],
                        "results": [{"ruleId": "r", "locations": [{"physicalLocation": "src/app.py"}]}],
                    }
                ]
            }
        ).encode(),
        "results[0] is malformed",
    ),
    "list fingerprints": (
        json.dumps(
            _sarif("tool", "x")
            | {
                "runs": [
                    {**_sarif("tool", "x")["runs"][0], "results": [{"ruleId": "r", "fingerprints": ["a"]}]}
                ]
            }
        ).encode(),
        "results[0] is malformed",
    ),
    "object ruleId": (
        json.dumps(
            _sarif("tool", "x")
            | {"runs": [{**_sarif("tool", "x")["runs"][0], "results": [{"ruleId": {"id": "r"}}]}]}
        ).encode(),
        "ruleId must be a string",
    ),
    "lone surrogate": (
        json.dumps(_bastion_report("x")).replace('"message x"', '"message \\ud800 x"').encode(),
        "lone UTF-16 surrogate",
    ),
    "lone surrogate in SARIF": (
        json.dumps(_sarif("tool", "x")).replace('"found x"', '"found \\udfff"').encode(),
        "lone UTF-16 surrogate",
    ),
    "number as a path": (
        json.dumps(
            {
                **_bastion_report("x"),
                "findings": [{**_bastion_report("x")["findings"][0], "location": {"path": 5, "commit": 1.5}}],
            }
        ).encode(),
        "wrong type for location.path, location.commit",
    ),
    "list as a path, text as a line": (
        json.dumps(
            {
                **_bastion_report("x"),
                "findings": [
                    {**_bastion_report("x")["findings"][0], "location": {"path": ["a"], "start_line": "3"}}
                ],
            }
        ).encode(),
        "wrong type for location.path, location.start_line",
    ),
    "notices not a list": (
        json.dumps({**_bastion_report("x"), "notices": "none"}).encode(),
        "'notices' must be a list",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_uploads_are_one_line_input_errors(case: str) -> None:
    data, expected = MALFORMED[case]
    with pytest.raises(InputError) as caught:
        parse_upload(data, "up.json")
    message = str(caught.value)
    assert expected in message and message.startswith("up.json") and "\n" not in message


def test_check_text_accepts_valid_unicode_and_pairs() -> None:
    check_text({"k": ["h\u00e9llo \U0001f600", 1, None]}, "x")
    with pytest.raises(InputError):
        check_text({"\ud800": 1}, "x")
