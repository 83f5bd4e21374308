"""ARM templates: ``[variables('x')]`` is the template's own variable, computed from the file (and from
parameter defaults one level down), not an unknown; an undefined variable or a variable naming another
variable stays unknown, never passed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iac_helpers import index, run_iac

RULE = "iac.arm.storage-public-blobs"


def _scan(
    tmp_path: Path, variables: dict[str, Any], parameters: dict[str, Any] | None = None
) -> tuple[bool, bool]:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": parameters or {},
        "variables": variables,
        "resources": [
            {
                "type": "Microsoft.Storage/storageAccounts",
                "apiVersion": "2023-01-01",
                "name": "acct",
                "properties": {"allowBlobPublicAccess": "[variables('public')]"},
            }
        ],
    }
    (tmp_path / "storage.json").write_text(json.dumps(template))
    findings, notices = run_iac(tmp_path)
    failed = any(rule == RULE for rule, _, _ in index(findings))
    unknown = any(n.message.startswith(f"unknown: {RULE}") for n in notices)
    return failed, unknown


def test_literal_variable_is_computed(tmp_path: Path) -> None:
    assert _scan(tmp_path, {"public": True}) == (True, False)


def test_literal_variable_that_passes(tmp_path: Path) -> None:
    assert _scan(tmp_path, {"public": False}) == (False, False)


def test_variable_from_a_parameter_default(tmp_path: Path) -> None:
    parameters = {"open": {"type": "bool", "defaultValue": True}}
    assert _scan(tmp_path, {"public": "[parameters('open')]"}, parameters) == (True, False)


def test_undefined_or_nested_variable_stays_unknown(tmp_path: Path) -> None:
    assert _scan(tmp_path, {}) == (False, True)
    assert _scan(tmp_path, {"public": "[variables('other')]", "other": True}) == (False, True)
