"""The report formats ``--format`` accepts; each has one module in this package."""

from __future__ import annotations

import enum

__all__ = ["ReportFormat"]


class ReportFormat(enum.Enum):
    """An output format of ``bastion scan``."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    GITLAB = "gitlab"
    JUNIT = "junit"
