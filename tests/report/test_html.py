"""The HTML report: one self-contained page, escaped, no scripts, no machine paths."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.gate import GateResult
from bastion.report import html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.sources.extend(v or "" for k, v in attrs if k in {"src", "href"})


def _parse(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


def test_full_page_lists_findings_worst_first(full: GateResult) -> None:
    text = html.render(full)
    assert text.startswith("<!DOCTYPE html>")
    assert "Bastion: gate failed" in text
    tags = _parse(text)
    assert "script" not in tags.tags
    assert tags.sources and all(src.startswith("https://") for src in tags.sources)  # rule docs only
    assert "default-src 'none'" in text
    assert text.index("secrets.aws-access-key") < text.index("iac.aws.s3-bucket-encryption")
    assert str(full.scan.root) not in text


def test_clean_page(clean: GateResult) -> None:
    text = html.render(clean)
    assert "gate passed" in text and "No findings." in text


def test_scanned_text_is_escaped(clean: GateResult) -> None:
    location = Location(path="src/<b>.py", start_line=1)
    finding = Finding(
        rule_id="sast.x",
        scanner="sast",
        title="<script>alert(1)</script>",
        severity=Severity.LOW,
        location=location,
        message='"><img src=x>',
        fingerprint=make_fingerprint("sast.x", location, "x"),
        evidence="<iframe>",
    )
    text = html.render(replace(clean, findings=[finding]))
    tags = _parse(text)
    assert "script" not in tags.tags and "img" not in tags.tags and "iframe" not in tags.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_failures_and_unchecked(crashed: GateResult) -> None:
    text = html.render(crashed)
    assert "Scanner failures" in text


def test_only_https_rule_links(clean: GateResult) -> None:
    location = Location(path="a.py", start_line=1)
    finding = Finding(
        rule_id="sast.x",
        scanner="sast",
        title="t",
        severity=Severity.LOW,
        location=location,
        message="m",
        fingerprint="f",
        help_uri="javascript:alert(1)",
    )
    assert "javascript:" not in " ".join(_parse(html.render(replace(clean, findings=[finding]))).sources)
