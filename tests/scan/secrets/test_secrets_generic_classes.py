"""Classes of misses and false alarms found by the labeled benchmark (bench/secrets/RESULTS.md).

Each table holds positives and near-miss negatives of one class of behaviour. Every value
here is random or made up, never a real credential.
"""

from __future__ import annotations

import pytest
from secrets_helpers import hits_for, rule_ids

from bastion.findings import Confidence
from bastion.scan.secrets.detect import Detector
from bastion.scan.secrets.filters import Screen, is_example_host, is_placeholder, is_reference, screen
from bastion.scan.secrets.validators import github_checksum

V = "Xk9Rt2VbQw7LmN4pZs8Yc3Jd"  # random, three character classes
HEX40 = "8a1f6c0e9b7d2f4a3c5e1b0d9f8e7a6c5b4d3e2f"
HEX64 = "883e6ad998354a763700df513a96d79895a73e008f00011844e003df849fb915"

PASSWORD, SECRET, TOKEN, API_KEY = (
    "secrets.generic-password",
    "secrets.generic-secret",
    "secrets.generic-token",
    "secrets.generic-api-key",
)


def _check(detector: Detector, path: str, line: str, expected: str | None) -> None:
    found = rule_ids(detector, line + "\n", path)
    assert found == ({expected} if expected else set()), (path, line, found)


# 1. ``*_key`` names: a key-ish word before ``key`` makes a secret; a bare ``key`` does not.
KEY_NAMES = [
    ("a.env", f"ENCRYPTION_KEY={V}", API_KEY),
    ("a.py", f'signing_key = "{V}"', API_KEY),
    ("a.js", f'const hmacKey = "{V}";', API_KEY),
    ("a.toml", f'master_key = "{V}"', API_KEY),
    ("a.cfg", f"aes_key={V}", API_KEY),
    ("a.yml", f"jwt_key: {V}", API_KEY),
    ("a.properties", f"app.encryption.key = {V}", API_KEY),
    ("a.cs", f'public static string AesKey = "{V}";', API_KEY),
    ("web.config", f'<add key="SigningKey" value="{V}" />', API_KEY),
    ("a.xml", f"<signingKey>{V}</signingKey>", API_KEY),
    ("a.rb", f"SECRET_KEY_BASE = '{V}'", SECRET),
    ("a.py", f'SESSION_KEY = "{V}"', API_KEY),
    ("a.py", f'private_key = "{V}"', "secrets.generic-private-key"),
    # near misses
    ("a.py", f'key = "{V}"', None),
    ("a.py", 'cache_key = "user:123:profile"', None),
    ("a.py", f'primary_key = "{V}"', None),
    ("a.py", 'SESSION_KEY = "_auth_user_id"', None),  # a name, not a value
    ("a.yml", "client_key: /etc/ssl/client.key", None),
    ("a.py", f'signing_key_path = "{V}"', None),
    ("a.py", f'monkey = "{V}"', None),
]

# 2. Hex under a secret-named key is a secret; under a digest-named key (or no key) a hash.
HEX_VALUES = [
    ("a.env", f"API_TOKEN={HEX40}", TOKEN),
    ("a.py", f'SECRET_KEY = "{HEX40}"', SECRET),
    ("a.env", f"COOKIE_SECRET={HEX64}", SECRET),
    ("a.ini", f"service_token={HEX64}", TOKEN),
    ("a.env", f"password_sha1={HEX40}", None),
    ("a.py", f'token_checksum = "{HEX64}"', None),
    ("a.py", f'password_hash = "{HEX64}"', None),
    ("a.env", f"commit_sha={HEX40}", None),
]

