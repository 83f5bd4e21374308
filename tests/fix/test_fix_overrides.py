"""Transitive npm dependencies pinned through package.json's overrides / resolutions."""

from __future__ import annotations

import json

import pytest

from bastion.fix.manifests import Bump, edit_manifest
from bastion.fix.overrides import override_key, pin_transitive

BASE = '{\n  "name": "x",\n  "dependencies": {\n    "express": "^4.17.1"\n  }\n}\n'


def test_override_key_per_lockfile() -> None:
    assert override_key("web/package-lock.json") == "overrides"
    assert override_key("yarn.lock") == "resolutions"
    assert override_key("pnpm-lock.yaml") is None


def test_new_section_keeps_the_layout() -> None:
    text = pin_transitive(BASE, "qs", "6.7.3", "overrides")
    assert text == BASE.replace("  }\n}\n", '  },\n  "overrides": {\n    "qs": "6.7.3"\n  }\n}\n')


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ('{\n  "overrides": {\n    "qs": "6.5.0"\n  }\n}\n', {"qs": "6.7.3"}),
        ('{\n  "overrides": {\n    "semver": "7.5.2"\n  }\n}\n', {"qs": "6.7.3", "semver": "7.5.2"}),
        ('{\n  "overrides": {}\n}\n', {"qs": "6.7.3"}),
        ('{\n  "overrides": {\n  }\n}\n', {"qs": "6.7.3"}),
    ],
)
def test_existing_section(before: str, expected: dict[str, str]) -> None:
    text = pin_transitive(before, "qs", "6.7.3", "overrides")
    assert text is not None and json.loads(text)["overrides"] == expected


def test_empty_object_and_unusual_layout() -> None:
    assert json.loads(pin_transitive("{}\n", "qs", "1", "resolutions") or "")["resolutions"] == {"qs": "1"}
    assert pin_transitive("not json", "qs", "1", "overrides") is None


def test_package_json_editor_pins_a_transitive_package_only_for_npm_and_yarn() -> None:
    outcome = edit_manifest("package.json", BASE, Bump("npm", "qs", "6.7.0", "6.7.3", "package-lock.json"))
    assert outcome.text is not None and "transitive" in outcome.note
    outcome = edit_manifest("package.json", BASE, Bump("npm", "qs", "6.7.0", "6.7.3", "pnpm-lock.yaml"))
    assert outcome.text is None and "not a direct dependency" in outcome.note
