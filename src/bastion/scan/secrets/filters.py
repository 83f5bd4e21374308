"""False-positive control: tell a secret from the things that only look like one.

:func:`screen` returns a :class:`Screen` for a candidate. Most verdicts drop it
(placeholders, documented example values, environment and secret-manager lookups,
hashes, lockfile integrity strings, UUIDs, data URIs, public keys). One keeps it at low
severity: a local development default (a PostgreSQL URI on localhost whose user and
password are both ``postgres``) is still a secret in the repository, just not an urgent one.
"""

from __future__ import annotations

import enum
import itertools
import re

__all__ = ["Screen", "is_placeholder", "is_reference", "screen", "unescape_xml"]


class Screen(enum.Enum):
    """The verdict on one candidate secret."""

    KEEP = "keep"
    DEV_DEFAULT = "dev-default"
    """A well-known default credential on a local host: kept at low severity."""
    LOCAL = "local"
    """Some other credential for a local host: kept, capped at medium severity."""
    PLACEHOLDER = "placeholder"
    EXAMPLE = "example"
    LOOKUP = "lookup"
    HASH = "hash"
    INTEGRITY = "integrity"
    UUID = "uuid"
    DATA_URI = "data-uri"
    PUBLIC_KEY = "public-key"

    @property
    def drops(self) -> bool:
        """Whether this verdict removes the candidate."""
        return self not in {Screen.KEEP, Screen.DEV_DEFAULT, Screen.LOCAL}