# 3. A quoted key, a comma and a quoted value: the first two arguments of a named call.
CALL_PAIRS = [
    ("Config.java", f'props.put("db.password", "{V}");', PASSWORD),
    ("a.php", f"define('DB_PASSWORD', '{V}');", PASSWORD),
    ("a.c", f'setenv("API_TOKEN", "{V}", 1);', TOKEN),
    ("a.py", f'os.environ.setdefault("SECRET_KEY", "{V}")', SECRET),
    ("a.js", f'headers.set("X-Api-Key", "{V}");', API_KEY),
    ("Config.java", f'props.put("aes.key", "{V}");', API_KEY),
    # near misses: lists and tuples of names, test vectors, plain words
    ("a.py", '__all__ = ["SecretsOptions", "SecretsScanner"]', None),
    ("a.py", 'NAMES = ["trigger_token", "ci_trigger"]', None),
    ("a.py", f'("password", "{V}", 16, 1000),', None),
    ("a.py", 'Unit("secret", "aws-pair", group=[1, 2])', None),
    ("a.py", f'log("token", {V})', None),
]

# 4. Typed declarations: the type is never the value.
TYPED = [
    ("a.ts", f'const password: string = "{V}";', PASSWORD),
    ("a.ts", f'const awsSecretAccessKey: string = "{V}";', API_KEY),
    ("a.ts", f'  password?: string = "{V}";', PASSWORD),
    ("a.kt", f'val password: String = "{V}"', PASSWORD),
    ("a.kt", f'val password: String? = "{V}"', PASSWORD),
    ("a.go", f'var password string = "{V}"', PASSWORD),
    ("a.swift", f'let password: String = "{V}"', PASSWORD),
    ("a.py", f'token: Optional[str] = "{V}"', TOKEN),
    ("a.ts", "const password: string = process.env.DB_PASSWORD;", None),
    ("a.ts", "  password: string;", None),
    ("a.go", '\tPassword string `json:"password"`', None),
    ("a.kt", "val password: String by lazy { load() }", None),
]

# 5. ``pass`` spellings: a whole word of the key in any case style.
PASS_SPELLINGS = [
    ("a.go", f'dbPass := "{V}"', PASSWORD),
    ("a.cs", f'private const string DbPass = "{V}";', PASSWORD),
    ("a.yaml", f'dbPass: "{V}"', PASSWORD),
    ("a.xml", f"<dbPass>{V}</dbPass>", PASSWORD),
    ("a.properties", f"db.pass={V}", PASSWORD),
    ("a.properties", f"pass={V}", PASSWORD),
    ("a.properties", f"x.api.key={V}", API_KEY),
    ("a.py", f'DBPASSWORD = "{V}"', PASSWORD),
    ("a.py", f'passenger = "{V}"', None),
    ("a.py", f'compass = "{V}"', None),
    ("a.py", f'bypass = "{V}"', None),
    ("a.py", f'Bypass = "{V}"', None),
    ("a.py", f'PASSTHROUGH = "{V}"', None),
]

# 6. Shell assignments: ``export KEY=value`` in any file, ``KEY=value`` alone in prose.
SHELL_LINES = [
    ("README.md", f"export DB_PASSWORD={V}", PASSWORD),
    ("README.md", f"    export API_KEY={V}", API_KEY),
    ("docs/setup.rst", f"API_TOKEN={V}", TOKEN),
    ("notes.txt", f"SERVICE_TOKEN={V}", TOKEN),
    ("app.py", f"# export DB_PASSWORD={V}", None),  # not first on its line
    ("README.md", f"Set DB_PASSWORD={V} before you run it", None),
    ("app.py", f"DB_PASSWORD={V}", None),  # bare code: a name, not a literal
    ("README.md", "export DB_PASSWORD=$DB_PASSWORD", None),
    ("README.md", "export DB_PASSWORD=${DB_PASSWORD}", None),
    ("README.md", f"export DB_PASSWORD = {V}", None),
]

