"""Rule files: the schema, loading, validation and the compiled form.

Rules are data. Each ``*.toml`` file under ``rules/`` (and under any directory a user
adds with ``[scanners.secrets] rules = [...]``) holds ``[[rules]]`` tables::

    [[rules]]
    id = "secrets.github-pat-classic"          # namespaced, unique
    description = "GitHub personal access token (classic)"
    regex = '''\\b(?P<secret>ghp_[A-Za-z0-9]{36})\\b'''   # one group named "secret"
    keywords = ["ghp_"]                         # the prefilter; lower-cased
    validator = "github_crc32"                  # optional, see validators.py
    entropy = 3.0                               # optional minimum, bits per char
    confident_entropy = 4.0                     # optional: at/above, confidence >= medium
    severity = "high"
    confidence = "high"
    examples.positive = ["token = ghp_..."]     # the test suite runs these
    examples.negative = ["token = ghp_short"]
    verify.provider = "github"                  # optional: live verification (``--verify``)
    verify.url = "https://api.github.com/user"  # https, read-only, changes nothing
    verify.auth = "bearer"
    verify.ok = [200]                           # the provider accepted the secret
    verify.invalid = [401]                      # the provider rejected it

``verify`` describes one request to a harmless identity endpoint (see :class:`VerifySpec`
and ``verify.py``). ``auth`` says where the secret goes: ``bearer``, ``basic-user`` (the
user name, empty password), ``basic-password`` (with ``username``), ``header:NAME``,
``query:NAME`` or ``path`` (``{secret}`` in the URL path). Any other status, a redirect, a
429, a 5xx or a network error is *unknown*, never valid or invalid.

A rule file is only ever parsed as TOML and its regexes compiled; nothing in it is
executed. A malformed file is a :class:`~bastion.errors.ConfigError` that names the
file, the rule and the field.
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bastion.errors import ConfigError
from bastion.findings import Confidence, Severity
from bastion.scan.secrets.tomlcache import loads_cached
from bastion.scan.secrets.validators import ValidatorName
from bastion.validation import first_error, reason_of

__all__ = [
    "BUILTIN_RULES",
    "SECRET_PLACEHOLDER",
    "AuthKind",
    "Rule",
    "RuleSet",
    "VerifySpec",
    "cached_ruleset",
    "load_ruleset",
]

BUILTIN_RULES = Path(__file__).parent / "rules"
"""The rule files shipped with Bastion."""

_RULE_ID = r"^secrets\.[a-z0-9][a-z0-9-]*[a-z0-9]$"
MAX_WINDOW = 16_384
"""Largest span a multi-line rule may search from its keyword's line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExamplesSpec(_Strict):
    """Strings the test suite runs: positives must match, negatives must not."""

    positive: Annotated[list[str], Field(min_length=1)]
    negative: Annotated[list[str], Field(min_length=1)]


class PairSpec(_Strict):
    """Raise a finding when a companion rule fires nearby (an AWS key ID and its secret)."""

    rule: Annotated[str, Field(pattern=_RULE_ID)]
    within_lines: Annotated[int, Field(ge=0, le=50)] = 5
    severity: Severity
    confidence: Confidence


SECRET_PLACEHOLDER = "{secret}"  # bastion: ignore[sast.bandit.B105] a template marker, not a password
"""Stands for the secret in a ``verify.url`` whose ``auth`` is ``path``."""
_PROVIDER = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
_AUTH = (
    r"^(bearer|basic-user|basic-password|path"
    r"|header:[A-Za-z][A-Za-z0-9-]{0,63}|query:[A-Za-z0-9_.-]{1,64})$"
)
_HEADER_NAME = r"^[A-Za-z][A-Za-z0-9-]{0,63}$"
_RESERVED_HEADERS = frozenset({"host", "authorization", "cookie", "content-length", "user-agent"})
_Status = Annotated[int, Field(ge=200, le=499)]


class AuthKind(enum.Enum):
    """Where a verification request carries the secret."""

    BEARER = "bearer"
    """``Authorization: Bearer <secret>``."""
    BASIC_USER = "basic-user"
    """HTTP Basic with the secret as user name and an empty password (Stripe)."""
    BASIC_PASSWORD = "basic-password"  # bastion: ignore[sast.bandit.B105] names an auth style
    """HTTP Basic with ``username`` and the secret as password (Mailgun)."""
    HEADER = "header"
    """A named header holds the bare secret (``header:X-Api-Key``)."""
    QUERY = "query"
    """A named query parameter holds the secret (``query:key``). Prefer a header where the
    provider takes one: URLs end up in proxy and server access logs."""
    PATH = "path"
    """The secret replaces ``{secret}`` in the URL path (Telegram's ``/bot{secret}/getMe``)."""


