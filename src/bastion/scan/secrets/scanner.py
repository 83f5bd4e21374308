"""The ``secrets`` scanner: options, the per-process detector, and redacted findings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from bastion.errors import ConfigError
from bastion.findings import Finding, Location, make_fingerprint
from bastion.scan.base import ScanContext, ScanTarget
from bastion.scan.secrets.detect import Detector, Hit
from bastion.scan.secrets.generic import GENERIC_RULES
from bastion.scan.secrets.history import scan_history
from bastion.scan.secrets.redact import redact, secret_digest
from bastion.scan.secrets.rules import BUILTIN_RULES, cached_ruleset

__all__ = ["CONTROLS", "SecretsOptions", "SecretsScanner", "detector_for", "parse_options"]

CWE_HARD_CODED_CREDENTIALS = 798
CONTROLS = ("nist-800-53-r5:IA-5(7)", "cis-v8:16.1", "iso27001-2022:A.5.17")
"""No embedded static authenticators; secure development; authentication information."""
FIX = (
    "Revoke and rotate this credential, remove it from the code and its history, and load it "
    "at run time from the environment or a secret manager."
)


class SecretsOptions(BaseModel):
    """The ``[scanners.secrets]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Path] = []
    """Extra rule directories, loaded after the built-in rules (``--rules DIR``)."""
    disable: list[str] = []
    """Rule ids to turn off, e.g. ``["secrets.generic-password"]``."""
    generic: bool = True
    """Whether to run the generic password/secret/token assignment detector."""


def parse_options(raw: Mapping[str, Any]) -> SecretsOptions:
    """Validate ``[scanners.secrets]``; :class:`ConfigError` naming ``scanners.secrets.<key>``."""
    try:
        return SecretsOptions.model_validate(dict(raw))
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "(root)"
        reason = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        raise ConfigError(f"scanners.secrets.{key}: {reason}") from None


@lru_cache(maxsize=8)
def detector_for(rule_dirs: tuple[Path, ...], disabled: frozenset[str], generic: bool) -> Detector:
    """The detector for one configuration, built (and its regexes compiled) once per process.

    Raises :class:`ConfigError` for a bad rule file or an unknown rule id in ``disabled``.
    """
    ruleset = cached_ruleset((BUILTIN_RULES, *rule_dirs))
    known = {rule.id for rule in ruleset.rules}
    unknown = sorted(disabled - known - set(GENERIC_RULES))
    if unknown:
        raise ConfigError(f"scanners.secrets.disable: unknown rule id {unknown[0]!r}")
    return Detector(ruleset.without(disabled), generic=generic, disabled_generic=disabled)


def to_finding(hit: Hit, path: str, scanner: str = "secrets") -> Finding:
    """Turn a hit into a finding; the secret itself is hashed or redacted, never copied."""
    location = Location(
        path=path, start_line=hit.line, end_line=hit.end_line, start_column=hit.column,
        end_column=hit.column + (hit.end - hit.start) if hit.line == hit.end_line else None,
    )  # fmt: skip
    evidence = redact(hit.secret)
    return Finding(
        rule_id=hit.rule_id,
        scanner=scanner,
        title=hit.title,
        severity=hit.severity,
        location=location,
        message=f"{hit.title} ({evidence}); confidence {hit.confidence.value}",
        fingerprint=make_fingerprint(hit.rule_id, location, secret_digest(hit.secret)),
        evidence=evidence,
        confidence=hit.confidence,
        cwe=(CWE_HARD_CODED_CREDENTIALS,),
        controls=CONTROLS,
        fix=FIX,
        metadata=dict(hit.metadata),
    )


class SecretsScanner:
    """Finds credentials in the working tree or git history with provider rules and a generic detector."""

    name = "secrets"
    description = "hard-coded credentials: provider tokens, private keys, URIs with passwords, assignments"
    shardable = True
    reads_history = True

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Validate ``[scanners.secrets]`` and its rule files before any scanning starts."""
        parsed = parse_options(options)
        dirs = tuple(Path(d).expanduser().resolve() for d in parsed.rules)
        detector_for(dirs, frozenset(parsed.disable), parsed.generic)

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        """Yield one redacted finding per secret in ``target``'s files, or in its git history
        when ``target.history`` is set (read once, by shard 0).

        Raises :class:`ConfigError` for invalid options or rule files, and
        :class:`~bastion.errors.InputError` when the history cannot be read.
        """
        options = parse_options(context.options)
        dirs = tuple(Path(d).expanduser().resolve() for d in options.rules)
        detector = detector_for(dirs, frozenset(options.disable), options.generic)
        if target.history is not None:
            if target.shard == 0:
                yield from scan_history(
                    target.history,
                    target.root,
                    detector,
                    context,
                    lambda hit, path: to_finding(hit, path, self.name),
                )
            return
        for file in target.files:
            text = context.read_text(file)
            if not text:
                continue
            for hit in detector.detect(text, file.relpath):
                yield to_finding(hit, file.relpath, self.name)
