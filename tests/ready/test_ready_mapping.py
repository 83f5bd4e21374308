"""The readiness mapping data file: valid against its schema, and every name in it is real."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.errors import InputError
from bastion.ready.evidence import SOURCE_OF, EvidenceKind
from bastion.ready.mapping import load_mapping
from bastion.ready.models import load_dsomm, load_samm

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "maturity"
"""The published models beside the checkout (GPL-3.0 / CC BY-SA 4.0: read, never vendored)."""


def test_every_mapping_names_a_real_evidence_kind() -> None:
    mapping = load_mapping()
    assert set(mapping.kinds) == set(EvidenceKind)
    named = {k for kinds in (*mapping.dsomm.values(), *mapping.samm.values()) for k in kinds}
    assert named <= set(EvidenceKind)
    # every kind proves at least one activity, and every kind has a source and a remedy
    assert named == set(EvidenceKind)
    for info in mapping.kinds.values():
        assert info.command and info.action and info.max_age_days > 0
        assert SOURCE_OF[info.kind]
    assert set(mapping.questions()) == {"ir-plan-tested", "on-call", "backups-restored", "bcdr-plan"}


@pytest.mark.skipif(
    not (SHARED / "dsomm" / "model.yaml").is_file(), reason="published DSOMM not beside the checkout"
)
def test_every_mapped_activity_exists_in_the_published_models() -> None:
    mapping = load_mapping()
    dsomm = load_dsomm(SHARED / "dsomm")
    samm = load_samm(SHARED / "samm")
    assert (len(dsomm.activities), len(samm.activities)) == (194, 90)
    assert set(mapping.dsomm) - dsomm.ids() == set()
    assert set(mapping.samm) - samm.ids() == set()


def test_a_mapping_naming_an_unknown_kind_is_one_line_naming_file_and_field(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "src" / "bastion" / "ready" / "mapping.yml").read_text()
    bad = tmp_path / "mapping.yml"
    bad.write_text(text.replace("I-SB-1-B: [sbom.produced]", "I-SB-1-B: [sbom.made-up]"))
    with pytest.raises(
        InputError, match=r"mapping.yml: samm.I-SB-1-B: 'sbom.made-up' is not an evidence kind"
    ):
        load_mapping(bad)
    bad.write_text(text.replace("    max_age_days: 30\n", "    max_age_days: soon\n", 1))
    with pytest.raises(InputError, match=r"mapping.yml: kinds.scan.secrets.max_age_days: 'soon' is not"):
        load_mapping(bad)
    bad.write_text(text.replace("  process.bcdr-plan:\n", "  process.bcdr-plan-x:\n"))
    with pytest.raises(InputError, match="is not an evidence kind"):
        load_mapping(bad)
