"""Generic secrets: ``password`` / ``secret`` / ``token`` / ``api_key`` assignments.

Covers code and configuration alike: YAML, JSON, TOML, INI, ``.env``, Java properties,
XML, Terraform, Dockerfile ``ENV``/``ARG`` and shell ``export``. A candidate is scored
by entropy, character classes and context: in source code only quoted literals count
(``password = get_password()`` is not a secret); in configuration formats bare values
count too. The result is a severity and a confidence; provider rules win any overlap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bastion.findings import Confidence, Severity
from bastion.scan.secrets.entropy import char_classes, shannon_entropy
from bastion.scan.secrets.filters import Screen, screen

__all__ = [
    "GENERIC_KEYWORDS",
    "GENERIC_RULES",
    "GenericMatch",
    "accepts_bare_values",
    "find_docker_env",
    "find_generic",
]

GENERIC_KEYWORDS = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "_pass",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "access-key",
    "authkey",
    "auth_key",
    "private_key",
    "privatekey",
    "credential",
)
"""Prefilter keywords of the generic detector."""

GENERIC_RULES: dict[str, str] = {
    "secrets.generic-password": "Hard-coded password",
    "secrets.generic-secret": "Hard-coded secret",
    "secrets.generic-token": "Hard-coded token",
    "secrets.generic-api-key": "Hard-coded API or access key",
    "secrets.generic-private-key": "Hard-coded private key value",
    "secrets.generic-credential": "Hard-coded credential",
}
"""Rule ids the generic detector emits, with their titles."""

_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_.\-]?key|access[_.\-]?key"
    r"|auth[_.\-]?key|private[_.\-]?key|credentials?"
)
_KEY = r"[A-Za-z0-9_.\-]{0,40}?(?i:" + _WORDS + r")[A-Za-z0-9_.\-]{0,30}"
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_MAX_KEY_PREFIX = 40
CONTEXT = 160
"""Characters either side of a value that the filters look at."""
_VALUE = (
    r"""(?:(?P<q>["'`])(?P<quoted>[^"'`\s\\]{1,256})(?P=q)"""
    r"""|(?P<bare>[^\s"'`,;#&|<>(){}\[\]][^\s"'`,;|<>(){}\[\]]{0,255}))"""
)
# Each pattern starts at the secret word itself (not at the start of the key), so a search
# costs one cheap first-character test per position; the key's prefix is read back in Python.
# Formatters (terraform fmt, YAML/TOML aligners) pad keys with many spaces before the operator.
_ASSIGN = re.compile(
    r"(?i:"
    + _WORDS
    + r")[A-Za-z0-9_.\-]{0,30}"
    + r"""["'`]?\]?[ \t]{0,40}(?::=|=>|=|:)[ \t]{0,10}"""
    + _VALUE
)
_XML_ELEMENT = re.compile(r"(?i:" + _WORDS + r")[A-Za-z0-9_.\-]{0,30}>(?P<quoted>[^<>\s]{1,256})</")
_XML_KEY_VALUE = re.compile(
    r"""(?i:key|name)\s*=\s*["'](?P<key>"""
    + _KEY
    + r""")["']\s+(?i:value)\s*=\s*["'](?P<quoted>[^"'\s]{1,256})["']"""
)
_DOCKER_ENV = re.compile(r"^\s*(?:ENV|ARG)\s+(?P<key>" + _KEY + r")\s+(?P<bare>\S{1,256})\s*$", re.MULTILINE)
_WORD_RE = re.compile(r"(?i:" + _WORDS + r")")

_CONFIG_SUFFIXES = frozenset(
    {".env", ".ini", ".cfg", ".conf", ".config", ".properties", ".yaml", ".yml", ".toml", ".sh", ".bash"}
    | {".zsh", ".tf", ".tfvars", ".hcl", ".xml", ".json", ".envrc", ".npmrc", ".pypirc", ".netrc", ".plist"}
)
_CONFIG_NAMES = ("dockerfile", ".env", "containerfile", ".npmrc", ".pypirc", ".netrc", ".envrc")
_NOT_SECRET_SUFFIXES = frozenset(
    [
        "name",
        "type",
        "field",
        "file",
        "path",
        "dir",
        "id",
        "url",
        "uri",
        "endpoint",
        "host",
        "length",
        "len",
        "size",
        "count",
        "min",
        "max",
        "regex",
        "pattern",
        "prompt",
        "label",
        "hint",
        "placeholder",
        "header",
        "policy",
        "mode",
        "format",
        "ttl",
        "timeout",
        "expiry",
        "expires",
        "expiration",
        "enabled",
        "required",
        "env",
        "var",
        "variable",
        "ref",
        "arn",
        "hash",
        "version",
        "method",
        "provider",
        "manager",
        "store",
        "location",
        "source",
        "class",
        "kind",
        "input",
        "param",
        "query",
        "error",
        "message",
        "msg",
        "text",
        "question",
        "reset",
        "changed",
        "rule",
        "strength",
        "validator",
        "validation",
        "widget",
        "form",
        "template",
        "scope",
        "scopes",
        "audience",
        "issuer",
        "algorithm",
        "alg",
        "lifetime",
        "duration",
        "limit",
        "prefix",
        "key_name",
        "secret_name",
        "uses",
        "usage",
        "endpoint_url",
        "help",
        "description",
    ]
)
_BOOLEANISH = frozenset({"true", "false", "null", "none", "nil", "yes", "no", "on", "off", "undefined"})
_PATHLIKE = re.compile(r"^(?:/|\./|\.\./|~/|[A-Za-z]:\\)[^\s]*$")
# Code references, not secrets: entry points (``pkg.mod:Attr``) and dotted names of three or
# more identifiers (``settings.auth.TOKEN_URL``).
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_CODE_REFERENCE = re.compile(
    rf"^{_IDENT}(?:\.{_IDENT})*:{_IDENT}(?:\.{_IDENT})*$|^{_IDENT}(?:\.{_IDENT}){{2,}}$"
)


@dataclass(frozen=True, repr=False)
class GenericMatch:
    """One generic candidate that survived scoring."""

    rule_id: str
    severity: Severity
    confidence: Confidence
    start: int
    """Offset of the value in the scanned text."""
    end: int
    secret: str
    screen: Screen
    entropy: float

    def __repr__(self) -> str:
        return f"GenericMatch({self.rule_id}, {self.start}-{self.end})"


def accepts_bare_values(path: str) -> bool:
    """Whether unquoted values count in ``path``: configuration formats yes, source code no."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.startswith(_CONFIG_NAMES) or name.endswith(".env"):
        return True
    dot = name.rfind(".")
    return dot >= 0 and name[dot:] in _CONFIG_SUFFIXES


def _category(key: str) -> str | None:
    """The rule id for ``key``, or None when the key does not name a secret."""
    lowered = key.lower()
    if "public" in lowered or "publishable" in lowered or lowered.startswith("pub_"):
        return None
    match = None
    for candidate in _WORD_RE.finditer(key):
        match = candidate
    if match is None:
        return None
    word = match.group(0).lower()
    after = key[match.end() :]
    before = key[: match.start()]
    if after[:1].islower() and not after.lower().startswith("s"):
        return None  # tokenizer, secretary, passwordless
    if after[:1] == "s" and after[1:2].isalpha():
        return None
    if word.startswith(("pass", "pwd")) and before[-1:].islower() and match.group(0)[:1].islower():
        return None  # bypass, compass
    tail = re.split(r"[_.\-]|(?<=[a-z0-9])(?=[A-Z])", after.lstrip("sS_.-"))
    if tail and tail[-1].lower() in _NOT_SECRET_SUFFIXES:
        return None
    if word.startswith(("pass", "pwd")):
        return "secrets.generic-password"
    if word.startswith("secret"):
        return "secrets.generic-secret"
    if word.startswith("token"):
        return "secrets.generic-token"
    if word.startswith("private"):
        return "secrets.generic-private-key"
    if word.startswith("credential"):
        return "secrets.generic-credential"
    return "secrets.generic-api-key"


def _score(value: str) -> tuple[Confidence, float]:
    entropy = shannon_entropy(value)
    classes = char_classes(value)
    if len(value) >= 16 and entropy >= 3.5 and classes >= 3:
        return Confidence.HIGH, entropy
    if len(value) >= 20 and entropy >= 4.0 and classes >= 2:
        return Confidence.HIGH, entropy
    if len(value) >= 8 and entropy >= 2.5 and classes >= 2:
        return Confidence.MEDIUM, entropy
    return Confidence.LOW, entropy


_SEPARATORS = re.compile(r"[\s_.\-]+")
_LABEL_VALUE = re.compile(r"^[a-z]+(?:[_.\-][a-z]+)*$")
_WORD_ONLY = re.compile(_WORDS, re.IGNORECASE)


def _is_label(key: str, value: str) -> bool:
    """``password: "password"``, ``BASIC_PASSWORD = "basic-password"``,
    ``_CREDENTIAL = "bastion.credential"``: names and labels, not secrets. A lower-case word
    sequence without digits that contains the key's secret word names something."""
    flat_key, flat_value = _SEPARATORS.sub("", key.lower()), _SEPARATORS.sub("", value.lower())
    if flat_value in flat_key:
        return True
    return bool(_LABEL_VALUE.match(value)) and bool(_WORD_ONLY.search(value))


def _assess(key: str, value: str, start: int, context: str) -> GenericMatch | None:
    rule_id = _category(key)
    if rule_id is None or len(value) < 6 or value.lower() in _BOOLEANISH or value.isdigit():
        return None
    if _PATHLIKE.match(value) or _CODE_REFERENCE.match(value) or "://" in value:
        return None
    if value.startswith(("!", "@", "$", "%")):
        return None
    verdict = screen(value, context, generic=True)
    if verdict.drops:
        return None
    if _is_label(key, value):
        return None
    confidence, entropy = _score(value)
    weak = verdict is Screen.DEV_DEFAULT
    severity = Severity.LOW if weak else Severity.MEDIUM
    if weak:
        confidence = Confidence.LOW
    return GenericMatch(rule_id, severity, confidence, start, start + len(value), value, verdict, entropy)


def _key_span(text: str, start: int, pos: int, endpos: int) -> tuple[int, int]:
    """The key around a secret word found at ``start``: extend over key characters both ways."""
    begin, end = start, start
    limit = max(pos, start - _MAX_KEY_PREFIX)
    while begin > limit and text[begin - 1] in _KEY_CHARS:
        begin -= 1
    while end < endpos and text[end] in _KEY_CHARS:
        end += 1
    return begin, end


def _context(text: str, pos: int, endpos: int, start: int) -> str:
    return text[max(pos, start - CONTEXT) : min(endpos, start + CONTEXT)]


def find_generic(text: str, pos: int, endpos: int, *, bare_values: bool) -> Iterator[GenericMatch]:
    """Yield generic candidates in ``text[pos:endpos]`` (one line or one window of a line)."""
    for match in _ASSIGN.finditer(text, pos, endpos):
        group = "quoted" if match.group("quoted") is not None else "bare"
        if group == "bare" and not bare_values:
            continue
        begin, end = _key_span(text, match.start(), pos, endpos)
        start = match.start(group)
        found = _assess(text[begin:end], match.group(group), start, _context(text, pos, endpos, start))
        if found is not None:
            yield found
    if text.find("<", pos, endpos) < 0:
        return
    for match in _XML_ELEMENT.finditer(text, pos, endpos):
        begin, end = _key_span(text, match.start(), pos, endpos)
        if begin == 0 or text[begin - 1] != "<":
            continue
        start = match.start("quoted")
        found = _assess(text[begin:end], match.group("quoted"), start, _context(text, pos, endpos, start))
        if found is not None:
            yield found
    for match in _XML_KEY_VALUE.finditer(text, pos, endpos):
        start = match.start("quoted")
        found = _assess(match.group("key"), match.group("quoted"), start, _context(text, pos, endpos, start))
        if found is not None:
            yield found


def find_docker_env(text: str, pos: int, endpos: int) -> GenericMatch | None:
    """A Dockerfile ``ENV KEY value`` / ``ARG KEY value`` line (space-separated form)."""
    env = _DOCKER_ENV.match(text, pos, endpos)
    if env is None:
        return None
    start = env.start("bare")
    return _assess(env.group("key"), env.group("bare"), start, _context(text, pos, endpos, start))
