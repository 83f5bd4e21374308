"""The report formats ``--format`` accepts; each has one module in this package."""

from __future__ import annotations

import enum

from bastion.errors import UsageError

__all__ = ["ReportFormat"]


class ReportFormat(enum.Enum):
    """An output format of ``bastion scan``."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    GITLAB = "gitlab"
    JUNIT = "junit"
    MARKDOWN = "markdown"  # a pull-request comment or CI job summary (report/markdown.py)
    HTML = "html"  # one self-contained page for a CI artifact (report/html.py)

    @classmethod
    def parse(cls, text: str) -> ReportFormat:
        """The format named ``text`` (any case); :class:`UsageError` naming the choices otherwise."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(f.value for f in cls)
            raise UsageError(f"--format: unknown format {text!r} (choose from {choices})") from None