# 7. Values that start with a symbol are passwords; only references by sigil are dropped.
SIGILS = [
    ("a.py", f'password = "!{V}"', PASSWORD),
    ("a.py", f'password = "@{V}"', PASSWORD),
    ("a.py", f'password = "${V}"', PASSWORD),
    ("a.py", f'password = "%{V}"', PASSWORD),
    ("a.properties", f"db.password=&{V}", PASSWORD),
    ("a.cfg", "redis_password=%$kN8?xKtd~V$BV2NVaoFqA", PASSWORD),
    ("a.py", 'password = "$DB_PASSWORD"', None),
    ("a.py", 'password = "$dbPassword"', None),
    ("a.py", 'password = "${DB_PASSWORD}"', None),
    ("a.py", 'password = "%DB_PASSWORD%"', None),
    ("a.py", 'password = "@db_password@"', None),
    ("a.ps1", 'password = "$env:DB_PASSWORD"', None),
    ("a.yml", "password: !vault_secret_ref", None),
]

# 9. PHP array bearer headers; confidence medium for long random tokens.
BEARER = [
    ("a.php", f"'Authorization' => 'Bearer {V}{V}',", "secrets.http-bearer-token-header"),
    (
        "a.sh",
        f'curl -H "Authorization: Bearer {V}{V}" https://api.internal.net',
        "secrets.http-bearer-token-header",
    ),
    ("a.php", "'Authorization' => 'Bearer ' . $token,", None),
]

# 10. Documentation hosts (RFC 2606 / 6761) in URIs.
EXAMPLE_HOSTS = [
    ("a.py", 'URL = "postgres://user:password@example.com:5432/mydb"', None),
    ("a.py", 'URL = "https://username:password@example.com/repo.git"', None),
    ("a.py", f'URL = "postgres://svc:{V}@db.example.org/app"', None),
    ("a.py", f'URL = "mysql://svc:{V}@db.example.net/app"', None),
    ("a.py", f'URL = "redis://svc:{V}@cache.test:6379"', None),
    ("a.py", f'URL = "amqp://svc:{V}@mq.example:5672"', None),
    ("a.py", f'URL = "https://svc:{V}@git.invalid/x.git"', None),
    ("a.py", f'URL = "postgres://svc:{V}@db-7.prod.acme.net/app"', "secrets.postgres-uri-password"),
    ("a.py", f'URL = "postgres://svc:{V}@example.community.org/app"', "secrets.postgres-uri-password"),
    ("a.py", f'URL = "https://svc:{V}@testing.acme.io/x"', "secrets.http-basic-auth-url"),
]

# 11. Terraform / HCL references are expressions, not values.
HCL = [
    ("main.tf", "  password = var.db_password", None),
    ("main.tf", "  password = local.db_password", None),
    ("main.tf", "  password = local.pw", None),
    ("main.tf", "  password = module.db.password", None),
    ("main.tf", '  password = data.vault_generic_secret.db.data["pw"]', None),
    ("main.tf", "  password = each.value.pw", None),
    ("main.tf", '  password = "${var.db_password}"', None),
    ("main.tf", f'  password = "{V}"', PASSWORD),
    ("main.tf", f'  password = "local.{V}"', PASSWORD),  # quoted: a literal string
]

# 12. A keyword at the start of a longer word is not the keyword, in any case style.
WORD_BOUNDARIES = [
    ("a.py", 'TOKENIZER = "bert-base-uncased"', None),
    ("a.py", 'Tokenizer = "bert-base-uncased-v2"', None),
    ("a.env", "TOKENIZER=bert-base-uncased", None),
    ("a.py", f'PASSTHROUGH = "{V}"', None),
    ("a.py", f'PASSWORDLESS = "{V}"', None),
    ("a.py", f'SECRETARY_EMAIL = "{V}"', None),
    ("a.py", f'Secretary = "{V}"', None),
    ("a.py", f'API_TOKEN = "{V}"', TOKEN),
    ("a.py", f'TOKENS = "{V}"', TOKEN),
    ("a.py", f'ACCESSTOKEN = "{V}"', TOKEN),
    ("a.py", f'dbPassword = "{V}"', PASSWORD),
    ("a.py", f'SECRETS = "{V}"', SECRET),
]

