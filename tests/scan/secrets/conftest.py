"""Fixtures for the secrets scanner tests."""

from __future__ import annotations

import pytest

from bastion.scan.secrets.detect import Detector
from bastion.scan.secrets.scanner import detector_for


@pytest.fixture(scope="session")
def detector() -> Detector:
    """The built-in rules plus the generic detector, compiled once for the session."""
    return detector_for((), frozenset(), True)
