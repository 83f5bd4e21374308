"""scrub(): text from elsewhere loses every secret the built-in rules find, and nothing else."""

from __future__ import annotations

from bastion.scan.secrets.scrub import scrub

TOKEN = "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"  # generated, grants nothing
PASSWORD = "Xk9Rt2VbQw7LmN4pZs8Yc3Jd"  # random


def test_each_secret_becomes_its_redacted_form() -> None:
    text = f"found {TOKEN} and password = '{PASSWORD}' in config"
    assert scrub(text) == "found ghp_\u2026(40 chars) and password = 'Xk9R\u2026(24 chars)' in config"


def test_text_without_secrets_is_unchanged() -> None:
    for text in ("", "short", "Use of assert detected.", "password = os.environ['DB_PASSWORD']"):
        assert scrub(text) == text
