"""Fixtures for the Sigma tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sigma_helpers import write_rules

from bastion.detect.sigma.loader import RuleSet, load_rules


@pytest.fixture
def rules_from(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Load rules from YAML texts."""

    def load(*texts: str, placeholders: dict[str, list[str]] | None = None) -> RuleSet:
        return load_rules([write_rules(tmp_path / "rules", *texts)], placeholders)

    return load
