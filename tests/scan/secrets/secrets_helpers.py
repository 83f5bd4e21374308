"""Helpers shared by the secrets scanner tests (imported by name; pytest runs in prepend mode)."""

from __future__ import annotations

from bastion.scan.secrets.detect import Detector, Hit


def hits_for(detector: Detector, text: str, path: str = "example.txt") -> list[Hit]:
    """Run ``detector`` on ``text`` as if it were the file ``path``."""
    return detector.detect(text, path)


def rule_ids(detector: Detector, text: str, path: str = "example.txt") -> set[str]:
    """The rule ids ``detector`` reports for ``text``."""
    return {hit.rule_id for hit in detector.detect(text, path)}
