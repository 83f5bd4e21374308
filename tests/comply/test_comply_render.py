"""The posture formats: one enum, one dispatcher that mypy checks for a branch per format."""

from __future__ import annotations

import json

import pytest

from bastion.comply.render import PostureFormat, render
from bastion.errors import UsageError


def _posture() -> dict[str, object]:
    return {
        "target": "demo",
        "generated": "2026-12-07T00:00:00+00:00",
        "tool": {"name": "bastion", "version": "0"},
        "scanners": ["iac"],
        "evidence": [],
        "frameworks": {},
    }


def test_each_format_renders() -> None:
    posture = _posture()
    assert json.loads(render(posture, None, PostureFormat.JSON))["target"] == "demo"
    assert render(posture, None, PostureFormat.HTML).startswith("<!DOCTYPE html>")
    assert "Compliance posture of demo" in render(posture, None, PostureFormat.TABLE)


def test_unknown_format_names_the_choices() -> None:
    assert PostureFormat.parse("html") is PostureFormat.HTML
    with pytest.raises(UsageError, match=r"^unknown format 'pdf' \(choose from table, json, html\)$"):
        PostureFormat.parse("pdf")
