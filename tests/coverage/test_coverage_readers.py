"""The four coverage formats, read from reports the real tools wrote (tests/fixtures/coverage)."""

from __future__ import annotations

from pathlib import Path

import pytest
from coverage_helpers import PROJECT, REPORTS

from bastion.coverage import CoverageFormat, detect_format, read_report
from bastion.errors import InputError

# (report, format, {path: (covered, total)}) -- the totals each tool printed itself.
CASES = [
    ("py-cobertura.xml", CoverageFormat.COBERTURA, {"src/calc/ops.py": (9, 15)}),
    ("py.lcov", CoverageFormat.LCOV, {"src/calc/ops.py": (9, 15)}),
    ("py-coverage.json", CoverageFormat.COVERAGEPY, {"src/calc/ops.py": (9, 15)}),
    ("c-lcov.info", CoverageFormat.LCOV, {"native/mathx.c": (9, 13)}),
    ("c-gcovr.lcov", CoverageFormat.LCOV, {"native/mathx.c": (9, 13)}),
    ("c-gcovr-cobertura.xml", CoverageFormat.COBERTURA, {"native/mathx.c": (9, 13)}),
    ("jacoco.xml", CoverageFormat.JACOCO, {"java/src/main/java/org/example/Calc.java": (7, 11)}),
]


@pytest.mark.parametrize(("name", "fmt", "expected"), CASES)
def test_reads_real_reports_with_the_tools_own_totals(
    name: str, fmt: CoverageFormat, expected: dict[str, tuple[int, int]]
) -> None:
    data = read_report(REPORTS / name, PROJECT)
    assert data.format is fmt
    for path, (covered, total) in expected.items():
        assert (data.files[path].covered, data.files[path].total) == (covered, total)
    assert data.covered == sum(c for c, _ in expected.values())


def test_same_lines_missed_whatever_the_format() -> None:
    missed = {
        name: read_report(REPORTS / name, PROJECT).files["src/calc/ops.py"].missed
        for name in ("py-cobertura.xml", "py.lcov", "py-coverage.json")
    }
    assert set(missed.values()) == {(7, 14, 15, 16, 20, 21)}


def test_absolute_lcov_paths_of_another_machine_resolve_by_their_tail() -> None:
    text = (REPORTS / "c-lcov.info").read_text(encoding="utf-8")
    assert "SF:/builds/proj/native/mathx.c" in text
    assert list(read_report(REPORTS / "c-lcov.info", PROJECT).files) == ["native/mathx.c"]


def test_jacoco_package_paths_resolve_under_src_main_java() -> None:
    data = read_report(REPORTS / "jacoco.xml", PROJECT)
    calc = data.files["java/src/main/java/org/example/Calc.java"]
    assert calc.missed == (3, 6, 15, 16)  # the constructor, return lo, neverCalled


def test_gcovr_jacoco_without_line_counts_is_refused_not_read_as_zero() -> None:
    with pytest.raises(InputError, match="no ci/mi counts"):
        read_report(REPORTS / "c-gcovr-jacoco.xml", PROJECT)


def test_unresolvable_names_are_kept_as_reported(tmp_path: Path) -> None:
    report = tmp_path / "x.lcov"
    report.write_text("SF:lib/gone.py\nDA:1,1\nDA:2,0\nend_of_record\n", encoding="utf-8")
    data = read_report(report, tmp_path)
    assert list(data.files) == ["lib/gone.py"]
    assert data.percent == 50.0


def test_lcov_records_of_one_file_add_up(tmp_path: Path) -> None:
    report = tmp_path / "x.lcov"
    report.write_text(
        "TN:a\nSF:m.c\nDA:1,0\nDA:2,1\nend_of_record\nTN:b\nSF:m.c\nDA:1,3\nDA:2,0,abc\nend_of_record\n",
        encoding="utf-8",
    )
    assert dict(read_report(report, tmp_path).files["m.c"].hits) == {1: 3, 2: 1}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<html/>", "neither Cobertura"),
        ("hello", "not a coverage report"),
        ("{", "invalid JSON"),
        ('{"files": {"a.py": {"executed_lines": "x"}}}', "executed_lines is not a list"),
        ('{"a": 1}', "no .files. object"),
        ("SF:a.c\nDA:x,1\nend_of_record\n", "malformed DA record"),
        ("TN:\nDA:1,1\n", "outside a file"),
        ("SF:a.c\nDA:1,1\n", "no end_of_record"),
        ("TN:\nend_of_record\n", "end_of_record without SF"),
        ("<coverage><packages><class/></packages></coverage>", "has no filename"),
        (
            '<coverage><class filename="a"><lines><line number="x" hits="1"/></lines></class></coverage>',
            "is not a number",
        ),
        ("<coverage><unclosed></coverage>", "invalid XML"),
        ('<!DOCTYPE r [<!ENTITY e "x">]><coverage>&e;</coverage>', "invalid XML"),
        ('<report><package name="p"><sourcefile/></package></report>', "without a name"),
    ],
)
def test_malformed_reports_are_one_line_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    report = tmp_path / "bad.report"
    report.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as caught:
        read_report(report, tmp_path)
    assert str(caught.value).startswith(str(report))
    assert "\n" not in str(caught.value)


def test_missing_report(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="coverage report not found"):
        read_report(tmp_path / "nope.xml", tmp_path)


def test_wrong_root_element_when_format_forced(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text("<report/>", encoding="utf-8")
    with pytest.raises(InputError, match="not Cobertura"):
        read_report(report, tmp_path, CoverageFormat.COBERTURA)
    report.write_text("<coverage/>", encoding="utf-8")
    with pytest.raises(InputError, match="not JaCoCo"):
        read_report(report, tmp_path, CoverageFormat.JACOCO)


def test_detect_format_by_content() -> None:
    assert detect_format(Path("x"), "\n<?xml?><report><sessioninfo/>") is CoverageFormat.JACOCO
    assert detect_format(Path("x"), '{"meta": {}}') is CoverageFormat.COVERAGEPY
    assert detect_format(Path("x"), "TN:\nSF:a\n") is CoverageFormat.LCOV
