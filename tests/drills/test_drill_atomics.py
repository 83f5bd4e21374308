"""Atomic Red Team atomics linked to the scenarios as references (never executed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bastion.cli.main import main
from bastion.drills.atomics import check_references, read_atomics
from bastion.drills.scenario import library, parse_scenario
from bastion.errors import InputError

ATOMICS = Path(__file__).parents[1] / "fixtures" / "drills" / "atomics"


def test_atomic_tests_are_linked_and_references_checked() -> None:
    atomics = read_atomics([ATOMICS])
    assert [t.platforms for t in atomics["T1110.001"].tests] == [("windows",), ("azure-ad",)]
    rows = check_references(library(), atomics)
    assert ("ssh-brute-force-then-success", "T1110.001", "2 atomic test(s)") in rows
    assert ("mfa-fatigue", "T1621", "no atomic test") in rows
    assert not [r for r in rows if r[2].startswith(("unknown", "referenced"))]
    odd = parse_scenario(
        {
            "version": 1, "id": "odd-ref", "name": "odd", "techniques": ["T1110.001"],
            "references": {"atomic": [
                {"technique": "T1110.001", "guid": "00000000-0000-0000-0000-000000000000"},
                {"technique": "T1110.001", "test": "No such test"},
            ]},
            "steps": [{"name": "s", "telemetry": [{"kind": "signin", "fields": {}}]}],
            "expect": [{"detector": "identity", "within_s": 60}],
        },
        "odd.yml",
    )  # fmt: skip
    problems = [r[2] for r in check_references([odd], atomics)][1:]
    assert problems == ["unknown atomic test guid 00000000-0000-0000-0000-000000000000",
                        "unknown atomic test 'No such test'"]  # fmt: skip


def test_cli_list_with_atomics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "list", "--atomics", str(ATOMICS)]) == 0
    assert "2 atomic test(s)" in capsys.readouterr().out
    broken = tmp_path / "T1000.yaml"
    broken.write_text(yaml.safe_dump({"display_name": "x"}))
    assert main(["drill", "list", "--atomics", str(broken)]) == 2
    assert "not an Atomic Red Team atomics file" in capsys.readouterr().err
    with pytest.raises(InputError, match="atomics not found"):
        read_atomics([tmp_path / "nothing"])
    bad_test = tmp_path / "T1001.yaml"
    bad_test.write_text(yaml.safe_dump({"attack_technique": "T1001", "atomic_tests": [{"guid": "x"}]}))
    with pytest.raises(InputError, match="atomic_tests/0: a test needs a name"):
        read_atomics([bad_test])
    scen = tmp_path / "scen"
    scen.mkdir()
    (scen / "s.yml").write_text(
        yaml.safe_dump(
            {
                "version": 1, "id": "ref-check", "name": "ref check", "techniques": ["T1110.001"],
                "references": {"atomic": [{"technique": "T1110.001", "guid": "ffffffff-0000"}]},
                "steps": [{"name": "s", "telemetry": [{"kind": "signin", "fields": {}}]}],
                "expect": [{"detector": "identity", "within_s": 60}],
            }
        )
    )  # fmt: skip
    assert main(["drill", "list", "--atomics", str(ATOMICS), "--scenarios", str(scen)]) == 1
