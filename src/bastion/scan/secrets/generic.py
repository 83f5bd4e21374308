"""Generic secrets: ``password`` / ``secret`` / ``token`` / ``api_key`` assignments.

Covers code and configuration alike: YAML, JSON, TOML, INI, ``.env``, Java properties,
XML, Terraform, Dockerfile ``ENV``/``ARG`` and shell ``export``. A candidate is scored
by entropy, character classes and context: in source code only quoted literals count
(``password = get_password()`` is not a secret); in configuration formats bare values
count too. The result is a severity and a confidence; provider rules win any overlap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bastion.findings import Confidence, Severity
from bastion.scan.secrets.entropy import char_classes, shannon_entropy
from bastion.scan.secrets.filters import Screen, screen

__all__ = [
    "GENERIC_KEYWORDS",
    "GENERIC_RULES",
    "KEY_PREFIXES",
    "GenericMatch",
    "accepts_bare_values",
    "find_docker_env",
    "find_generic",
    "is_prose",
]

KEY_PREFIXES = (
    "api",
    "access",
    "auth",
    "private",
    "secret",
    "encryption",
    "encrypt",
    "signing",
    "hmac",
    "master",
    "aes",
    "jwt",
    "session",
    "cookie",
    "client",
    "app",
    "consumer",
    "cipher",
    "crypto",
    "shared",
)
"""Words that make a secret of a following ``key``: ``api_key``, ``signingKey``, ``aes.key``.

A bare ``key`` is not one: dictionary keys, ``key = "id"`` and sort keys are everywhere."""
_KEY_WORDS = tuple(prefix + "key" for prefix in KEY_PREFIXES)

GENERIC_KEYWORDS = (
    "pass",  # password, passwd, passphrase, db_pass, dbPass, db.pass
    "pwd",
    "secret",
    "token",
    "credential",
    *(prefix + sep + "key" for prefix in KEY_PREFIXES if prefix != "secret" for sep in ("", "_", ".", "-")),
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
    r"pass(?:word|wd|phrase)?|pwd|secret|token|credentials?"
    r"|(?:" + "|".join(p for p in KEY_PREFIXES if p != "secret") + r")[_.\-]?key"
)
_KEY = r"[A-Za-z0-9_.\-]{0,40}?(?i:" + _WORDS + r")[A-Za-z0-9_.\-]{0,30}"
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_MAX_KEY_PREFIX = 40
CONTEXT = 160
"""Characters either side of a value that the filters look at."""
_VALUE = (
    r"""(?:(?P<q>["'`])(?P<quoted>[^"'`\s\\]{1,256})(?P=q)"""
    r"""|(?P<bare>(?:&(?!&)|[^\s"'`,;#&|<>(){}\[\]])[^\s"'`,;|<>(){}\[\]]{0,255}))"""
)
# A type annotation between a name and its ``=``: ``password: string``, ``val pw: String?``,
# ``token: Optional[str]``, Go's ``var password string``. Never taken as the value.
_TYPE = r"[A-Za-z_][\w.]{0,40}(?:[<\[][^<>\[\]\n=;]{0,60}[>\]])?(?:\[\])?\??"
# Each pattern starts at the secret word itself (not at the start of the key), so a search
# costs one cheap first-character test per position; the key's prefix is read back in Python.
# Formatters (terraform fmt, YAML/TOML aligners) pad keys with many spaces before the operator.
# ``comma``: a quoted key, a comma and (checked in Python) a quoted value, as call arguments:
# ``props.put("db.password", "…")``, PHP ``define('DB_PASSWORD', '…')``, ``setenv("K", "…")``.
_ASSIGN = re.compile(
    r"(?i:"
    + _WORDS
    + r")[A-Za-z0-9_.\-]{0,30}"
    + r"""(?:(?P<comma>["'`][ \t]{0,3},)|["'`]?\]?\??(?:[ \t]{0,3}:[ \t]{0,3}"""
    + _TYPE
    + r"""[ \t]{0,3}=(?![=>~])|[ \t]{1,3}"""
    + _TYPE
    + r"""[ \t]{1,3}=(?![=>~])|[ \t]{0,40}(?::=|=>|=|:)))[ \t]{0,10}"""
    + _VALUE
)
_XML_ELEMENT = re.compile(r"(?i:" + _WORDS + r")[A-Za-z0-9_.\-]{0,30}>(?P<quoted>[^<>\s]{1,256})</")
_XML_KEY_VALUE = re.compile(
    r"""(?i:key|name)\s*=\s*["'](?P<key>"""
    + _KEY
    + r""")["']\s+(?i:value)\s*=\s*["'](?P<quoted>[^"'\s]{1,256})["']"""
)
_DOCKER_ENV = re.compile(r"^\s*(?:ENV|ARG)\s+(?P<key>" + _KEY + r")\s+(?P<bare>\S{1,256})\s*$", re.MULTILINE)
# A shell variable assignment alone on its line, up to the key: ``export DB_PASSWORD=…`` in
# any file (a snippet in a README, a comment, a CI script), ``API_KEY=…`` in prose files.
_LINE_END = re.compile(r"[ \t]*(?:\r?\n|\Z)")
_EXPORT_LINE = re.compile(r"[ \t]*export[ \t]+")
_ENV_LINE = re.compile(r"[ \t]*(?:export[ \t]+)?")
_PROSE_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".txt", ".adoc", ".asciidoc", ".org"})

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
# A base64 secret starts with ``/`` one time in 64: padding, ``+``, or a long segment mixing
# upper case, lower case and digits is key material, not a file system path.
_BASE64_SEGMENT = re.compile(r"(?=[^/\\]*[a-z])(?=[^/\\]*[A-Z])(?=[^/\\]*[0-9])[A-Za-z0-9]{12,}")
# Code references, not secrets: entry points (``pkg.mod:Attr``, module names in lower case as
# PEP 8 has them) and dotted names of three or more identifiers (``settings.auth.TOKEN_URL``).
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_MODULE = r"[a-z_][a-z0-9_]*"
_CODE_REFERENCE = re.compile(
    rf"^{_MODULE}(?:\.{_MODULE})*:{_IDENT}(?:\.{_IDENT})*$|^{_IDENT}(?:\.{_IDENT}){{2,}}$"
)
_VOWELS = frozenset("aeiouAEIOU")


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


