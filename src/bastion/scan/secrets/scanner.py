"""The ``secrets`` scanner: options, the per-process detector, and redacted findings.

With ``verify`` on, the scanner first collects every finding, then asks the providers about
the distinct secrets in one batch (``verify.py``), then yields the findings with the answer:
``metadata["verification"]`` is ``verified``, ``invalid`` or ``unknown``; a verified secret
becomes critical with high confidence; an invalid one keeps its severity (a leaked credential
pattern is still a finding) with low confidence; an unknown one is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, assert_never

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bastion.errors import ConfigError
from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.results import NoticeKind
from bastion.rules import RuleInfo
from bastion.scan.base import ScanContext, ScannerDefaults, ScanTarget
from bastion.scan.secrets.detect import Detector, Hit
from bastion.scan.secrets.generic import GENERIC_RULES
from bastion.scan.secrets.gitleaks import CONFIG, load_allowlist
from bastion.scan.secrets.gitleaks_baseline import GitleaksBaseline, load_baseline
from bastion.scan.secrets.history import ToFinding, scan_history
from bastion.scan.secrets.redact import redact, secret_digest
from bastion.scan.secrets.rules import BUILTIN_RULES, VerifySpec, cached_ruleset
from bastion.validation import validate_options

if TYPE_CHECKING:  # verify.py pulls in httpx (0.2 s of start-up): imported only when --verify is on
    import httpx

    from bastion.scan.secrets.verify import Outcome

__all__ = [
    "CONTROLS",
    "SecretsOptions",
    "SecretsScanner",
    "builtin_rules",
    "detector_for",
    "parse_options",
    "to_finding",
    "with_verification",
]

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
    verify: bool = False
    """Ask each provider whether the secrets its rules found are live (``--verify``). This
    sends every such secret to its provider's read-only identity endpoint, so it is off by
    default; only rules with a ``verify`` table are checked, never generic findings."""
    verify_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    """Seconds each phase (connect, read, write) of a verification request may take."""
    verify_base_urls: dict[str, str] = {}
    """Provider -> base URL that replaces the origin of the provider's verify URLs, for
    GitHub Enterprise (``github = "https://ghe.example.com/api/v3"``), GitLab self-managed
    (``gitlab = "https://gitlab.example.com"``) or a test server. Keys are the rules'
    ``verify.provider`` names; ``https`` only, except for loopback hosts."""
    gitleaks_baseline: Path | None = None
    """A gitleaks JSON report (what ``gitleaks --baseline-path`` reads), relative to the scanned
    root: the secrets it lists are not reported (see ``gitleaks_baseline.py``)."""

    @field_validator("verify_base_urls")
    @classmethod
    def _base_urls(cls, value: dict[str, str]) -> dict[str, str]:
        from bastion.scan.secrets.verify import check_base_url

        for url in value.values():
            check_base_url(url)
        return value


def parse_options(raw: Mapping[str, Any]) -> SecretsOptions:
    """Validate ``[scanners.secrets]``; :class:`ConfigError` naming ``scanners.secrets.<key>``."""
    return validate_options(SecretsOptions, "scanners.secrets", raw)


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


_NOT_SENT = "fails the format check, not sent"
"""Why a hit whose checksum fails is invalid without asking its provider."""


def _check_providers(detector: Detector, options: SecretsOptions) -> None:
    """:class:`ConfigError` when ``verify_base_urls`` names a provider no rule verifies with."""
    known = {rule.verify.provider for rule in detector.rules if rule.verify is not None}
    unknown = sorted(set(options.verify_base_urls) - known)
    if unknown:
        raise ConfigError(
            f"scanners.secrets.verify_base_urls: unknown provider {unknown[0]!r} "
            f"(known: {', '.join(sorted(known))})"
        )


def _line_of(text: str, position: int) -> str:
    """The whole line of ``text`` that holds ``position``."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start : end if end >= 0 else len(text)]