DOCUMENTED_EXAMPLES = frozenset(
    {
        # AWS documentation (IAM user guide, CLI docs).
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        # Stripe API reference test keys.
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
        # jwt.io's default token.
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6Ikpva"
        "G4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }
)

_PLACEHOLDER_WORDS = (
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "your_",
    "your-",
    "<your",
    "yourkey",
    "yourtoken",
    "yourpassword",
    "yoursecret",
    "placeholder",
    "dummy",
    "redacted",
    "replace_me",
    "replaceme",
    "replace-me",
    "insert_",
    "insert-",
    "_here",
    "-here",
    "xxxx",
    "****",
    "....",
    "<redacted>",
    "notasecret",
    "not_a_secret",
    "not-a-real",
    "notreal",
    "abcdefgh",
    "12345678",
    "0123456789",
    "qwerty",
)
_TEMPLATE = re.compile(
    r"\$\{[^}]*\}|\{\{.*?\}\}|\$\([^)]*\)|#\{[^}]*\}|%\([^)]*\)s|<%=?|^<[^>]+>$|^%[A-Za-z_]\w*%$"
    r"|^\{[A-Za-z_]\w*\}$|^@[A-Za-z_]\w*@$|^\[\[.*\]\]$"
)
# A reference by sigil: ``$DB_PASSWORD``, ``$dbPassword``, ``@db_password``, ``!secret_name``,
# ``$env:API_TOKEN``, ``&anchor``. The name must read as a name (words, digits only at a word's
# end): ``$Xk9Rt2VbQw7LmN4`` or ``!uwjN:fL88*ifP`` is a password that starts with a symbol.
_SIGIL_REFERENCE = re.compile(r"^[$@!&%](?P<name>[A-Za-z_][A-Za-z0-9_.:\->\[\]{}]*?)[%@]?$")
_NAME_WORD = re.compile(r"^(?:[A-Z]+|[A-Z]?[a-z]+)(?:[A-Z][a-z]+)*\d*$")
_NAME_SPLIT = re.compile(r"[_.:\->\[\]{}]+")
# A stand-in word counts only where it dominates the value: a long random stretch outside it
# (``ghp_Rt2VbQw7LmN4pZs…QwErTy…``, a 1,700-character PEM body holding ``xxxx``) is a real secret.
_RANDOM_STRETCH = re.compile(r"[A-Za-z0-9+/=]{16,}")
_XML_ENTITIES = (
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", '"'),
    ("&apos;", "'"),
    ("&#39;", "'"),
    ("&amp;", "&"),
)
_RUN = re.compile(r"([xX*0#._\-])\1{7,}")  # filler runs; base64 keys hold real runs of "A"
_LOOKUPS = (
    "os.environ",
    "os.getenv",
    "getenv(",
    "process.env",
    "import.meta.env",
    "system.getenv",
    "env(",
    "env[",
    "env.fetch",
    "environment.getenvironmentvariable",
    "vault:",
    "vault(",
    "ssm:",
    "secretsmanager",
    "secretmanager",
    "secretkeyref",
    "keyvault",
    "key_vault",
    "op://",
    "sm://",
    "lookup(",
    "secrets.",
    "!vault",
    "!secret",
)
_HEX_HASH_LENGTHS = frozenset({40, 56, 64, 96, 128})
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_CRYPT = re.compile(r"^\$(?:2[abxy]?|5|6|argon2(?:id|i|d)|scrypt|pbkdf2[\w-]*|y|gy|7)\$")
_INTEGRITY = re.compile(r"^(?:sha1|sha256|sha384|sha512)-[A-Za-z0-9+/]{27,88}={0,2}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PUBLIC_KEY_PREFIXES = ("ssh-rsa ", "ssh-ed25519 ", "ssh-dss ", "ecdsa-sha2-", "sk-ssh-", "ssh-rsa aaaa")
_PUBLIC_MARKERS = ("BEGIN PUBLIC KEY", "BEGIN RSA PUBLIC KEY", "BEGIN CERTIFICATE", "BEGIN PGP PUBLIC KEY")
LOCAL_HOSTS = frozenset(
    {
        "localhost",
        "127.0.0.1",
        "0.0.0.0",  # bastion: ignore[sast.bandit.B104] a host name to recognise, nothing binds to it
        "::1",
        "[::1]",
        "host.docker.internal",
        "db",
        "database",
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "mongo",
        "mongodb",
        "redis",
        "rabbitmq",
    }
)
DEFAULT_PASSWORDS = frozenset(
    {
        "postgres",
        "password",
        "root",
        "admin",
        "secret",
        "mysql",
        "guest",
        "test",
        "pass",
        "passw0rd",
        "p@ssw0rd",
        "123456",
        "redis",
        "mongo",
        "rabbitmq",
        "dev",
        "development",
        "local",
        "toor",
        "sa",
        "user",
    }
)


def is_reference(value: str) -> bool:
    """Whether ``value`` is a variable reference by sigil (``$DB_PASSWORD``, ``@db_pass``)."""
    match = _SIGIL_REFERENCE.match(value)
    if match is None:
        return False
    words = [word for word in _NAME_SPLIT.split(match.group("name")) if word]
    return all(_NAME_WORD.match(word) for word in words)


def _looks_random(text: str) -> bool:
    """A stretch of 16+ base64 characters mixing letters and digits, not a counting sequence."""
    for stretch in _RANDOM_STRETCH.findall(text):
        digits = sum(c.isdigit() for c in stretch)
        if digits < 2 or digits > len(stretch) - 4:
            continue
        steps = sum(1 for a, b in itertools.pairwise(stretch) if ord(b) - ord(a) == 1)
        if steps * 3 < len(stretch):
            return True
    return False


def unescape_xml(value: str) -> str:
    """``&lt;password&gt;`` -> ``<password>``: the five XML entities, nothing else."""
    if "&" not in value:
        return value
    for entity, char in _XML_ENTITIES:
        value = value.replace(entity, char)
    return value


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is a template, a reference, a run of one character or a stand-in word.

    A stand-in word (``xxxx``, ``dummy``, ``qwerty``, ``your_``) counts when it dominates the
    value: what is left around it holds no long random stretch. A value that ends in an
    ellipsis (``sk-...``, ``sk_test_…``) is an elided example.
    """
    value = unescape_xml(value)
    if _TEMPLATE.search(value) or _RUN.search(value) or is_reference(value):
        return True
    if value.endswith(("...", "\u2026")):
        return True
    lowered = value.lower()
    words = [word for word in _PLACEHOLDER_WORDS if word in lowered]
    if not words:
        return False
    rest = value
    for word in words:
        at = rest.lower().find(word)
        while at >= 0:
            rest = rest[:at] + rest[at + len(word) :]
            at = rest.lower().find(word)
    return not _looks_random(rest)


def _is_lookup(value: str, context: str) -> bool:
    lowered = value.lower()
    if any(marker in lowered for marker in _LOOKUPS):
        return True
    around = context.lower()
    return "arn:aws:secretsmanager" in around or "arn:aws:ssm" in around


# Keys that say the value is a digest, not a credential.
_HASH_KEY = re.compile(
    r"hash|sha\d*|md5|digest|checksum|etag|commit|integrity|fingerprint|revision", re.IGNORECASE
)
_SECRET_KEY = re.compile(r"secret|token|key|pass|pwd|credential|auth", re.IGNORECASE)
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
"""RFC 2606 second-level example domains."""
EXAMPLE_TLDS = (".example", ".test", ".invalid", ".localhost")
"""RFC 2606 / RFC 6761 reserved top-level domains."""


def is_example_host(host: str) -> bool:
    """Whether ``host`` is reserved for documentation (RFC 2606, RFC 6761): ``example.com``,
    ``db.example.org``, ``api.example``, ``app.test``, ``x.invalid``."""
    host = host.lower().rstrip(".")
    if host in EXAMPLE_DOMAINS or host.endswith(tuple("." + d for d in EXAMPLE_DOMAINS)):
        return True
    return host == "example" or host.endswith(EXAMPLE_TLDS)


def _hex_is_hash(key: str | None) -> bool:
    """A hex string is a digest unless its key names a secret (and not a digest)."""
    if key is None or _HASH_KEY.search(key):
        return True
    return not _SECRET_KEY.search(key)


def _shape(value: str, context: str, key: str | None = None) -> Screen:
    """Verdicts about what the value *is* (a hash, a UUID ...), for generic candidates."""
    if _CRYPT.match(value):
        return Screen.HASH
    if len(value) in _HEX_HASH_LENGTHS and _HEX.match(value) and _hex_is_hash(key):
        return Screen.HASH
    if _INTEGRITY.match(value) or "integrity" in context.lower():
        return Screen.INTEGRITY
    if _UUID.match(value):
        return Screen.UUID
    if value.startswith("data:") or ("data:" in context and ";base64," in context):
        return Screen.DATA_URI
    return Screen.KEEP


def screen(
    value: str,
    context: str,
    *,
    host: str | None = None,
    generic: bool = False,
    key: str | None = None,
    validated: bool = False,
) -> Screen:
    """Judge candidate ``value`` found in ``context`` (the text around it).

    ``host`` is the host of a URI the value is the password of, when there is one: a host
    reserved for documentation (``example.com``, ``*.test``) makes the URI an example.
    ``generic`` candidates (keyword assignments) also get the shape checks: hashes,
    lockfile integrity strings, UUIDs and data URIs; provider rules define their own
    shapes, so those checks would only hide real keys there. ``key`` is the name the value
    is assigned to: a hex string under a secret-named key (``API_TOKEN``, ``SECRET_KEY``) is
    a secret, not a digest. ``validated``: a format validator passed (a checksum matches, the
    key parses), so stand-in words inside the value are chance, not a placeholder.
    """
    if value in DOCUMENTED_EXAMPLES or "EXAMPLE" in value:
        return Screen.EXAMPLE
    if host is not None and is_example_host(host):
        return Screen.EXAMPLE
    if not validated and is_placeholder(value):
        return Screen.PLACEHOLDER
    if value.lower().startswith(_PUBLIC_KEY_PREFIXES) or any(m in value for m in _PUBLIC_MARKERS):
        return Screen.PUBLIC_KEY
    if generic:
        if _is_lookup(value, context):
            return Screen.LOOKUP
        shape = _shape(value, context, key)
        if shape is not Screen.KEEP:
            return shape
    weak = value.lower() in DEFAULT_PASSWORDS
    if host is not None and host.lower() in LOCAL_HOSTS:
        return Screen.DEV_DEFAULT if weak else Screen.LOCAL
    if generic and weak:
        return Screen.DEV_DEFAULT
    return Screen.KEEP