# 13. Quoted Dockerfile ``ENV KEY 'value'``: judged without the quotes.
DOCKERFILE = [
    (
        "Dockerfile",
        "ENV HASHED_PASSWORD '$2b$12$2aJbgpz6jKW0F4rDIvaCxLgNMTClAy4eG6WLweOEc.PdRFY7kjwMD'",
        None,
    ),
    ("Dockerfile", "ENV PASSWORD '%API_TOKEN%'", None),
    ("Dockerfile", 'ENV PASSWORD "${DB_PASSWORD}"', None),
    ("Dockerfile", 'ENV PASSWORD="${DB_PASSWORD}"', None),
    ("Dockerfile", f"ENV PASSWORD '{V}'", PASSWORD),
    ("Dockerfile", f'ENV PASSWORD="{V}"', PASSWORD),
    ("Dockerfile", f"ARG ENCRYPTION_KEY={V}", API_KEY),
]

# 14. XML-escaped placeholders.
XML_ESCAPED = [
    ("a.xml", "<stripeSecretKey>&lt;password&gt;</stripeSecretKey>", None),
    ("a.xml", "<password>&lt;your-password&gt;</password>", None),
    ("a.xml", f"<password>{V}&amp;x</password>", PASSWORD),
]

# 14. Found on a larger corpus: base64 keys starting with ``/``, letter-only random call
# arguments, and ``I1:K…`` passwords that looked like entry points, beside the real
# paths, words and entry points they must still be told from.
B64_SLASH = "/xGm8ITClXHph94uHS/Ka8DoPKcTiw9H6lzdq2W1vBnA"
SHAPES = [
    ("a.properties", f"app.secret.access.key = {B64_SLASH}", API_KEY),
    ("a.toml", f'x_api_key = "{B64_SLASH}"', API_KEY),
    ("a.py", 'auth_token = "/+JjQ2b9xR7kLmN4pZs8Yc3Jd0aTeVwUq1fHg6iO"', TOKEN),
    ("a.toml", 'private_key_path = "/etc/ssl/private/server.key"', None),
    ("a.env", "SECRETS_DIR=/run/secrets/db_password", None),
    ("A.java", '        props.put("service.token", "BIxzRHqQiExrSrwCJUFFPLyv");', TOKEN),
    ("A.java", '        props.put("service.token", "TokenRefreshHandler");', None),
    ("a.py", 'password = "I1:K0AZkq3JY6"', PASSWORD),
    ("a.toml", 'token_provider = "myapp.auth:TokenProvider"', None),
]

TABLES = {
    "shapes": SHAPES,
    "key-names": KEY_NAMES,
    "hex": HEX_VALUES,
    "call-pairs": CALL_PAIRS,
    "typed": TYPED,
    "pass": PASS_SPELLINGS,
    "shell": SHELL_LINES,
    "sigils": SIGILS,
    "bearer": BEARER,
    "example-hosts": EXAMPLE_HOSTS,
    "hcl": HCL,
    "word-boundaries": WORD_BOUNDARIES,
    "dockerfile": DOCKERFILE,
    "xml-escaped": XML_ESCAPED,
}
CASES = [
    pytest.param(path, line, expected, id=f"{name}-{i}")
    for name, table in TABLES.items()
    for i, (path, line, expected) in enumerate(table)
]


@pytest.mark.parametrize(("path", "line", "expected"), CASES)
def test_class(detector: Detector, path: str, line: str, expected: str | None) -> None:
    _check(detector, path, line, expected)


def _github(body: str) -> str:
    return "ghp_" + body + github_checksum(body)