# A key's words: ``db_password`` -> db, password; ``dbPass`` -> db, Pass; ``APIKey`` -> API, Key;
# ``TOKENIZER`` stays one word, so it never reads as ``TOKEN``.
_KEY_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_WORD_RULES = (
    ("secrets.generic-password", ("password", "passwords", "passwd", "passphrase", "pass", "pwd")),
    ("secrets.generic-secret", ("secret", "secrets")),
    ("secrets.generic-token", ("token", "tokens")),
    ("secrets.generic-credential", ("credential", "credentials")),
)
_WHOLE_WORDS = {word: rule_id for rule_id, words in _WORD_RULES for word in words}
# Words that may end a run-together key (``dbpassword``, ``ACCESSTOKEN``, ``xapikey``); not
# ``pass``: bypass, compass, trespass.
_SUFFIX_WORDS = tuple(w for w in _WHOLE_WORDS if not w.startswith(("pass", "pwd")) or len(w) > 4)
_KEY_RULE = dict(
    zip(("private", "secret"), ("secrets.generic-private-key", "secrets.generic-secret"), strict=True)
)
# Identifiers and words without digits: names, not secrets, when passed beside a key name.
_PLAIN_WORDS = re.compile(r"^[A-Za-z]+(?:[_.:\-]+[A-Za-z]+)*$")
# Values of ``*_key`` names that name something (``SESSION_KEY = "_auth_user_id"``).
_NAME_VALUE = re.compile(r"^_*(?:[a-z]+(?:[_.:\-]+[a-z]+)*|[A-Z]+(?:[_.:\-]+[A-Z]+)*)_*$")