class VerifySpec(_Strict):
    """A rule's ``verify`` table: one read-only request that tells a live secret from a dead one."""

    provider: Annotated[str, Field(pattern=_PROVIDER)]
    """Groups rules by API; ``verify_base_urls`` overrides the URL origin per provider."""
    url: str
    """``https`` URL of an endpoint that reads the caller's identity and changes nothing."""
    auth: Annotated[str, Field(pattern=_AUTH)]
    """Where the secret goes; see :class:`AuthKind`."""
    method: Literal["GET", "POST"] = "GET"
    username: str | None = None
    """The user name for ``basic-password``."""
    headers: dict[Annotated[str, Field(pattern=_HEADER_NAME)], str] = {}
    """Static extra headers, e.g. an API version; never the secret."""
    body: str | None = None
    """Static JSON body of a ``POST`` (a GraphQL ``viewer`` query)."""
    ok: Annotated[list[_Status], Field(min_length=1)]
    """Statuses meaning the provider accepted the secret."""
    invalid: Annotated[list[_Status], Field(min_length=1)]
    """Statuses meaning the provider rejected it."""
    require_true: Annotated[str, Field(min_length=1)] | None = None
    """A top-level JSON field an ``ok`` response must hold as ``true`` (Slack's ``ok``);
    ``false`` means invalid."""

    @property
    def auth_kind(self) -> AuthKind:
        """The style of :attr:`auth`, without its header or parameter name."""
        return AuthKind(self.auth.partition(":")[0])

    @property
    def auth_name(self) -> str:
        """The header or query parameter name of ``header:NAME`` / ``query:NAME``, else ``""``."""
        return self.auth.partition(":")[2]

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https URL with a host")
        if parts.username is not None or parts.fragment:
            raise ValueError("must not hold credentials or a fragment")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> VerifySpec:
        kind = self.auth_kind
        parts = urlsplit(self.url)
        if (kind is AuthKind.PATH) != (SECRET_PLACEHOLDER in parts.path):
            raise ValueError(f"auth 'path' and a {SECRET_PLACEHOLDER} in the url path go together")
        if SECRET_PLACEHOLDER in parts.netloc + parts.query:
            raise ValueError(f"{SECRET_PLACEHOLDER} may only appear in the url path")
        if (kind is AuthKind.BASIC_PASSWORD) != (self.username is not None):
            raise ValueError("auth 'basic-password' and username go together")
        if self.body is not None and self.method != "POST":
            raise ValueError("a body needs method POST")
        if set(self.ok) & set(self.invalid):
            raise ValueError("a status cannot be both ok and invalid")
        if 429 in self.ok or 429 in self.invalid:
            raise ValueError("429 means rate limited: it is neither ok nor invalid")
        if any(not 400 <= code < 500 for code in self.invalid):
            raise ValueError("invalid statuses are 4xx")
        if any(300 <= code < 400 for code in self.ok):
            raise ValueError("redirects are never followed, so a 3xx cannot be ok")
        reserved = sorted(name for name in self.headers if name.lower() in _RESERVED_HEADERS)
        if reserved:
            raise ValueError(f"header {reserved[0]!r} is set by the verifier, not the rule")
        return self


class RuleSpec(_Strict):
    """One ``[[rules]]`` table as written in a rule file."""

    id: Annotated[str, Field(pattern=_RULE_ID)]
    description: Annotated[str, Field(min_length=3)]
    regex: str
    keywords: Annotated[list[Annotated[str, Field(min_length=2)]], Field(min_length=1)]
    severity: Severity
    confidence: Confidence
    examples: ExamplesSpec
    entropy: Annotated[float, Field(ge=0, le=8)] | None = None
    confident_entropy: Annotated[float, Field(ge=0, le=8)] | None = None
    """At or above this entropy a ``low`` confidence rule reports ``medium``: a long random
    bearer token is one, ``Bearer abcabcabc…`` in a test fixture is not."""
    validator: ValidatorName | None = None
    multiline: bool = False
    pair: PairSpec | None = None
    verify: VerifySpec | None = None

    @field_validator("regex")
    @classmethod
    def _compiles_with_secret_group(cls, value: str, info: ValidationInfo) -> str:
        if info.context and info.context.get("trusted"):
            return value  # built-in rules: the test suite compiles and runs every one
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"does not compile: {exc}") from None
        if "secret" not in pattern.groupindex:
            raise ValueError("needs a capture group named 'secret'")
        return value