def _describe(title: str, evidence: str, confidence: Confidence, note: str = "") -> str:
    return f"{title} ({evidence}); {note}{'; ' if note else ''}confidence {confidence.value}"


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
        message=_describe(hit.title, evidence, hit.confidence),
        fingerprint=make_fingerprint(hit.rule_id, location, secret_digest(hit.secret)),
        evidence=evidence,
        confidence=hit.confidence,
        cwe=(CWE_HARD_CODED_CREDENTIALS,),
        controls=CONTROLS,
        fix=FIX,
        metadata=dict(hit.metadata),
    )


def with_verification(finding: Finding, provider: str, outcome: Outcome) -> Finding:
    """``finding`` with the provider's verdict: in its metadata, message, severity, confidence."""
    from bastion.scan.secrets.verify import Verdict

    verdict = outcome.verdict
    severity, confidence = finding.severity, finding.confidence
    if verdict is Verdict.VERIFIED:
        severity, confidence = Severity.CRITICAL, Confidence.HIGH
        note = f"verified live with {provider} ({outcome.detail})"
    elif verdict is Verdict.INVALID:
        confidence = Confidence.LOW
        note = f"verification with {provider}: invalid ({outcome.detail})"
    elif verdict is Verdict.UNKNOWN:
        note = f"verification with {provider}: unknown ({outcome.detail})"
    else:
        assert_never(verdict)
    base = _describe(finding.title, finding.evidence, finding.confidence)
    rest = finding.message[len(base) :] if finding.message.startswith(base) else ""  # e.g. the commit
    metadata = {
        **finding.metadata,
        "verification": verdict.value,
        "verification_detail": outcome.detail,
        "verification_provider": provider,
    }
    return finding.with_changes(
        severity=severity,
        confidence=confidence,
        message=_describe(finding.title, finding.evidence, confidence, note) + rest,
        metadata=metadata,
    )


@lru_cache(maxsize=1)
def builtin_rules() -> tuple[RuleInfo, ...]:
    """The built-in provider rules and the generic detector's rules as :class:`RuleInfo`; a
    generic finding is low or medium depending on the value, so those list no severity."""
    common: dict[str, Any] = {
        "scanner": "secrets",
        "cwe": (CWE_HARD_CODED_CREDENTIALS,),
        "attack": ("T1552.001",),  # Unsecured Credentials: Credentials In Files
        "fix": FIX,
        "controls": CONTROLS,
    }
    provider = [
        RuleInfo(id=rule.id, title=rule.description, severity=rule.severity, **common)
        for rule in cached_ruleset((BUILTIN_RULES,)).rules
    ]
    generic = [RuleInfo(id=rule_id, title=title, **common) for rule_id, title in GENERIC_RULES.items()]
    return (*provider, *generic)


def _baseline(root: Path, options: SecretsOptions) -> GitleaksBaseline | None:
    """The gitleaks baseline the options name, read relative to the scanned root."""
    if options.gitleaks_baseline is None:
        return None
    path = options.gitleaks_baseline.expanduser()
    return load_baseline((path if path.is_absolute() else root / path).resolve())


def _in_history_baseline(baseline: GitleaksBaseline, finding: Finding) -> bool:
    """Whether a history finding (already redacted) is listed: by file, lines and commit."""
    where = finding.location
    if where.path is None or where.start_line is None:
        return False
    end = where.end_line if where.end_line is not None else where.start_line
    return baseline.lists(where.path, where.start_line, end, None, where.commit or "")