def _key_word(part: str, following: str) -> tuple[str, int] | None:
    """The rule id of a secret word starting at ``part`` and how many parts it spans."""
    if part in _WHOLE_WORDS:
        return _WHOLE_WORDS[part], 1
    if part in KEY_PREFIXES and following in ("key", "keys"):
        return _KEY_RULE.get(part, "secrets.generic-api-key"), 2
    for prefix in KEY_PREFIXES:
        if part.endswith(prefix + "key") or part.endswith(prefix + "keys"):
            return _KEY_RULE.get(prefix, "secrets.generic-api-key"), 1
    for word in _SUFFIX_WORDS:
        if part.endswith(word) and len(part) > len(word):
            return _WHOLE_WORDS[word], 1
    return None


def _category(key: str) -> str | None:
    """The rule id for ``key``, or None when the key does not name a secret.

    The secret word must be a whole word of the key in any case style (``db_password``,
    ``dbPassword``, ``DB.PASSWORD``, ``dbpassword``), never the start of a longer word
    (``tokenizer``, ``TOKENIZER``, ``PASSTHROUGH``, ``Secretary``, ``bypass``); the last such
    word decides, and a trailing word like ``_url`` or ``_length`` makes the key a non-secret.
    """
    lowered = key.lower()
    if "public" in lowered or "publishable" in lowered or lowered.startswith("pub_"):
        return None
    parts = [part.lower() for part in _KEY_PARTS.findall(key)]
    found: tuple[str, int] | None = None
    index = 0
    while index < len(parts):
        word = _key_word(parts[index], parts[index + 1] if index + 1 < len(parts) else "")
        if word is None:
            index += 1
            continue
        found = (word[0], index + word[1])
        index += word[1]
    if found is None:
        return None
    rule_id, end = found
    tail = parts[end:]
    if tail and tail[-1] in _NOT_SECRET_SUFFIXES:
        return None
    return rule_id


def _names_a_key(key: str) -> bool:
    """Whether ``key``'s secret word is a ``*_key`` compound (``signing_key``, ``hmacKey``)."""
    parts = [part.lower() for part in _KEY_PARTS.findall(key)]
    return any(part in ("key", "keys") or part.endswith(_KEY_WORDS) for part in parts)


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


# Expressions, not values, when unquoted: Terraform / HCL references (``var.db_password``,
# ``local.pw``, ``module.db.password``, ``data.x.y``, ``each.value``).
_HCL_REFERENCE = re.compile(r"^(?:var|local|module|data|each|self|count|path|terraform)\.[A-Za-z_]")


def _assess(key: str, value: str, start: int, context: str, *, bare: bool = False) -> GenericMatch | None:
    rule_id = _category(key)
    if rule_id is None or len(value) < 6 or value.lower() in _BOOLEANISH or value.isdigit():
        return None
    if _is_path(value) or _CODE_REFERENCE.match(value) or "://" in value:
        return None
    if bare and _HCL_REFERENCE.match(value):
        return None
    if _NAME_VALUE.match(value) and _names_a_key(key):
        return None
    verdict = screen(value, context, generic=True, key=key)
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


def is_prose(path: str) -> bool:
    """Whether ``path`` is documentation (Markdown, reStructuredText, text), where shell
    snippets (``API_KEY=…`` on a line of its own) show real values too."""
    name = path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return dot >= 0 and name[dot:] in _PROSE_SUFFIXES


def _shell_assignment(text: str, span: tuple[int, int, int], value_start: int, *, prose: bool) -> bool:
    """Whether a bare value is a shell assignment: ``export KEY=value`` anywhere, or
    ``KEY=value`` in prose, with ``=`` right after the key and the key first on its line.

    ``span`` is (line start, key start, key end).
    """
    pos, begin, end = span
    if value_start != end + 1 or text[end] != "=":
        return False
    lead = (_ENV_LINE if prose else _EXPORT_LINE).match(text, pos, begin)
    return lead is not None and lead.end() == begin


