"""gitleaks baselines, so a team moving from gitleaks keeps the findings it already accepted.

Reading: the ``gitleaks_baseline`` option of ``[scanners.secrets]`` names a report (a JSON file) written
by ``gitleaks detect --report-format json`` (what gitleaks' ``--baseline-path`` reads); a secret it
lists is left out of the report and counted in a notice. gitleaks' rule ids are not Bastion's, so
an entry is matched by what both tools see: the file, and the secret itself when the report holds
it (a secret that moved inside its file is still accepted), else the lines (``--redact`` reports
write ``REDACTED``), and in history scans the commit.

Writing: :func:`to_gitleaks` turns the findings of a Bastion JSON report into gitleaks' report
format (redacted, as with ``gitleaks --redact``: Bastion never keeps a secret), and
``python -m bastion.scan.secrets.gitleaks_baseline bastion.json -o baseline.json`` writes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.atomic import atomic_open
from bastion.errors import InputError

__all__ = ["BaselineEntry", "GitleaksBaseline", "load_baseline", "main", "to_gitleaks"]

REDACTED = "REDACTED"


@dataclass(frozen=True)
class BaselineEntry:
    """One finding of a gitleaks report, as far as matching needs it."""

    file: str
    start_line: int
    end_line: int
    secret: str
    commit: str


@dataclass
class GitleaksBaseline:
    """The findings of one gitleaks report, looked up by file name."""

    origin: str
    path: Path | None = None
    """The report itself, which is not scanned (it holds the accepted secrets)."""
    by_name: dict[str, list[BaselineEntry]] = field(default_factory=dict)
    skipped: int = 0
    """Entries without a usable file or line, not applied (said in the notice)."""
    matched: int = 0

    def lists(self, path: str, line: int, end_line: int, secret: str | None, commit: str = "") -> bool:
        """Whether the report lists the secret ``secret`` found at ``path`` lines ``line..end_line``
        (``commit`` in history scans; ``secret`` None where it is no longer known); counts the match."""
        for entry in self.by_name.get(path.rsplit("/", 1)[-1], ()):
            if not _same_file(entry.file, path) or (commit and entry.commit and entry.commit != commit):
                continue
            if secret is not None and _secret_known(entry.secret):
                found = entry.secret == secret or (len(entry.secret) >= 8 and entry.secret in secret)
            else:
                found = entry.start_line <= end_line and line <= entry.end_line
            if found:
                self.matched += 1
                return True
        return False

    def is_report(self, path: Path) -> bool:
        """Whether ``path`` is the baseline report itself."""
        return self.path is not None and path.resolve() == self.path

    def summary(self) -> str | None:
        """One line for the notice, or None when the baseline changed nothing worth saying."""
        parts = []
        if self.matched:
            parts.append(
                f"{self.matched} secrets not reported as the gitleaks baseline {self.origin} lists them"
            )
        if self.skipped:
            parts.append(f"{self.skipped} entries of {self.origin} not applied (no file or line)")
        return "; ".join(parts) or None


def _secret_known(secret: str) -> bool:
    return bool(secret) and REDACTED not in secret and not secret.endswith("...")


def _normal(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _same_file(reported: str, relpath: str) -> bool:
    """gitleaks writes the path as given on its command line: relative, ``./``-prefixed or absolute."""
    return reported == relpath or reported.endswith("/" + relpath)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def load_baseline(path: Path) -> GitleaksBaseline:
    """The gitleaks report at ``path``; :class:`InputError` naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: gitleaks baseline not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: gitleaks baseline could not be read ({exc.__class__.__name__})") from None
    except ValueError as exc:
        raise InputError(f"{path}: gitleaks baseline is not JSON ({exc})") from None
    if data is None:
        data = []  # gitleaks writes null when it found nothing
    if not isinstance(data, list):
        raise InputError(f"{path}: a gitleaks report is a JSON list of findings")
    baseline = GitleaksBaseline(origin=path.name, path=path.resolve())
    for raw in data:
        entry = _entry(raw)
        if entry is None:
            baseline.skipped += 1
            continue
        baseline.by_name.setdefault(entry.file.rsplit("/", 1)[-1], []).append(entry)
    return baseline


def _entry(raw: Any) -> BaselineEntry | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("File"), str) or not raw["File"]:
        return None
    start = _int(raw.get("StartLine"))
    if start is None:
        return None
    end = _int(raw.get("EndLine"))
    secret, commit = raw.get("Secret"), raw.get("Commit")
    return BaselineEntry(
        file=_normal(raw["File"]),
        start_line=start,
        end_line=max(start, end if end is not None else start),
        secret=secret if isinstance(secret, str) else "",
        commit=commit if isinstance(commit, str) else "",
    )


def _gitleaks_finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    location = finding.get("location") or {}
    path = str(location.get("path") or "")
    start = int(location.get("start_line") or 0)
    end = int(location.get("end_line") or start)
    start_col = int(location.get("start_column") or 0)
    end_col = int(location.get("end_column") or start_col)
    commit = str(location.get("commit") or "")
    rule = str(finding.get("rule_id") or "")
    fingerprint = ":".join(p for p in (commit, path, rule, str(start)) if p)
    return {
        "Description": str(finding.get("title") or ""),
        "StartLine": start,
        "EndLine": end,
        "StartColumn": start_col,
        "EndColumn": end_col,
        "Match": REDACTED,
        "Secret": REDACTED,
        "File": path,
        "SymlinkFile": "",
        "Commit": commit,
        "Entropy": 0,
        "Author": "",
        "Email": "",
        "Date": str((finding.get("metadata") or {}).get("date") or ""),
        "Message": "",
        "Tags": [],
        "RuleID": rule,
        "Fingerprint": fingerprint,
    }


def to_gitleaks(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The secrets findings of a Bastion JSON report in gitleaks' report format, redacted."""
    return [
        _gitleaks_finding(f)
        for f in findings
        if isinstance(f, Mapping)
        and (f.get("scanner") == "secrets" or str(f.get("rule_id", "")).startswith("secrets."))
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Convert a Bastion JSON report to a gitleaks baseline; 0 on success, 2 on bad input."""
    parser = argparse.ArgumentParser(
        prog="python -m bastion.scan.secrets.gitleaks_baseline",
        description="Write the secrets of a Bastion JSON report as a gitleaks report (a baseline).",
        epilog="Example: bastion scan . -s secrets -f json -o bastion.json --fail-on none && "
        "python -m bastion.scan.secrets.gitleaks_baseline bastion.json -o gitleaks-baseline.json",
    )
    parser.add_argument("report", type=Path, help="a report written by bastion scan -f json")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the gitleaks report to write")
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"error: {args.report}: not a readable JSON report ({exc.__class__.__name__})", file=sys.stderr)
        return 2
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        print(f"error: {args.report}: a Bastion JSON report has a 'findings' list", file=sys.stderr)
        return 2
    entries = to_gitleaks(findings)
    with atomic_open(args.output) as sink:
        sink.write(json.dumps(entries, indent=1) + "\n")
    print(f"{args.output}: {len(entries)} secrets written as a gitleaks baseline", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover - the module's command line
    raise SystemExit(main())
