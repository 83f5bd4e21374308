"""DSOMM and SAMM 2 loaded from a path; another version or a malformed file is one line naming it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bastion.errors import InputError
from bastion.ready.models import load_dsomm, load_samm

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ready"


def test_dsomm_fixture_loads_by_file_or_folder() -> None:
    model = load_dsomm(FIXTURES / "dsomm")
    assert model.version == "4.3.1"
    assert [(a.group, a.name, a.level) for a in model.activities][:2] == [
        ("Test and Verification", "Secrets test", 1),
        ("Test and Verification", "Artifact secrets test", 1),
    ]
    assert load_dsomm(FIXTURES / "dsomm" / "model.yaml").ids() == model.ids()


def test_dsomm_of_another_version_is_refused_naming_file_and_field() -> None:
    with pytest.raises(InputError, match=r"dsomm-v3.yaml: meta.version 3.0.0 is not supported \(DSOMM 4.x\)"):
        load_dsomm(FIXTURES / "dsomm-v3.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("meta: {version: 4.1}\n", "expected the DSOMM generated model"),
        ("---\nmeta: {}\n---\nA: {}\n", "meta.version is missing"),
        ("---\nmeta: {version: 4.1}\n---\nA:\n  B:\n    C: {level: 1}\n", r"A.B.C.uuid: missing"),
        (
            "---\nmeta: {version: 4.1}\n---\nA:\n  B:\n    C: {uuid: x, level: 9}\n",
            r"A.B.C.level: expected 1 to 5",
        ),
        ("---\nmeta: {version: 4.1}\n---\nA: [1]\n", "A: expected sub-dimensions"),
        ("---\nmeta: [\n", "is not valid YAML at line"),
    ],
)
def test_malformed_dsomm_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as caught:
        load_dsomm(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_samm_fixture_loads_with_practice_names() -> None:
    model = load_samm(FIXTURES / "samm")
    assert {(a.id, a.group, a.level) for a in model.activities} == {
        ("I-SD-1-B", "Secure Deployment", 1),
        ("O-IM-1-A", "Incident Management", 1),
        ("O-IM-1-B", "Incident Management", 1),
    }


def test_samm_of_another_layout_or_malformed_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "samm"
    shutil.copytree(FIXTURES / "samm", root)
    shutil.rmtree(root / "model" / "streams")
    with pytest.raises(InputError, match=r"streams/ is missing: not an OWASP SAMM 2 model folder"):
        load_samm(root)
    (root / "model" / "streams").mkdir()
    (root / "model" / "activities" / "Activity-1.yml").write_text("title: x\n")
    with pytest.raises(InputError, match=r"Activity-1.yml: file name is not a SAMM 2 activity id"):
        load_samm(root)
    (root / "model" / "activities" / "Activity-1.yml").unlink()
    (root / "model" / "activities" / "O-IM-1-A.yml").write_text("title: Detect\nstream: s\nid: i\n")
    with pytest.raises(InputError, match=r"O-IM-1-A.yml: level: missing"):
        load_samm(root)
    (root / "model" / "activities" / "O-IM-1-A.yml").write_text("title: Detect\nstream: s\nid: i\nlevel: l\n")
    (root / "model" / "activities" / "V-ST-1-A.yml").write_text("title: Test\nstream: s\nid: i\nlevel: l\n")
    with pytest.raises(InputError, match=r"V-ST-1-A.yml: no security practice V-ST"):
        load_samm(root)
    with pytest.raises(InputError, match="not a folder"):
        load_samm(tmp_path / "absent")