class RuleFile(_Strict):
    """A whole rule file."""

    rules: Annotated[list[RuleSpec], Field(min_length=1)]


@dataclass(frozen=True)
class Rule:
    """A loaded rule: the spec's fields plus its compiled pattern and its origin."""

    id: str
    description: str
    regex: str
    keywords: tuple[str, ...]
    severity: Severity
    confidence: Confidence
    entropy: float | None
    validator: ValidatorName | None
    multiline: bool
    pair: PairSpec | None
    examples: ExamplesSpec
    source: Path
    verify: VerifySpec | None = None
    """How to check a hit against the provider, or None for rules that cannot be verified."""
    confident_entropy: float | None = None
    """Entropy at or above which the rule's confidence rises to at least medium."""

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The compiled regex, compiled the first time the prefilter lets a text reach it:
        most of the ~350 rules never fire on a given repository, and compiling all of them
        was half of the scanner's start-up."""
        return re.compile(self.regex)


@dataclass(frozen=True)
class RuleSet:
    """Every rule of a run, in load order, with unique ids."""

    rules: tuple[Rule, ...]

    def by_id(self, rule_id: str) -> Rule:
        """The rule called ``rule_id``; ``KeyError`` if there is none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def without(self, rule_ids: Iterable[str]) -> RuleSet:
        """A copy without the rules in ``rule_ids``."""
        dropped = set(rule_ids)
        return RuleSet(tuple(r for r in self.rules if r.id not in dropped))


def _error_text(path: Path, raw: object, exc: ValidationError) -> str:
    error = first_error(exc)
    loc = [str(part) for part in error["loc"]]
    where = ".".join(loc) or "(root)"
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(raw, dict):
        index = int(loc[1])
        rules = raw.get("rules")
        if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
            rule_id = rules[index].get("id")
            if isinstance(rule_id, str):
                where = f"rule {rule_id!r}: " + (".".join(loc[2:]) or "(rule)")
    return f"{path}: {where}: {reason_of(error)}"


def load_rule_file(path: Path, *, trusted: bool = False) -> list[Rule]:
    """Parse and validate one rule file; :class:`ConfigError` naming file and field if bad.

    ``trusted`` (Bastion's own rule files) skips compiling regexes up front; they compile
    on first use instead, and their parsed TOML comes from the cache of ``tomlcache.py``.
    """
    try:
        text = path.read_text(encoding="utf-8")
        raw = loads_cached(text) if trusted else tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read rule file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        spec = RuleFile.model_validate(raw, context={"trusted": trusted})
    except ValidationError as exc:
        raise ConfigError(_error_text(path, raw, exc)) from None
    return [_compile(rule, path) for rule in spec.rules]


def _compile(spec: RuleSpec, path: Path) -> Rule:
    return Rule(
        id=spec.id,
        description=spec.description,
        regex=spec.regex,
        keywords=tuple(sorted({k.lower() for k in spec.keywords})),
        severity=spec.severity,
        confidence=spec.confidence,
        entropy=spec.entropy,
        validator=spec.validator,
        multiline=spec.multiline,
        pair=spec.pair,
        examples=spec.examples,
        source=path,
        verify=spec.verify,
        confident_entropy=spec.confident_entropy,
    )


def load_ruleset(directories: Sequence[Path]) -> RuleSet:
    """Load every ``*.toml`` rule file under ``directories``, in order, sorted within each.

    Raises :class:`ConfigError` for a missing directory, a malformed file, a duplicate
    rule id or a pairing that names an unknown rule.
    """
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for directory in directories:
        if not directory.is_dir():
            raise ConfigError(f"{directory}: secrets rule directory not found")
        for path in sorted(directory.glob("*.toml")):
            for rule in load_rule_file(path, trusted=directory == BUILTIN_RULES):
                if rule.id in seen:
                    raise ConfigError(f"{path}: rule {rule.id!r}: id: already defined in {seen[rule.id]}")
                seen[rule.id] = path
                rules.append(rule)
    for rule in rules:
        if rule.pair is not None and rule.pair.rule not in seen:
            raise ConfigError(f"{rule.source}: rule {rule.id!r}: pair.rule: unknown rule {rule.pair.rule!r}")
    return RuleSet(tuple(rules))


@lru_cache(maxsize=8)
def cached_ruleset(directories: tuple[Path, ...]) -> RuleSet:
    """:func:`load_ruleset`, once per process for each tuple of directories.

    Compiling a few hundred regexes costs tens of milliseconds; a sharded scan calls
    this once per shard, so the cache keeps that cost to once per worker process.
    """
    return load_ruleset(directories)
