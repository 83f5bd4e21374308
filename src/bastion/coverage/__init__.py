"""The coverage gate: read a coverage report (Cobertura, LCOV, JaCoCo, coverage.py JSON),
check overall, per-file and new-code (diff) coverage, and yield findings in the one model."""

from bastion.coverage.check import CoverageOutcome, Thresholds, check
from bastion.coverage.diff import changed_lines
from bastion.coverage.model import CoverageData, CoverageFormat, FileCoverage
from bastion.coverage.readers import detect_format, read_report

__all__ = [
    "CoverageData",
    "CoverageFormat",
    "CoverageOutcome",
    "FileCoverage",
    "Thresholds",
    "changed_lines",
    "check",
    "detect_format",
    "read_report",
]
