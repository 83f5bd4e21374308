"""A bench-only stand-in for the ``sast`` scanner: runs ``bandit`` as a subprocess.

Used by bench_concurrency.py while ``bastion.scan.sast`` is not loadable, to measure a
scanner whose work happens in an external tool (the parent only waits on a pipe and
parses JSON). Shardable, so the engine splits its .py files across workers. Loadable as
``Registration("bandit_standin", "bandit_standin:BanditStandin")`` with bench/core on
sys.path. Not a product scanner; nothing in src/ imports it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.scan.base import NoticeKind, ScanContext, ScannerUnavailable, ScanTarget


def _bandit() -> str:
    found = shutil.which("bandit") or str(Path(sys.executable).with_name("bandit"))
    if not Path(found).exists():
        raise ScannerUnavailable("bandit not installed")
    return found


class BanditStandin:
    """One bandit process per shard; one finding per bandit result."""

    name = "bandit_standin"
    description = "bench stand-in: bandit over the target's .py files"
    shardable = True

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        files = target.with_suffixes({".py"})
        if not files:
            return
        by_path = {str(f.path): f.relpath for f in files}
        proc = subprocess.run(
            [_bandit(), "-q", "-f", "json", *by_path], capture_output=True, text=True, check=False
        )
        if proc.returncode not in (0, 1):  # 1 = issues found
            context.notice(NoticeKind.SCANNER, f"bandit exited {proc.returncode}: {proc.stderr[-200:]}")
        for item in json.loads(proc.stdout or "{}").get("results", []):
            rel = by_path.get(item["filename"], item["filename"])
            rule = f"sast.bandit.{item['test_id']}"
            location = Location(path=rel, start_line=item["line_number"], end_line=item["line_number"])
            yield Finding(
                rule_id=rule,
                scanner=self.name,
                title=item["test_name"],
                severity=Severity(item["issue_severity"].lower()),
                location=location,
                message=item["issue_text"],
                fingerprint=make_fingerprint(rule, location, item.get("code", "")),
            )
