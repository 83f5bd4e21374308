"""Every built-in rule of every scanner maps to all three frameworks; ids exist in the catalogs."""

from __future__ import annotations

import pytest

from bastion.comply.catalog import CIS, FRAMEWORKS, ISO, NIST, catalogs, crosswalk, family_of
from bastion.comply.mapping import attach_controls, controls_for, evidence_rules, mapping_entries
from bastion.comply.rules import known_rules
from bastion.findings import Finding, Location, Severity

RULES = known_rules()


def test_rules_of_every_installed_scanner_are_enumerated() -> None:
    assert {"secrets", "sast", "iac", "gate"} <= set(RULES)
    assert len(RULES["secrets"]) >= 300 and len(RULES["iac"]) >= 250 and len(RULES["sast"]) >= 90
    for optional in ("deps", "dast"):  # landing concurrently: counted when their packages expose rules
        if optional in RULES:
            assert RULES[optional]


@pytest.mark.parametrize("scanner", sorted(RULES))
def test_every_rule_maps_to_all_three_frameworks(scanner: str) -> None:
    unmapped = []
    for rule_id in RULES[scanner]:
        refs = controls_for(rule_id)
        frameworks = {ref.split(":", 1)[0] for ref in refs}
        if frameworks != set(FRAMEWORKS):
            unmapped.append((rule_id, sorted(set(FRAMEWORKS) - frameworks)))
    assert unmapped == []


def test_every_mapped_id_is_in_its_catalog() -> None:
    cats = catalogs()
    for entry in mapping_entries():
        assert all(c in cats[NIST].controls for c in entry.nist), entry
        assert all(c in cats[CIS].controls for c in entry.cis), entry
        assert all(c in cats[ISO].controls for c in entry.iso), entry
    for item in evidence_rules():
        for ref in item.controls:
            framework, cid = ref.split(":", 1)
            assert cid in cats[framework].controls


def test_iso_is_derived_through_nists_crosswalk() -> None:
    assert "A.8.24" in crosswalk()["SC-13"]
    refs = controls_for("iac.aws.kms-rotation")
    assert "nist-800-53-r5:SC-12" in refs and "iso27001-2022:A.8.24" in refs
    # an enhancement without its own row uses its base control: IA-5(7) -> IA-5 -> A.5.16/A.5.17
    assert "iso27001-2022:A.5.16" in controls_for("secrets.generic-password")


def test_catalogs_hold_the_published_counts_and_our_own_labels() -> None:
    cats = catalogs()
    assert len(cats[CIS].controls) == 153 and len(cats[ISO].controls) == 93
    assert len(cats[NIST].controls) == 1007  # 1,189 minus 182 withdrawn
    assert cats[NIST].controls["SC-28"].title == "Protection of Information at Rest"
    assert cats[CIS].controls["3.11"].title == "Encrypt stored data"
    assert cats[ISO].controls["A.8.24"].title == "Encryption and key management"
    assert cats[ISO].controls["A.7.1"].title == "Physical control A.7.1"
    assert (family_of(NIST, "SC-28(1)"), family_of(CIS, "16.12"), family_of(ISO, "A.8.24")) == (
        "SC",
        "16",
        "A.8",
    )


def test_unknown_rule_has_no_controls_and_attach_keeps_scanner_controls() -> None:
    assert controls_for("thirdparty.rule") == ()
    finding = Finding(
        rule_id="secrets.generic-password",
        scanner="secrets",
        title="t",
        severity=Severity.HIGH,
        location=Location(path="a.py", start_line=1),
        message="m",
        fingerprint="f",
        controls=("nist-800-53-r5:IA-5(7)", "custom:1"),
    )
    attached = attach_controls(finding)
    assert attached.controls[:2] == ("nist-800-53-r5:IA-5(7)", "custom:1")
    assert "cis-v8:16.1" in attached.controls
    assert attach_controls(attached) is attached
    other = finding.with_changes(rule_id="thirdparty.rule")
    assert attach_controls(other) is other