class SecretsScanner(ScannerDefaults):
    """Finds credentials in the working tree or git history with provider rules and a generic detector."""

    name = "secrets"
    description = "hard-coded credentials: provider tokens, private keys, URIs with passwords, assignments"
    shardable = True
    reads_history = True

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        """``transport`` carries verification requests (default: the network); tests inject one."""
        self._transport = transport

    def rules(self) -> Sequence[RuleInfo]:
        """The built-in rules (rule files named in ``[scanners.secrets]`` are the user's own)."""
        return builtin_rules()

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Validate ``[scanners.secrets]`` and its rule files before any scanning starts."""
        parsed = parse_options(options)
        dirs = tuple(Path(d).expanduser().resolve() for d in parsed.rules)
        _check_providers(detector_for(dirs, frozenset(parsed.disable), parsed.generic), parsed)

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        """Yield one redacted finding per secret in ``target``'s files, or in its git history
        when ``target.history`` is set (read once, by shard 0). With ``verify`` on, the findings
        come at the end, each with its provider's verdict (see :func:`with_verification`).

        Raises :class:`ConfigError` for invalid options or rule files, and
        :class:`~bastion.errors.InputError` when the history cannot be read.
        """
        options = parse_options(context.options)
        dirs = tuple(Path(d).expanduser().resolve() for d in options.rules)
        detector = detector_for(dirs, frozenset(options.disable), options.generic)
        _check_providers(detector, options)
        if options.verify:
            yield from self._verified(target, context, detector, options)
        else:
            yield from self._findings(target, context, detector, partial(to_finding, scanner=self.name))

    def _findings(
        self, target: ScanTarget, context: ScanContext, detector: Detector, build: ToFinding
    ) -> Iterator[Finding]:
        options = parse_options(context.options)
        if target.history is not None:
            if target.shard == 0:
                baseline = _baseline(target.root, options)
                for finding in scan_history(target.history, target.root, detector, context, build):
                    if baseline is None or not _in_history_baseline(baseline, finding):
                        yield finding
                said = baseline.summary() if baseline is not None else None
                if said and baseline is not None:
                    context.notice(NoticeKind.SCANNER, said, baseline.origin)
            return
        allow = load_allowlist(target.root)
        baseline = _baseline(target.root, options)
        for file in target.files:
            if baseline is not None and baseline.is_report(target.root / file.relpath):
                continue  # the accepted secrets themselves, as gitleaks reports them
            text = context.read_text(file)
            if not text:
                continue
            for hit in detector.detect(text, file.relpath):
                line = _line_of(text, hit.start)
                if allow.allows(file.relpath, hit.secret, text[hit.start : hit.end], line):
                    continue
                if baseline is not None and baseline.lists(file.relpath, hit.line, hit.end_line, hit.secret):
                    continue
                yield build(hit, file.relpath)
        if target.shard:
            allow.ignored.clear()  # said once, by shard 0
        summary = allow.summary()
        if summary:
            context.notice(NoticeKind.SCANNER, summary, CONFIG)
        if baseline is not None:
            if target.shard:
                baseline.skipped = 0
            said = baseline.summary()
            if said:
                context.notice(NoticeKind.SCANNER, said, baseline.origin)

    def _verified(
        self, target: ScanTarget, context: ScanContext, detector: Detector, options: SecretsOptions
    ) -> Iterator[Finding]:
        """Collect the findings, verify their distinct secrets in one batch, then yield them.

        A finding and its secret meet again through the fingerprint, which is the same for
        one rule, path and secret wherever (and in whichever commit) it was found.
        """
        from bastion.scan.secrets.verify import Outcome, Verdict, Verifier

        specs = {rule.id: rule.verify for rule in detector.rules if rule.verify is not None}
        providers: dict[str, str] = {}
        asked: dict[str, tuple[VerifySpec, str]] = {}
        outcomes: dict[str, Outcome] = {}

        def build(hit: Hit, path: str) -> Finding:
            finding = to_finding(hit, path, self.name)
            spec = specs.get(hit.rule_id)
            if spec is not None:
                providers[finding.fingerprint] = spec.provider
                if hit.metadata.get("validation") == "invalid":
                    outcomes[finding.fingerprint] = Outcome(Verdict.INVALID, _NOT_SENT)
                else:
                    asked[finding.fingerprint] = (spec, hit.secret)
            return finding

        findings = list(self._findings(target, context, detector, build))
        if asked:
            with Verifier(
                timeout=options.verify_timeout, base_urls=options.verify_base_urls, transport=self._transport
            ) as verifier:
                outcomes.update(zip(asked, verifier.verify_all(list(asked.values())), strict=True))
        unknown = sorted({o.detail for o in outcomes.values() if o.verdict is Verdict.UNKNOWN})
        if unknown:
            context.notice(
                NoticeKind.SCANNER,
                f"live verification was inconclusive ({', '.join(unknown)}); "
                "those findings keep their severity and confidence",
            )
        for finding in findings:
            outcome = outcomes.get(finding.fingerprint)
            if outcome is None:
                yield finding
            else:
                yield with_verification(finding, providers[finding.fingerprint], outcome)
