"""SBOM output (CycloneDX 1.6 validated against its schema, SPDX 2.3 structure) and SBOM input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from bastion.errors import InputError
from bastion.sbom.build import cyclonedx_json, inventory, spdx_json
from bastion.scan.deps.sbom import read_sbom

TESTS = Path(__file__).resolve().parents[1]
DEPS = TESTS / "fixtures" / "deps"


def test_cyclonedx_is_valid_1_6() -> None:
    inv = inventory(DEPS)
    text = cyclonedx_json(inv)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    purls = {c["purl"] for c in bom["components"]}
    assert "pkg:maven/org.apache.struts/struts2-core@2.3.31" in purls
    assert "pkg:npm/lodash@4.17.11" in purls
    struts = next(c for c in bom["components"] if c["name"] == "struts2-core")
    assert {"name": "bastion:manifest", "value": "java/multi/web/pom.xml:15"} in struts["properties"]
    root = bom["metadata"]["component"]["bom-ref"]
    depends = next(d for d in bom["dependencies"] if d["ref"] == root)["dependsOn"]
    assert "pkg:maven/org.apache.struts/struts2-core@2.3.31" in depends
    assert "pkg:npm/qs@6.7.0" not in depends  # transitive in the lockfile


def test_cyclonedx_records_unchecked_packages() -> None:
    bom = json.loads(cyclonedx_json(inventory(DEPS / "python" / "requirements.txt")))
    jinja = next(c for c in bom["components"] if c["name"] == "jinja2")
    assert "version" not in jinja
    assert any(p["name"] == "bastion:not-checked" for p in jinja["properties"])


def test_spdx_2_3_structure() -> None:
    inv = inventory(DEPS)
    doc = json.loads(spdx_json(inv, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)))
    assert doc["spdxVersion"] == "SPDX-2.3" and doc["dataLicense"] == "CC0-1.0"
    assert doc["SPDXID"] == "SPDXRef-DOCUMENT"
    assert doc["creationInfo"]["created"] == "2026-01-02T03:04:05Z"
    assert doc["creationInfo"]["creators"][0].startswith("Tool: bastion-")
    assert doc["documentNamespace"].startswith("https://")
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"SPDXRef-[A-Za-z0-9.-]+", i) for i in ids)
    for package in doc["packages"]:
        assert {"SPDXID", "name", "downloadLocation"} <= set(package)
    for rel in doc["relationships"]:
        assert rel["spdxElementId"] in {*ids, "SPDXRef-DOCUMENT"} and rel["relatedSpdxElement"] in ids
    locators = {r["referenceLocator"] for p in doc["packages"] for r in p.get("externalRefs", [])}
    assert "pkg:gem/actionview@5.2.2" in locators


@pytest.mark.parametrize("writer", [cyclonedx_json, spdx_json])
def test_round_trip(tmp_path: Path, writer: object) -> None:
    inv = inventory(DEPS / "java" / "multi")
    path = tmp_path / "bom.json"
    path.write_text(writer(inv))
    result = read_sbom(path)
    assert {p.purl for p in result.packages} == {p.purl for p in inv.packages}
    struts = next(p for p in result.packages if p.name == "org.apache.struts:struts2-core")
    assert struts.ecosystem == "Maven" and struts.version == "2.3.31" and struts.line is not None


def test_bad_sboms(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text('{"bomFormat": "CycloneDX", "components": [')
    with pytest.raises(InputError, match="SBOM is not valid JSON"):
        read_sbom(path)
    path.write_text('{"hello": 1}')
    with pytest.raises(InputError, match="not a CycloneDX or SPDX"):
        read_sbom(path)
    with pytest.raises(InputError, match=r"missing\.json: SBOM not found"):
        read_sbom(tmp_path / "missing.json")
    with pytest.raises(InputError, match="cannot read SBOM: "):
        read_sbom(tmp_path)  # a directory
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "components": [
                    {"name": "nopurl"},
                    {"name": "bad", "purl": "not a purl"},
                    {
                        "name": "x",
                        "purl": "pkg:pypi/x",
                        "components": [{"name": "y", "purl": "pkg:pypi/y@1.0"}],
                    },
                ],
            }
        )
    )
    result = read_sbom(path)
    assert [(p.name, p.version) for p in result.packages] == [("x", None), ("y", "1.0")]
    assert result.packages[0].skip_reason == "no version in the purl"
    assert len(result.notices) == 2
    path.write_text(
        json.dumps(
            {
                "spdxVersion": "SPDX-2.3",
                "packages": [{"name": "lib"}, {"name": "app", "primaryPackagePurpose": "APPLICATION"}],
            }
        )
    )
    result = read_sbom(path)
    assert result.packages == [] and len(result.notices) == 1
