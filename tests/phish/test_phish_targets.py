"""Targets from CSV and LDIF: good rows imported, one error line per bad row, exclusions kept apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from phish_world import FIXTURES

from bastion.errors import InputError
from bastion.phish.targets import is_excluded, parse_csv, read_exclusions, read_targets, valid_email


def test_csv_imports_good_rows_and_names_each_bad_one() -> None:
    result = read_targets(FIXTURES / "targets.csv")
    assert [t.email for t in result.targets] == [
        "ana.diaz@example.com",
        "ben.ode@example.com",
        "cy.ng@example.com",
        "gus.ho@example.com",
        "vip.boss@example.com",
    ]
    ana = result.targets[0]
    assert (ana.name, ana.department, ana.manager, ana.location, ana.timezone) == (
        "Ana Diaz",
        "Finance",
        "Rui Costa",
        "Lisbon",
        "Europe/Lisbon",
    )
    source = str(FIXTURES / "targets.csv")
    assert result.errors == [
        f"{source}:5: invalid email address 'not-an-address'",
        f"{source}:6: email missing",
        f"{source}:7: unknown timezone 'Mars/Olympus'",
        f"{source}:8: more fields than the header has",
    ]


def test_ldif_base64_folded_lines_manager_dn_and_bad_entries() -> None:
    result = read_targets(FIXTURES / "targets.ldif")
    assert [(t.email, t.name, t.department, t.manager, t.location) for t in result.targets] == [
        ("hal.ito@example.com", "Hal Ito", "Sales", "Ivy Oh", "Paris"),
        ("jo.eze@example.com", "Jo Ezé", "Sales", "", "Paris"),
    ]
    source = str(FIXTURES / "targets.ldif")
    assert result.errors == [
        f"{source}:22: invalid email address 'kim at example.com'",
        f"{source}:27: email missing",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("name\nAna\n", "no 'email' column"),
    ],
)
def test_csv_without_email_column_is_one_line(text: str, error: str) -> None:
    with pytest.raises(InputError, match=error):
        parse_csv(text, "t.csv")


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    other = tmp_path / "t.xlsx"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"t.xlsx: targets file must be .csv, .ldif or a GoPhish groups .json export"
    ):
        read_targets(other)
    with pytest.raises(InputError, match="targets file not found"):
        read_targets(tmp_path / "missing.csv")


def test_malformed_csv_quote_keeps_rows_before(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('email,name\na@example.com,A\nb@example.com,"B"x\n', encoding="utf-8")
    result = read_targets(path)
    assert [t.email for t in result.targets] == ["a@example.com"]
    assert len(result.errors) == 1 and "malformed CSV" in result.errors[0]


def test_ldif_bad_base64_and_malformed_line(tmp_path: Path) -> None:
    path = tmp_path / "t.ldif"
    path.write_text("dn: cn=a\nmail:: !!!\n\ndn: cn=b\nthis line has no colon\n", encoding="utf-8")
    result = read_targets(path)
    assert result.targets == []
    assert result.errors == [
        f"{path}:1: attribute mail is not valid base64 UTF-8",
        f"{path}:4: malformed line 'this line has no colon'",
    ]


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("a@example.com", True),
        ("first.last+tag@sub.example.co.uk", True),
        ("a@localhost", False),
        ("a b@example.com", False),
        ("Ana <a@example.com>", False),
        ("a@-example.com", False),
        ("", False),
    ],
)
def test_valid_email(address: str, ok: bool) -> None:
    assert valid_email(address) is ok


def test_exclusions_by_address_and_domain() -> None:
    exclusions = read_exclusions(FIXTURES / "exclusions.txt")
    assert exclusions == {"vip.boss@example.com", "@partner.example.org"}
    targets = read_targets(FIXTURES / "targets.csv").targets
    assert [t.email for t in targets if is_excluded(t, exclusions)] == ["vip.boss@example.com"]
    partner = parse_csv("email\nx@partner.example.org\n", "p.csv").targets[0]
    assert is_excluded(partner, exclusions)


def test_gophish_groups_export(tmp_path: Path) -> None:
    result = read_targets(FIXTURES / "gophish-groups.json")
    assert [(t.email, t.name, t.department) for t in result.targets] == [
        ("ana.diaz@example.com", "Ana Diaz", "")
    ]
    source = FIXTURES / "gophish-groups.json"
    assert result.errors == [
        f"{source}: group 1 target 2: invalid email address 'bad address'",
        f"{source}: group 1 target 3: not an object",
        f"{source}: group 2: no 'targets' list",
    ]
    broken = tmp_path / "g.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match=r"g.json: GoPhish groups export is not valid JSON"):
        read_targets(broken)
