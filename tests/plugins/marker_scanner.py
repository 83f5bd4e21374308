"""A third-party-style scanner used by the tests: flags ``INSECURE-<SEVERITY>`` markers.

It is registered through tests/plugins/bastion_testplugin-1.0.dist-info/entry_points.txt,
exactly as an external package would register a scanner, so the tests exercise the real
entry-point discovery.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.scan.base import ScanContext, ScanTarget

MARKER = re.compile(r"INSECURE-(INFO|LOW|MEDIUM|HIGH|CRITICAL)")


class MarkerScanner:
    """Yields one finding per marker; shardable because each file stands alone."""

    name = "marker"
    description = "test scanner: flags INSECURE-<SEVERITY> markers"
    shardable = True

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        for file in target.files:
            text = context.read_text(file)
            if text is None:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                for match in MARKER.finditer(line):
                    rule = f"marker.{match[1].lower()}"
                    location = Location(
                        path=file.relpath, start_line=number, end_line=number, start_column=match.start() + 1
                    )
                    yield Finding(
                        rule_id=rule,
                        scanner=self.name,
                        title=f"{match[1].title()} marker",
                        severity=Severity(match[1].lower()),
                        location=location,
                        message=f"marker {match[0]} found",
                        evidence=line.strip()[:80],
                        fingerprint=make_fingerprint(rule, location, line),
                        cwe=(1000,),
                    )


class CrashingScanner:
    """Raises inside scan, to prove one broken plug-in does not take the run down."""

    name = "crashing"
    description = "test scanner: always raises"

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        raise RuntimeError(f"boom{'' if target and context else '!'}")
        yield  # pragma: no cover - makes this a generator