def _assignments(text: str, pos: int, endpos: int, starts: Iterable[int] | None) -> Iterator[re.Match[str]]:
    """``_ASSIGN`` matches in ``text[pos:endpos]``; with ``starts`` (the prefilter's keyword
    offsets: every match begins at one) only tried there, not at every position."""
    if starts is None:
        yield from _ASSIGN.finditer(text, pos, endpos)
        return
    last = pos
    for start in sorted(set(starts)):
        if start < last or start >= endpos:
            continue
        match = _ASSIGN.match(text, start, endpos)
        if match is not None:
            last = match.end()
            yield match


def _call_pair(text: str, pos: int, begin: int, match: re.Match[str], group: str) -> bool:
    """A ``("key", "value")`` pair is a call's first two arguments (``put("db.password", "…")``,
    ``define('DB_PASSWORD', '…')``), not a list or tuple (``["token", "ci_trigger"]``,
    ``("password", "salt")``) nor names (``Unit("secret", "aws-pair")``): the key opens a
    named call and the value is no plain word."""
    if group != "quoted" or begin == pos or text[begin - 1] != match.group("comma")[0]:
        return False
    before = text[max(pos, begin - 8) : begin - 1].rstrip()
    if len(before) < 2 or before[-1] != "(" or not (before[-2].isalnum() or before[-2] == "_"):
        return False  # not ``name(``: a tuple of test vectors, ``("password", "salt", 16)``
    return not is_plain_words(match.group("quoted"))


def is_plain_words(value: str) -> bool:
    """Whether ``value`` reads as words (``aws-pair``, ``ciTrigger``), not as random letters:
    a long run of letters with few vowels (``BIxzRHqQiExrSrwC…``) is key material."""
    if not _PLAIN_WORDS.match(value):
        return False
    letters = [c for c in value if c.isalpha()]
    return len(letters) < 12 or sum(c in _VOWELS for c in letters) / len(letters) >= 0.2


def _is_path(value: str) -> bool:
    """A file system path (``/etc/ssl/key.pem``, ``./certs``), not base64 that starts with ``/``."""
    if not _PATHLIKE.match(value):
        return False
    return not ("+" in value or value.endswith("=") or _BASE64_SEGMENT.search(value))


def find_generic(
    text: str,
    pos: int,
    endpos: int,
    *,
    bare_values: bool,
    prose: bool = False,
    starts: Iterable[int] | None = None,
) -> Iterator[GenericMatch]:
    """Yield generic candidates in ``text[pos:endpos]`` (one line or one window of a line).

    ``bare_values``: unquoted values count (configuration formats); elsewhere only on a shell
    assignment line (``export KEY=value``; in ``prose`` files also ``KEY=value``). ``starts``:
    where the generic keywords occur, when the caller knows (the detector's prefilter).
    """
    for match in _assignments(text, pos, endpos, starts):
        group = "quoted" if match.group("quoted") is not None else "bare"
        begin, end = _key_span(text, match.start(), pos, endpos)
        if match.group("comma") is not None and not _call_pair(text, pos, begin, match, group):
            continue
        if group == "bare" and not bare_values:
            if not _shell_assignment(text, (pos, begin, end), match.start("bare"), prose=prose):
                continue
            if _LINE_END.match(text, match.end("bare"), endpos) is None:
                continue  # something follows the value: not a plain assignment
        start = match.start(group)
        found = _assess(
            text[begin:end],
            match.group(group),
            start,
            _context(text, pos, endpos, start),
            bare=group == "bare",
        )
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
    """A Dockerfile ``ENV KEY value`` / ``ARG KEY value`` line (space-separated form).

    A quoted value (``ENV KEY 'value'``) is judged without its quotes, so the anchored
    filters (bcrypt hashes, ``%VAR%``, ``${VAR}``) see it as they would any other value.
    """
    env = _DOCKER_ENV.match(text, pos, endpos)
    if env is None:
        return None
    value, start = env.group("bare"), env.start("bare")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value, start = value[1:-1], start + 1
    elif value[:1] in "\"'":
        return None  # a quoted value with spaces: not one word
    return _assess(env.group("key"), value, start, _context(text, pos, endpos, start), bare=True)