@pytest.mark.parametrize(
    "body",
    ["Rt2VbQw7LmN4pZsQwErTy8Yc3JdK9a", "Rt2VbQw7LmN4pZsXxXx8Yc3JdK9aQ2", "Rt2VbQw7LmDummy4pZs8Yc3JdK9aQ2"],
)
def test_checksum_valid_token_with_a_stand_in_word_is_kept(detector: Detector, body: str) -> None:
    (hit,) = hits_for(detector, f'token = "{_github(body)}"\n', "a.py")
    assert hit.rule_id == "secrets.github-pat-classic"
    assert hit.confidence is Confidence.HIGH


def test_placeholder_token_with_a_wrong_checksum_is_still_a_placeholder(detector: Detector) -> None:
    assert rule_ids(detector, 'token = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"\n', "a.py") == set()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("changeme", True),
        ("your_api_key_here", True),
        ("my-dummy-token-1234", True),
        ("your-super-secret-jwt-key-change-me-in-production", True),
        ("abcdefgh12345678", True),
        ("ghp_1234567890abcdefghijklmnopqrstuvwxyz", True),
        ("xxxxxxxx", True),
        ("sk_test_...", True),
        ("sk-\u2026", True),
        ("&lt;password&gt;", True),
        ("$DB_PASSWORD", True),
        # a stand-in word inside a long random stretch is chance, not a placeholder
        ("MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDMRae8xxxxyV3L9pQ2rT7uW4zK1", False),
        ("Rt2VbQw7LmN4pZsQwErTy8Yc3JdK9a", False),
        ("k3Jd9Dummy2pQ7xLm4Vb8Rt6Zs1", False),
        (V, False),
        ("$" + V, False),
    ],
)
def test_is_placeholder(value: str, expected: bool) -> None:
    assert is_placeholder(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$DB_PASSWORD", True),
        ("$dbPassword", True),
        ("@db_password@", True),
        ("$env:API_TOKEN", True),
        ("!" + V, False),
        ("$" + V, False),
        ("%zi1ii3@aixtX?N@8n", False),
    ],
)
def test_is_reference(value: str, expected: bool) -> None:
    assert is_reference(value) is expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", True),
        ("EXAMPLE.ORG", True),
        ("db.example.net", True),
        ("api.example", True),
        ("app.test", True),
        ("x.invalid", True),
        ("example.community.org", False),
        ("testing.acme.io", False),
        ("db.prod.acme.net", False),
        ("examples.com", False),
    ],
)
def test_is_example_host(host: str, expected: bool) -> None:
    assert is_example_host(host) is expected


@pytest.mark.parametrize(
    ("key", "verdict"),
    [
        (None, Screen.HASH),
        ("API_TOKEN", Screen.KEEP),
        ("SECRET_KEY", Screen.KEEP),
        ("password_sha1", Screen.HASH),
        ("token_digest", Screen.HASH),
        ("build_revision", Screen.HASH),
        ("name", Screen.HASH),
    ],
)
def test_hex_is_a_hash_unless_the_key_names_a_secret(key: str | None, verdict: Screen) -> None:
    assert screen(HEX40, "", generic=True, key=key) is verdict


def test_validated_secret_skips_stand_in_words_but_not_documented_examples() -> None:
    assert screen("Rt2VbQw7LmN4pZsQwErTy8Yc3JdK9a", "", validated=True) is Screen.KEEP
    assert screen("my-dummy-token-1234", "", validated=True) is Screen.KEEP
    assert screen("my-dummy-token-1234", "") is Screen.PLACEHOLDER
    assert screen("AKIAIOSFODNN7EXAMPLE", "", validated=True) is Screen.EXAMPLE


@pytest.mark.parametrize(
    ("token", "confidence"),
    [
        (V + V, Confidence.MEDIUM),  # long and random
        ("k3v9p2q8z1m4k3v9p2q8z1m4", Confidence.LOW),  # entropy 3.6: kept, low
    ],
)
def test_bearer_confidence_follows_entropy(detector: Detector, token: str, confidence: Confidence) -> None:
    (hit,) = hits_for(detector, f'curl -H "Authorization: Bearer {token}" https://api.internal.net\n', "a.sh")
    assert hit.confidence is confidence
