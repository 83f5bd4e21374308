# ruff: noqa: E501  (data tables: formats, key names and templates read best one per line)
"""Generate the labeled secret-scanning corpus (deterministic for a given seed and scale).

Run from the repository root::

    .venv/bin/python bench/secrets/make_corpus.py                       # -> bench/secrets/.work/corpus
    .venv/bin/python bench/secrets/make_corpus.py --scale 4 --out bench/secrets/.work/corpus4x

Writes, under ``--out``:

* ``tree/``: the tree to scan, realistic files in 19 languages and formats with true secrets and hard negatives mixed in;
* ``labels.jsonl``: one ``{path, line, end_line, type, secret_sha256}`` per true secret (``path``
  relative to ``tree/``)
  (``line`` = 1-based line where the secret starts, ``end_line`` = where it ends);
* ``negatives.jsonl``: one ``{path, line, kind}`` per hard-negative line (must not be reported);
* ``neutral.jsonl``: lines that are neither (a GCP service-account ``private_key_id``): a
  report there counts neither way;
* ``manifest.json``: counts per type, per negative kind and per format.

Every value is generated from ``random.Random(seed)``: GitHub classic tokens carry a correct
CRC32 checksum, private keys are real RSA / EC / Ed25519 keys (RSA primes from the seeded
generator, so the PEM bytes are reproducible), JWTs have real base64url JSON. None of them
grants anything anywhere.

Decisions (documented in RESULTS.md): a ``ghp_``-style token whose CRC32 checksum is wrong is a
*negative* (GitHub never issues one; it is a typo, a truncated copy or a made-up sample), and so
is a truncated ``...`` private-key sample in documentation. Local development defaults
(``postgres:postgres@localhost``) are left out of the corpus: the issue wants them reported at
low severity, so they are neither secrets to find nor negatives to stay silent on.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import random
import shutil
import string
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
PW_SYMBOLS = "!@#$%^&*-_=+?.:~"
DEFAULT_OUT = Path(__file__).resolve().parent / ".work" / "corpus"


# --------------------------------------------------------------------------- values


class Gen:
    """Seeded value generators."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(
            seed
        )  # bastion: ignore[sast.bandit.B311] seeded on purpose: reproducible fake corpus

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def b64url(self, raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def raw(self, n: int) -> bytes:
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def password(self) -> str:
        """A strong random password (no 3 identical characters in a row, no quotes)."""
        style = self.r.random()
        if style < 0.2:  # passphrase
            words = ["tractor", "maple", "orbit", "velvet", "cactus", "harbor", "pixel", "quartz"]
            words += ["lantern", "meadow", "falcon", "copper", "ember", "glacier", "nimbus", "sable"]
            parts = [self.r.choice(words).capitalize() for _ in range(self.r.randint(3, 4))]
            return self.r.choice("-.").join(parts) + str(self.r.randint(10, 99)) + self.r.choice("!#?")
        n = self.r.randint(12, 28)
        alphabet = ALNUM + PW_SYMBOLS if style < 0.8 else ALNUM
        while True:
            pw = self.s(alphabet, n)
            if (
                any(c.isdigit() for c in pw)
                and any(c.isupper() for c in pw)
                and not any(pw[i] == pw[i + 1] == pw[i + 2] for i in range(len(pw) - 2))
            ):
                return pw

    def url_password(self) -> str:
        return self.s(ALNUM + "-_.~", self.r.randint(14, 32))

    def random_token(self) -> str:
        kind = self.r.random()
        if kind < 0.25:
            return self.s(HEX, self.r.choice([32, 40, 64]))
        if kind < 0.4:
            return base64.b64encode(self.raw(self.r.choice([24, 32, 48]))).decode()
        return self.s(ALNUM, self.r.choice([24, 32, 40, 48]))

    def uuid(self) -> str:
        h = self.s(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.r.choice('89ab')}{h[17:20]}-{h[20:]}"


def base62(number: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(B62[rest])
    return "".join(reversed(digits)) or "0"


def gh_checksum(body: str) -> str:
    """GitHub's classic-token checksum: base62(CRC32(random part)), six wide."""
    return base62(zlib.crc32(body.encode())).rjust(6, "0")


# ----------------------------------------------------------------- real private keys

_SMALL_PRIMES = [p for p in range(3, 3000) if all(p % d for d in range(2, int(p**0.5) + 1))]


_SMALL_PRODUCT = math.prod(_SMALL_PRIMES)


def _probable_prime(n: int, rng: random.Random) -> bool:
    if math.gcd(n, _SMALL_PRODUCT) != 1:
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(8):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        n = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if n % 65537 != 1 and _probable_prime(n, rng):
            return n


def rsa_key(g: Gen, bits: int) -> rsa.RSAPrivateKey:
    """A real RSA key from seeded primes (cryptography's own generator cannot be seeded)."""
    e = 65537
    while True:
        p, q = _prime(bits // 2, g.r), _prime(bits // 2, g.r)
        if p != q:
            break
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q)
    )
    return numbers.private_key()


def ec_key(g: Gen) -> ec.EllipticCurvePrivateKey:
    curve: ec.EllipticCurve = g.r.choice([ec.SECP256R1(), ec.SECP384R1()])
    order = (
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
        if isinstance(curve, ec.SECP256R1)
        else 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973
    )
    return ec.derive_private_key(g.r.randrange(1, order), curve)


def _sshstr(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def openssh_ed25519(g: Gen, comment: str) -> tuple[str, str]:
    """A real unencrypted OpenSSH Ed25519 private key (built by hand so the check-int is seeded)."""
    seed = g.raw(32)
    pub = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    pub_blob = _sshstr(b"ssh-ed25519") + _sshstr(pub)
    check = struct.pack(">I", g.r.getrandbits(32))
    priv = check + check + pub_blob + _sshstr(seed + pub) + _sshstr(comment.encode())
    pad = 1
    while len(priv) % 8:
        priv += bytes([pad])
        pad += 1
    blob = b"openssh-key-v1\0" + _sshstr(b"none") + _sshstr(b"none") + _sshstr(b"")
    blob += struct.pack(">I", 1) + _sshstr(pub_blob) + _sshstr(priv)
    body = base64.b64encode(blob).decode()
    pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    pem += "".join(body[i : i + 70] + "\n" for i in range(0, len(body), 70))
    pem += "-----END OPENSSH PRIVATE KEY-----\n"
    serialization.load_ssh_private_key(pem.encode(), password=None)  # proves it parses
    public = "ssh-ed25519 " + base64.b64encode(pub_blob).decode() + " " + comment
    return pem, public


def pem_of(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, pkcs8: bool) -> str:
    fmt = serialization.PrivateFormat.PKCS8 if pkcs8 else serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def certificate_pem(key: rsa.RSAPrivateKey, g: Gen) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"svc-{g.s(HEX, 6)}.acme.internal")])
    import datetime as dt

    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=g.r.randint(0, 300))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(g.r.getrandbits(64) + 1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# ------------------------------------------------------------------------- units


@dataclass
class Unit:
    """Something to place in a file: a true secret, a hard negative or a neutral line."""

    label: str  # "secret" | "negative" | "neutral"
    kind: str  # secret type or negative category
    key: str | None = None  # assignment key (canonical snake_case); None = keyless form
    value: str = ""  # the value as written in the file
    core: str = ""  # the secret itself (for secret_sha256)
    pem: str | None = None  # a multi-line PEM block (secret or negative)
    raw_lines: list[str] | None = None  # lines written as they are (lockfiles, headers)
    group: list[Unit] = field(default_factory=list)  # consecutive units (AWS key pair)
    keyless_ok: bool = False  # may be written as a call argument without a key


SecretMaker = Callable[[Gen], Unit]


def secret(
    kind: str, g: Gen, keys: list[str], value: str, core: str | None = None, keyless: bool = True
) -> Unit:
    return Unit("secret", kind, g.r.choice(keys), value, core or value, keyless_ok=keyless)


def gh_classic(prefix: str, keys: list[str]) -> SecretMaker:
    def make(g: Gen) -> Unit:
        body = g.s(B62, 30)
        return secret(f"github-{prefix}", g, keys, f"{prefix}_{body}{gh_checksum(body)}")

    return make


GH_KEYS = ["github_token", "gh_token", "github_pat", "token", "git_auth_token", "access_token"]


def _openai(g: Gen) -> str:
    if g.r.random() < 0.5:
        return "sk-" + g.s(ALNUM, 20) + "T3BlbkFJ" + g.s(ALNUM, 20)
    prefix = g.r.choice(["sk-proj-", "sk-svcacct-"])
    return prefix + g.s(B64URL, 74) + "T3BlbkFJ" + g.s(B64URL, 74)


def _pypi(g: Gen) -> str:
    ident = g.uuid().encode()
    caveat = json.dumps({"version": 1, "permissions": {"projects": [f"acme-{g.s(HEX, 4)}"]}}).encode()
    raw = b"\x02\x01\x08pypi.org\x02" + bytes([len(ident)]) + ident + b"\x00"
    raw += b"\x02" + bytes([len(caveat)]) + caveat + b"\x00\x00\x06\x20" + g.raw(32)
    return "pypi-" + g.b64url(raw)


def _jwt(g: Gen) -> str:
    alg = g.r.choice(["HS256", "RS256", "ES256"])
    header: dict[str, str] = {"alg": alg, "typ": "JWT"}
    if alg != "HS256":
        header["kid"] = g.s(ALNUM, 16)
    now = 1_700_000_000 + g.r.randint(0, 60_000_000)
    payload = {
        "sub": g.uuid(),
        "iss": g.r.choice(["https://auth.acme.io/", "https://login.northwind.dev", "acme-api"]),
        "aud": g.r.choice(["api", "billing", "https://api.acme.io"]),
        "iat": now,
        "exp": now + g.r.choice([3600, 86400, 31536000]),
        "scope": g.r.choice(["read write", "admin", "orders:read"]),
    }
    sig = g.raw({"HS256": 32, "RS256": 256, "ES256": 64}[alg])
    enc = [g.b64url(json.dumps(header, separators=(",", ":")).encode())]
    enc.append(g.b64url(json.dumps(payload, separators=(",", ":")).encode()))
    return ".".join([*enc, g.b64url(sig)])


HOSTS = [
    "db-prod-1.c9akciq32.us-east-1.rds.amazonaws.com",
    "orders.cluster-ro.internal.acme.io",
    "10.20.4.17",
    "pg.billing.svc.cluster.local",
    "mysql-primary.northwind.net",
    "cache-01.acme.internal",
]
USERS = ["app", "svc_orders", "admin", "reporting", "etl_user", "billing"]


def _uri(scheme: str, port: int, g: Gen) -> tuple[str, str]:
    pw = g.url_password()
    user = g.r.choice(USERS)
    host = g.r.choice(HOSTS)
    if scheme == "mongodb+srv":
        host = f"cluster0.{g.s(string.ascii_lowercase + string.digits, 5)}.mongodb.net"
        return f"{scheme}://{user}:{pw}@{host}/orders?retryWrites=true&w=majority", pw
    db = g.r.choice(["orders", "app", "billing", "0", "/"])
    path = "" if db == "/" else f"/{db}"
    return f"{scheme}://{user}:{pw}@{host}:{port}{path}", pw


def uri_maker(kind: str, scheme: str, port: int, keys: list[str]) -> SecretMaker:
    def make(g: Gen) -> Unit:
        value, pw = _uri(g.r.choice(scheme.split("|")), port, g)
        return secret(kind, g, keys, value, pw)

    return make


def simple(kind: str, keys: list[str], fn: Callable[[Gen], str], keyless: bool = True) -> SecretMaker:
    def make(g: Gen) -> Unit:
        return secret(kind, g, keys, fn(g), keyless=keyless)

    return make


def _aws_pair(g: Gen) -> Unit:
    key_id = g.r.choice(["AKIA", "AKIA", "AKIA", "ASIA"]) + g.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    sk = g.s(B64, 40)
    names = g.r.choice(
        [("aws_access_key_id", "aws_secret_access_key"), ("access_key_id", "secret_access_key")]
    )
    first = Unit("secret", "aws-access-key-id", names[0], key_id, key_id)
    second = Unit("secret", "aws-secret-access-key", names[1], sk, sk)
    return Unit("secret", "aws-pair", group=[first, second])


def _azure_conn(g: Gen) -> Unit:
    key = base64.b64encode(g.raw(64)).decode()
    account = "acme" + g.s(string.ascii_lowercase + string.digits, 8)
    value = (
        f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};"
        "EndpointSuffix=core.windows.net"
    )
    return secret(
        "azure-storage-key", g, ["azure_storage_connection_string", "storage_connection"], value, key
    )


def _mssql(g: Gen) -> Unit:
    pw = g.password().replace(";", "")
    value = (
        f"Server=tcp:{g.s(string.ascii_lowercase, 8)}.database.windows.net,1433;Database=orders;"
        f"User ID={g.r.choice(USERS)};Password={pw};Encrypt=true;"
    )
    return secret("sqlserver-connection-string", g, ["connection_string", "default_connection"], value, pw)


def _jdbc(g: Gen) -> Unit:
    pw = g.url_password()
    value = f"jdbc:postgresql://{g.r.choice(HOSTS)}:5432/orders?user={g.r.choice(USERS)}&password={pw}"
    return secret("jdbc-url-password", g, ["jdbc_url", "datasource_url"], value, pw)


def _basic_url(g: Gen) -> Unit:
    pw = g.url_password()
    host = g.r.choice(["nexus.acme.io", "registry.northwind.net", "git.acme.internal", "ci.acme.io"])
    value = f"https://{g.r.choice(['deploy', 'ci-bot', 'jenkins'])}:{pw}@{host}/repository/releases/"
    return secret("basic-auth-url", g, ["repository_url", "registry_url", "remote"], value, pw)


def _bearer(g: Gen) -> Unit:
    tok = g.s(ALNUM, g.r.choice([32, 40, 48]))
    return Unit("secret", "bearer-header", "authorization", f"Bearer {tok}", tok)


def _slack_webhook(g: Gen) -> str:
    return f"https://hooks.slack.com/services/T{g.s(UPPER_DIGITS, 8)}/B{g.s(UPPER_DIGITS, 10)}/" + g.s(
        ALNUM, 24
    )


def _azure_ad(g: Gen) -> str:
    return g.s(ALNUM, 3) + str(g.r.randint(0, 9)) + "Q~" + g.s(ALNUM + "_~.-", 34)


def _generic(kind: str, keys: list[str], fn: Callable[[Gen], str]) -> SecretMaker:
    return simple(kind, keys, fn, keyless=False)


def _django_secret(g: Gen) -> str:
    return (
        g.s(string.ascii_lowercase + string.digits + "!@#%^&*(-_=+)", 50).replace("(", "k").replace(")", "z")
    )


SECRET_TYPES: dict[str, tuple[SecretMaker, int]] = {
    "github-ghp": (gh_classic("ghp", GH_KEYS), 60),
    "github-gho": (gh_classic("gho", GH_KEYS), 30),
    "github-ghu": (gh_classic("ghu", GH_KEYS), 30),
    "github-ghs": (gh_classic("ghs", GH_KEYS), 30),
    "github-ghr": (gh_classic("ghr", GH_KEYS), 25),
    "github-fine-grained": (
        simple("github-fine-grained", GH_KEYS, lambda g: f"github_pat_{g.s(ALNUM, 22)}_{g.s(ALNUM, 59)}"),
        35,
    ),
    "gitlab-pat": (
        simple(
            "gitlab-pat", ["gitlab_token", "gl_token", "private_token"], lambda g: "glpat-" + g.s(B64URL, 20)
        ),
        40,
    ),
    "gitlab-runner": (
        simple("gitlab-runner", ["runner_token", "token"], lambda g: "glrt-" + g.s(B64URL, 20)),
        25,
    ),
    "gitlab-trigger": (
        simple("gitlab-trigger", ["trigger_token", "ci_trigger"], lambda g: "glptt-" + g.s(HEX, 40)),
        25,
    ),
    "aws-pair": (_aws_pair, 70),
    "slack-bot": (
        simple(
            "slack-bot",
            ["slack_bot_token", "slack_token", "bot_token"],
            lambda g: f"xoxb-{g.s(string.digits, 12)}-{g.s(string.digits, 13)}-{g.s(ALNUM, 24)}",
        ),
        40,
    ),
    "slack-user": (
        simple(
            "slack-user",
            ["slack_user_token", "slack_token"],
            lambda g: (
                f"xoxp-{g.s(string.digits, 12)}-{g.s(string.digits, 12)}-{g.s(string.digits, 13)}-{g.s(HEX, 32)}"
            ),
        ),
        25,
    ),
    "slack-app": (
        simple(
            "slack-app",
            ["slack_app_token", "socket_token"],
            lambda g: f"xapp-1-A{g.s(UPPER_DIGITS, 10)}-{g.s(string.digits, 13)}-{g.s(HEX, 64)}",
        ),
        20,
    ),
    "slack-webhook": (
        simple("slack-webhook", ["slack_webhook_url", "webhook_url", "alerts_webhook"], _slack_webhook),
        35,
    ),
    "stripe-live-secret": (
        simple(
            "stripe-live-secret",
            ["stripe_secret_key", "stripe_api_key", "stripe_key"],
            lambda g: "sk_live_" + g.s(ALNUM, g.r.choice([24, 99])),
        ),
        40,
    ),
    "stripe-restricted": (
        simple(
            "stripe-restricted",
            ["stripe_restricted_key", "stripe_key"],
            lambda g: "rk_live_" + g.s(ALNUM, g.r.choice([24, 99])),
        ),
        25,
    ),
    "stripe-webhook-secret": (
        simple(
            "stripe-webhook-secret",
            ["stripe_webhook_secret", "endpoint_secret"],
            lambda g: "whsec_" + g.s(ALNUM, 32),
        ),
        25,
    ),
    "openai": (simple("openai", ["openai_api_key", "openai_key", "llm_api_key"], _openai), 40),
    "anthropic": (
        simple(
            "anthropic",
            ["anthropic_api_key", "claude_key"],
            lambda g: "sk-ant-api03-" + g.s(B64URL, 93) + "AA",
        ),
        35,
    ),
    "npm": (simple("npm", ["npm_token", "node_auth_token"], lambda g: "npm_" + g.s(ALNUM, 36)), 35),
    "pypi": (simple("pypi", ["pypi_token", "twine_password", "pypi_api_token"], _pypi), 30),
    "azure-storage-key": (_azure_conn, 35),
    "azure-ad-client-secret": (
        simple("azure-ad-client-secret", ["azure_client_secret", "aad_client_secret"], _azure_ad),
        25,
    ),
    "sendgrid": (
        simple(
            "sendgrid",
            ["sendgrid_api_key", "sendgrid_key", "mail_api_key"],
            lambda g: f"SG.{g.s(B64URL, 22)}.{g.s(B64URL, 43)}",
        ),
        35,
    ),
    "twilio-auth-token": (
        simple("twilio-auth-token", ["twilio_auth_token"], lambda g: g.s(HEX, 32), keyless=False),
        30,
    ),
    "twilio-api-secret": (
        simple("twilio-api-secret", ["twilio_api_secret"], lambda g: g.s(ALNUM, 32), keyless=False),
        20,
    ),
    "postgres-uri": (
        uri_maker(
            "postgres-uri",
            "postgres|postgresql|postgresql+psycopg2",
            5432,
            ["database_url", "db_url", "sqlalchemy_database_uri"],
        ),
        55,
    ),
    "mysql-uri": (uri_maker("mysql-uri", "mysql|mysql+pymysql", 3306, ["database_url", "mysql_url"]), 40),
    "mongodb-uri": (uri_maker("mongodb-uri", "mongodb|mongodb+srv", 27017, ["mongo_uri", "mongodb_url"]), 40),
    "redis-uri": (
        uri_maker("redis-uri", "redis|rediss", 6379, ["redis_url", "cache_url", "celery_broker_url"]),
        35,
    ),
    "amqp-uri": (uri_maker("amqp-uri", "amqp|amqps", 5672, ["amqp_url", "broker_url", "rabbitmq_url"]), 30),
    "sqlserver-connection-string": (_mssql, 25),
    "jdbc-url-password": (_jdbc, 20),
    "basic-auth-url": (_basic_url, 25),
    "bearer-header": (_bearer, 25),
    "generic-password": (
        _generic(
            "generic-password",
            [
                "password",
                "db_password",
                "db_pass",
                "smtp_password",
                "admin_password",
                "passwd",
                "mysql_root_password",
                "redis_password",
                "keystore_password",
                "ldap_bind_password",
                "pwd",
            ],
            lambda g: g.password(),
        ),
        230,
    ),
    "generic-secret": (
        _generic(
            "generic-secret",
            [
                "client_secret",
                "app_secret",
                "jwt_secret",
                "secret_key",
                "webhook_secret",
                "session_secret",
                "cookie_secret",
                "consumer_secret",
            ],
            lambda g: _django_secret(g) if g.r.random() < 0.2 else g.random_token(),
        ),
        100,
    ),
    "generic-api-key": (
        _generic(
            "generic-api-key",
            ["api_key", "service_api_key", "maps_api_key", "access_key", "x_api_key"],
            lambda g: g.random_token(),
        ),
        90,
    ),
    "generic-token": (
        _generic(
            "generic-token",
            ["auth_token", "access_token", "refresh_token", "api_token", "service_token"],
            lambda g: g.random_token(),
        ),
        80,
    ),
    "generic-key-other": (
        _generic(
            "generic-key-other",
            ["encryption_key", "signing_key", "master_key", "hmac_key", "aes_key"],
            lambda g: g.random_token(),
        ),
        50,
    ),
    "jwt": (simple("jwt", ["id_token", "access_token", "service_jwt", "auth_token"], _jwt), 60),
    "gcp-api-key": (
        simple(
            "gcp-api-key",
            ["google_api_key", "firebase_api_key", "maps_key"],
            lambda g: "AIza" + g.s(B64URL, 35),
        ),
        35,
    ),
    "gcp-oauth-client-secret": (
        simple(
            "gcp-oauth-client-secret",
            ["google_client_secret", "oauth_client_secret"],
            lambda g: "GOCSPX-" + g.s(B64URL, 28),
        ),
        20,
    ),
    "huggingface": (
        simple(
            "huggingface", ["hf_token", "huggingface_token"], lambda g: "hf_" + g.s(string.ascii_letters, 34)
        ),
        30,
    ),
    "digitalocean": (
        simple("digitalocean", ["do_token", "digitalocean_token"], lambda g: "dop_v1_" + g.s(HEX, 64)),
        25,
    ),
    "databricks": (simple("databricks", ["databricks_token"], lambda g: "dapi" + g.s(HEX, 32)), 25),
    "vault": (simple("vault", ["vault_token"], lambda g: "hvs.CAESI" + g.s(B64URL, 86)), 25),
    "shopify": (
        simple(
            "shopify",
            ["shopify_access_token", "shopify_token"],
            lambda g: g.r.choice(["shpat_", "shpss_"]) + g.s(HEX, 32),
        ),
        25,
    ),
    "linear": (simple("linear", ["linear_api_key"], lambda g: "lin_api_" + g.s(ALNUM, 40)), 20),
    "newrelic": (
        simple("newrelic", ["new_relic_api_key", "newrelic_key"], lambda g: "NRAK-" + g.s(UPPER_DIGITS, 27)),
        20,
    ),
    "telegram": (
        simple(
            "telegram",
            ["telegram_bot_token", "bot_token"],
            lambda g: f"{g.r.randint(100000000, 9999999999)}:AA{g.s(B64URL, 33)}",
        ),
        25,
    ),
    "mailgun": (simple("mailgun", ["mailgun_api_key", "mg_key"], lambda g: "key-" + g.s(HEX, 32)), 20),
    "mailchimp": (
        simple(
            "mailchimp", ["mailchimp_api_key", "mc_key"], lambda g: f"{g.s(HEX, 32)}-us{g.r.randint(1, 21)}"
        ),
        20,
    ),
    "dockerhub": (
        simple(
            "dockerhub",
            ["docker_token", "dockerhub_token", "registry_password"],
            lambda g: "dckr_pat_" + g.s(B64URL, 27),
        ),
        25,
    ),
    "sonarqube": (simple("sonarqube", ["sonar_token"], lambda g: "sqp_" + g.s(HEX, 40)), 20),
    "postman": (simple("postman", ["postman_api_key"], lambda g: f"PMAK-{g.s(HEX, 24)}-{g.s(HEX, 34)}"), 20),
    "atlassian": (
        simple("atlassian", ["jira_api_token", "atlassian_token"], lambda g: "ATATT3" + g.s(B64URL, 186)),
        20,
    ),
    "heroku": (simple("heroku", ["heroku_api_key"], lambda g: "HRKU-" + g.s(B64URL, 60)), 20),
}
PEM_TYPES: dict[str, int] = {
    "private-key-rsa": 35,
    "private-key-ec": 35,
    "private-key-pkcs8": 35,
    "private-key-openssh": 35,
}
GCP_SA_FILES = 25


def make_pem_secret(kind: str, g: Gen) -> Unit:
    if kind == "private-key-rsa":
        pem = pem_of(rsa_key(g, g.r.choice([1024, 1024, 2048])), pkcs8=False)
    elif kind == "private-key-ec":
        pem = pem_of(ec_key(g), pkcs8=False)
    elif kind == "private-key-pkcs8":
        key = rsa_key(g, g.r.choice([1024, 2048])) if g.r.random() < 0.5 else ec_key(g)
        pem = pem_of(key, pkcs8=True)
    else:
        pem, _ = openssh_ed25519(g, f"{g.r.choice(USERS)}@{g.r.choice(['build-01', 'laptop', 'bastion'])}")
    key_name = g.r.choice(["private_key", "tls_key", "signing_key_pem", "ssh_key", "deploy_key"])
    return Unit("secret", kind, key_name, core=pem, pem=pem)


# --------------------------------------------------------------------- negatives

SECRET_KEYS = ["password", "db_password", "api_key", "client_secret", "auth_token", "secret_key",
               "github_token", "stripe_secret_key", "aws_secret_access_key", "access_token"]  # fmt: skip


def _placeholder(g: Gen) -> Unit:
    key = g.r.choice(SECRET_KEYS)
    values = [
        "changeme", "change-me-in-production", "<your-token>", "<YOUR_API_KEY>", "${DB_PASSWORD}",
        "{{ db_password }}", "{{ .Values.secret }}", "xxxxxxxxxxxxxxxxxxxx", "********", "your_api_key_here",
        "REPLACE_ME", "%API_TOKEN%", "$SECRET_KEY", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "<password>", "insert-your-key-here", "dummy-secret-value",
        "${{ secrets.NPM_TOKEN }}", "#{SecretKey}", "PLACEHOLDER", "<redacted>", "[REDACTED]",
        "postgres://app:${DB_PASSWORD}@db.acme.io:5432/app", "not-a-real-secret", "********************",
    ]  # fmt: skip
    return Unit("negative", "placeholder", key, g.r.choice(values))


DOC_EXAMPLES = [
    ("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("aws_access_key_id", "AKIAI44QH8DHBEXAMPLE"),
    ("aws_secret_access_key", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"),
    ("stripe_secret_key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    ("id_token", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
    ("database_url", "postgres://user:password@example.com:5432/mydb"),  # bastion: ignore[secrets.*] a doc-example negative
    ("repository_url", "https://username:password@example.com/repo.git"),  # bastion: ignore[secrets.*] a doc-example negative
]  # fmt: skip


def _doc_example(g: Gen) -> Unit:
    key, value = g.r.choice(DOC_EXAMPLES)
    return Unit("negative", "documented-example", key, value)


LOOKUPS: dict[str, list[str]] = {
    "python": ['{k} = os.environ["{N}"]', '{k} = os.getenv("{N}")', '{k} = keyring.get_password("acme", "{n}")',
               '{k} = settings.secrets["{n}"]'],
    "javascript": ["const {c} = process.env.{N};", "  {c}: process.env.{N},"],
    "typescript": ["const {c}: string = process.env.{N} ?? '';", "  {c}: import.meta.env.VITE_{N},"],
    "go": ['\t{c} := os.Getenv("{N}")'],
    "java": ['        String {c} = System.getenv("{N}");', '    @Value("${{{n}}}") private String {c};'],
    "ruby": ['{U} = ENV.fetch("{N}")', "  config.{k} = Rails.application.credentials.{n}"],
    "php": ["${c} = getenv('{N}');", "    '{k}' => env('{N}'),"],
    "csharp": ['        var {c} = Environment.GetEnvironmentVariable("{N}");'],
    "shell": ['{U}="${{{N}}}"', '{U}=$(aws ssm get-parameter --name /prod/{n} --with-decryption --query Parameter.Value)',
              '{U}="$(vault kv get -field={n} secret/app)"'],
    "yaml": ["  {k}: ${{{{ secrets.{N} }}}}", "  {k}: !vault |", "  {k}: \"{{{{ lookup('env', '{N}') }}}}\"",
             "  {k}: ${{{N}}}"],
    "json": ['  "{k}": "${{{N}}}",', '  "{k}": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:{n}",'],
    "toml": ['{k} = "${{{N}}}"', '{k} = "env:{N}"'],
    "ini": ["{k} = ${{{N}}}", "{k} = %({N})s"],
    "dotenv": ["{U}=${{{N}}}", "{U}=op://prod/app/{n}"],
    "properties": ["{d}=${{{N}}}", "{d}=${{vault.{n}}}"],
    "xml": ['  <add key="{P}" value="%{N}%" />', "  <{c}>${{{N}}}</{c}>"],
    "terraform": ["  {k} = var.{n}", "  {k} = data.aws_secretsmanager_secret_version.app.secret_string"],
    "dockerfile": ["ARG {U}", "ENV {U}=${{{N}}}"],
    "markdown": ['export {U}="$(pass show acme/{n})"', "{U}=${{{N}}}"],
}  # fmt: skip


def _lookup(g: Gen) -> Unit:
    key = g.r.choice(SECRET_KEYS)
    return Unit(
        "negative", "lookup", key, g.r.choice(["DB_PASSWORD", "API_KEY", "STRIPE_SECRET_KEY", "JWT_SECRET"])
    )


def render_lookup(fmt: str, key: str, name: str, g: Gen) -> str:
    template = g.r.choice(LOOKUPS[fmt])
    return template.format(
        k=key, c=camel(key), U=key.upper(), P=pascal(key), d=key.replace("_", "."), N=name, n=name.lower()
    )


def _bcrypt(g: Gen) -> str:
    return f"$2b${g.r.choice(['10', '12'])}$" + g.s("./" + ALNUM, 53)


def _hash(g: Gen) -> Unit:
    choice = g.r.randrange(6)
    if choice == 0:
        return Unit("negative", "hash", g.r.choice(["password_hash", "hashed_password"]), _bcrypt(g))
    if choice == 1:
        return Unit("negative", "hash", g.r.choice(["sha256", "checksum", "file_sha256"]), g.s(HEX, 64))
    if choice == 2:
        return Unit("negative", "hash", g.r.choice(["commit", "git_sha", "revision"]), g.s(HEX, 40))
    if choice == 3:
        return Unit("negative", "hash", g.r.choice(["md5", "etag"]), g.s(HEX, 32))
    if choice == 4:
        return Unit("negative", "hash", "secret_sha256", g.s(HEX, 64))
    return Unit("negative", "hash", "image", f"ghcr.io/acme/api@sha256:{g.s(HEX, 64)}")


def _integrity(g: Gen) -> Unit:
    b = base64.b64encode(g.raw(64)).decode()
    return Unit("negative", "integrity", "integrity", f"sha512-{b}")


def _uuid(g: Gen) -> Unit:
    key = g.r.choice(["request_id", "tenant_id", "client_id", "subscription_id", "trace_id", "project_id"])
    return Unit("negative", "uuid", key, g.uuid())


def _data_uri(g: Gen) -> Unit:
    png = b"\x89PNG\r\n\x1a\n" + g.raw(g.r.randint(40, 120))
    return Unit(
        "negative",
        "data-uri",
        g.r.choice(["icon", "logo", "favicon"]),
        "data:image/png;base64," + base64.b64encode(png).decode(),
    )


def _random_id(g: Gen) -> Unit:
    choice = g.r.randrange(8)
    if choice == 0:
        return Unit("negative", "random-id", "twilio_account_sid", "AC" + g.s(HEX, 32))
    if choice == 1:
        return Unit("negative", "random-id", "stripe_publishable_key", "pk_live_" + g.s(ALNUM, 24))
    if choice == 2:
        return Unit("negative", "random-id", "object_id", g.s(HEX, 24))
    if choice == 3:
        return Unit(
            "negative",
            "random-id",
            "build_id",
            f"{g.s(string.ascii_lowercase + string.digits, 12)}-{g.r.randint(1000, 9999)}",
        )
    if choice == 4:
        return Unit(
            "negative",
            "random-id",
            "google_client_id",
            f"{g.r.randint(10**11, 10**12)}-{g.s(string.ascii_lowercase + string.digits, 32)}.apps.googleusercontent.com",
        )
    if choice == 5:
        return Unit("negative", "random-id", "css_class", f"Button_primary__{g.s(ALNUM, 5)}")
    if choice == 6:
        return Unit("negative", "random-id", "chunk", f"static/js/main.{g.s(HEX, 8)}.chunk.js")
    return Unit(
        "negative", "random-id", "access_key_id_hint", "the access key id is shown once in the console"
    )


def _b64_blob(g: Gen) -> Unit:
    text = " ".join(
        g.r.choice(["lorem", "ipsum", "dolor", "report", "orders", "quarterly", "sales"]) for _ in range(30)
    )
    blob = base64.b64encode(zlib.compress(text.encode()) + g.raw(g.r.randint(8, 40))).decode()
    return Unit(
        "negative",
        "base64-blob",
        g.r.choice(["thumbnail", "payload", "font_data", "serialized_pb", "content"]),
        blob,
    )


def _key_name_only(g: Gen) -> Unit:
    key, value = g.r.choice(
        [
            ("password_min_length", "12"), ("password_field", "password"), ("token_url", "https://oauth2.googleapis.com/token"),
            ("secret_name", "prod/orders/db"), ("token_type", "Bearer"), ("auth_token_header", "X-Auth-Token"),
            ("password_reset_template", "emails/reset.html"), ("api_key_prefix", "sk_"), ("max_tokens", "4096"),
            ("tokenizer", "bert-base-uncased"), ("secret_arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db"),
            ("password_policy", "strong"), ("credentials_file", "/etc/acme/credentials.json"), ("api_key_env", "ACME_API_KEY"),
        ]
    )  # fmt: skip
    return Unit("negative", "key-name-only", key, value)


def _wrong_checksum(g: Gen) -> Unit:
    body = g.s(B62, 30)
    good = gh_checksum(body)
    bad = good
    while bad == good:
        bad = g.s(B62, 6)
    return Unit(
        "negative", "github-wrong-checksum", g.r.choice(GH_KEYS), f"{g.r.choice(['ghp', 'gho'])}_{body}{bad}"
    )


def _doc_values(g: Gen) -> Unit:
    lines = [
        "Set `GITHUB_TOKEN=ghp_your_token_here` before running the release script.",
        'curl -H "Authorization: Bearer <ACCESS_TOKEN>" https://api.acme.io/v1/orders',
        "export OPENAI_API_KEY=sk-...",
        'password: "your-password"  # replace with the real one from the vault',
        "The token looks like `xoxb-1234-5678-abcd` (truncated for the docs).",
        "Example: `mysql://root:<password>@localhost:3306/app`",
        "api_key = 'sk_test_...'  # test key from your dashboard",  # bastion: ignore[secrets.*] a doc-example negative
        "Use `npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX` as a template for NPM_TOKEN.",
    ]
    return Unit("negative", "doc-example-value", raw_lines=[g.r.choice(lines)])


def _public_key(g: Gen, pool: list[tuple[str, str]]) -> Unit:
    public_ssh, public_block = g.r.choice(pool)
    if g.r.random() < 0.5:
        return Unit(
            "negative", "public-key", g.r.choice(["public_key", "authorized_key", "ssh_pubkey"]), public_ssh
        )
    return Unit("negative", "public-key", "public_key_pem", pem=public_block)


def _truncated_key(g: Gen) -> Unit:
    label = g.r.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"])
    body = g.r.choice(["MIIEpAIBAAKCAQEA...", "...", "<your key here>", "b3BlbnNzaC1rZXktdjEAAAAA...snip..."])
    return Unit(
        "negative",
        "truncated-key-sample",
        "private_key",
        pem=f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n",
    )


NEGATIVE_TYPES: dict[str, tuple[Callable[[Gen], Unit], int]] = {
    "placeholder": (_placeholder, 900),
    "documented-example": (_doc_example, 400),
    "lookup": (_lookup, 800),
    "hash": (_hash, 700),
    "integrity": (_integrity, 250),
    "uuid": (_uuid, 450),
    "data-uri": (_data_uri, 200),
    "random-id": (_random_id, 600),
    "base64-blob": (_b64_blob, 300),
    "key-name-only": (_key_name_only, 500),
    "github-wrong-checksum": (_wrong_checksum, 100),
    "doc-example-value": (_doc_values, 250),
    "truncated-key-sample": (_truncated_key, 60),
}
PUBLIC_KEY_COUNT = 150


# ----------------------------------------------------------------------- formats


def snake(key: str) -> str:
    return key


def camel(key: str) -> str:
    parts = key.split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def pascal(key: str) -> str:
    return "".join(p.title() for p in key.split("_"))


def xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def needs_quotes(value: str) -> bool:
    return any(c in value for c in " #:!@%&*{}[]|>'\"`$,?=~") or value[:1] in "-."


@dataclass(frozen=True)
class Format:
    name: str
    paths: tuple[str, ...]
    header: tuple[str, ...]
    footer: tuple[str, ...]
    filler: tuple[str, ...]
    code: bool  # a programming language (keyless call forms allowed)


FORMATS: list[Format] = [
    Format("python", ("app/settings.py", "src/{svc}/config.py", "scripts/deploy_{svc}.py"), ("import os", "import logging", ""), ("", "log = logging.getLogger(__name__)"),
           ("def handler(event, context):", "    return {'status': 200}", "# load configuration", "TIMEOUT = 30", "RETRIES = 3", "DEBUG = False"), True),
    Format("javascript", ("src/{svc}/config.js", "server/index.js"), ("'use strict';", "const express = require('express');"), ("module.exports = config;",),
           ("const app = express();", "app.listen(3000);", "// configuration", "const port = 8080;", "function noop() {}"), True),
    Format("typescript", ("src/{svc}/settings.ts", "lib/client.ts"), ("import { Client } from './client';",), ("export default config;",),
           ("export const retries: number = 3;", "type Env = 'dev' | 'prod';", "// eslint-disable-next-line", "const timeoutMs = 5000;"), True),
    Format("go", ("internal/{svc}/config.go", "cmd/{svc}/main.go"), ("package main", "", 'import "fmt"', ""), ("func main() {", '\tfmt.Println("ok")', "}"),
           ("// Config holds settings.", "var retries = 3", "const region = \"eu-west-1\"", "type Config struct{}"), True),
    Format("java", ("src/main/java/com/acme/{svc}/Config.java",), ("package com.acme;", "", "public class Config {"), ("}",),
           ("    private static final int RETRIES = 3;", "    // settings", "    public Config() {}", "    private String region = \"eu-west-1\";"), True),
    Format("ruby", ("config/initializers/{svc}.rb", "lib/{svc}/client.rb"), ("require 'json'", ""), ("",),
           ("module Acme", "end", "# settings", "RETRIES = 3", "def call(env); end"), True),
    Format("php", ("config/{svc}.php", "src/Service/{svc}.php"), ("<?php", ""), ("?>",),
           ("// settings", "$retries = 3;", "function boot() { return true; }", "$region = 'eu-west-1';"), True),
    Format("csharp", ("src/Acme.{svc}/Settings.cs",), ("using System;", "namespace Acme {", "public static class Settings {"), ("}", "}"),
           ("    // settings", "    public const int Retries = 3;", "    public static string Region = \"eu-west-1\";"), True),
    Format("shell", ("scripts/{svc}.sh", "deploy/env.sh"), ("#!/usr/bin/env bash", "set -euo pipefail"), ("echo done",),
           ("cd \"$(dirname \"$0\")\"", "# deploy", "RETRIES=3", "log() { echo \"$@\"; }"), True),
    Format("yaml", ("deploy/{svc}/values.yaml", "config/{svc}.yml", ".github/workflows/{svc}.yml"), ("service:", "  name: app"), ("",),
           ("  replicas: 3", "  region: eu-west-1", "# settings", "  enabled: true", "  port: 8080"), False),
    Format("json", ("config/{svc}.json", "appsettings.{svc}.json"), ("{", '  "service": "app",'), ('  "version": 2', "}"),
           ('  "region": "eu-west-1",', '  "retries": 3,', '  "enabled": true,', '  "port": 8080,'), False),
    Format("toml", ("config/{svc}.toml", "{svc}/settings.toml"), ("[service]", 'name = "app"'), ("",),
           ("retries = 3", 'region = "eu-west-1"', "# settings", "enabled = true"), False),
    Format("ini", ("config/{svc}.ini", "{svc}/app.cfg"), ("[default]", "region = eu-west-1"), ("",),
           ("retries = 3", "; settings", "enabled = true", "[server]"), False),
    Format("dotenv", ("{svc}/.env", ".env.production"), ("# environment",), ("",),
           ("NODE_ENV=production", "PORT=8080", "LOG_LEVEL=info", "# settings"), False),
    Format("properties", ("src/main/resources/application-{svc}.properties",), ("# Spring settings", "server.port=8080"), ("",),
           ("spring.jpa.show-sql=false", "logging.level.root=INFO", "# settings", "app.retries=3"), False),
    Format("xml", ("config/{svc}.xml", "web.{svc}.config"), ('<?xml version="1.0" encoding="utf-8"?>', "<configuration>"), ("</configuration>",),
           ("  <!-- settings -->", "  <retries>3</retries>", "  <region>eu-west-1</region>"), False),
    Format("terraform", ("infra/{svc}/main.tf", "infra/{svc}/variables.tf"), ('resource "acme_service" "app" {',), ("}",),
           ('  region = "eu-west-1"', "  count  = 2", "  # settings", '  name   = "app"'), False),
    Format("dockerfile", ("{svc}/Dockerfile", "docker/Dockerfile.{svc}"), ("FROM python:3.12-slim", "WORKDIR /app"), ('CMD ["python", "main.py"]',),
           ("RUN pip install -r requirements.txt", "COPY . .", "EXPOSE 8080", "# build"), False),
    Format("markdown", ("docs/{svc}.md", "{svc}/README.md"), ("# Setup", "", "Configure the service:", "", "```bash"), ("```", "", "That is all."),
           ("# configure", "make install", "./run.sh --env prod"), False),
]  # fmt: skip
FORMAT_BY_NAME = {f.name: f for f in FORMATS}


def render_assign(fmt: str, key: str, value: str, g: Gen) -> str:
    """One assignment line of ``key`` = ``value`` in format ``fmt``."""
    up = key.upper()
    r = g.r
    if fmt == "python":
        return r.choice(
            [f'{up} = "{value}"', f'{key} = "{value}"', f'    "{key}": "{value}",', f"{key} = '{value}'"]
        )
    if fmt == "javascript":
        return r.choice(
            [
                f'const {camel(key)} = "{value}";',
                f"  {camel(key)}: '{value}',",
                f'export const {up} = "{value}";',
            ]
        )
    if fmt == "typescript":
        return r.choice([f'const {camel(key)}: string = "{value}";', f"  {camel(key)}: '{value}',"])
    if fmt == "go":
        return r.choice(
            [
                f'\t{camel(key)} := "{value}"',
                f'const {camel(key)} = "{value}"',
                f'\t{pascal(key)}: "{value}",',
            ]
        )
    if fmt == "java":
        return r.choice(
            [
                f'    private static final String {up} = "{value}";',
                f'        props.put("{key.replace("_", ".")}", "{value}");',
            ]
        )
    if fmt == "ruby":
        return r.choice([f"{up} = '{value}'", f'  config.{key} = "{value}"', f"  {key}: '{value}',"])
    if fmt == "php":
        return r.choice(
            [f"${camel(key)} = '{value}';", f"    '{key}' => '{value}',", f"define('{up}', '{value}');"]
        )
    if fmt == "csharp":
        return r.choice(
            [
                f'    private const string {pascal(key)} = "{value}";',
                f'        public static string {pascal(key)} = "{value}";',
            ]
        )
    if fmt == "shell":
        return r.choice([f"export {up}='{value}'", f"{up}='{value}'"])
    if fmt == "yaml":
        shown = f'"{value}"' if needs_quotes(value) else value
        return r.choice([f"  {key}: {shown}", f"  {camel(key)}: {shown}"])
    if fmt == "json":
        return r.choice([f'  "{key}": "{value}",', f'  "{camel(key)}": "{value}",'])
    if fmt == "toml":
        return f'{key} = "{value}"'
    if fmt == "ini":
        return r.choice([f"{key} = {value}", f"{key}={value}"])
    if fmt == "dotenv":
        shown = f"'{value}'" if needs_quotes(value) else value
        return f"{up}={shown}"
    if fmt == "properties":
        return r.choice([f"{key.replace('_', '.')}={value}", f"app.{key.replace('_', '.')} = {value}"])
    if fmt == "xml":
        return r.choice(
            [
                f"  <{camel(key)}>{xml_escape(value)}</{camel(key)}>",
                f'  <add key="{pascal(key)}" value="{xml_escape(value)}" />',
            ]
        )
    if fmt == "terraform":
        return r.choice([f'  {key} = "{value}"', f'  {key:<24} = "{value}"'])
    if fmt == "dockerfile":
        shown = f"'{value}'" if needs_quotes(value) else value
        return r.choice([f"ENV {up}={shown}", f"ARG {up}={shown}", f"ENV {up} {shown}"])
    if fmt == "markdown":
        return r.choice(
            [
                f"export {up}='{value}'",
                f"{up}={value}" if not needs_quotes(value) else f"export {up}='{value}'",
            ]
        )
    raise ValueError(fmt)


COMMENT = {"javascript": "// ", "typescript": "// ", "go": "// ", "java": "    // ", "php": "// ", "csharp": "    // ",
           "ini": "; "}  # fmt: skip


def render_keyless(fmt: str, value: str) -> str:
    """A provider value passed straight to a call, with no secret-sounding key."""
    if fmt == "python":
        return f'client = Client("{value}")'
    if fmt in ("javascript", "typescript"):
        return f"const client = new Client('{value}');"
    if fmt == "go":
        return f'\tclient := sdk.New("{value}")'
    if fmt == "java":
        return f'        Client client = new Client("{value}");'
    if fmt == "ruby":
        return f'client = Acme::Client.new("{value}")'
    if fmt == "php":
        return f"$client = new Client('{value}');"
    if fmt == "csharp":
        return f'        var client = new Client("{value}");'
    if fmt == "shell":
        return f"acme-cli login --with '{value}'"
    raise ValueError(fmt)


def render_bearer(fmt: str, value: str) -> str:
    if fmt in ("python", "ruby"):
        return f'headers = {{"Authorization": "{value}"}}'
    if fmt in ("javascript", "typescript"):
        return f"  headers: {{ Authorization: '{value}' }},"
    if fmt in ("shell", "markdown"):
        return f'curl -sS -H "Authorization: {value}" https://api.acme.io/v1/orders'
    if fmt == "yaml":
        return f'    Authorization: "{value}"'
    if fmt == "json":
        return f'  "Authorization": "{value}",'
    if fmt == "go":
        return f'\treq.Header.Set("Authorization", "{value}")'
    if fmt == "java":
        return f'        conn.setRequestProperty("Authorization", "{value}");'
    if fmt == "csharp":
        return f'        request.Headers.Add("Authorization", "{value}");'
    if fmt == "php":
        return f"    'Authorization' => '{value}',"
    return ""


def embed_pem(fmt: str, key: str, pem: str) -> tuple[list[str], int]:
    """Lines that embed ``pem`` in ``fmt``, and the index of the line holding the BEGIN marker."""
    body = pem.rstrip("\n").split("\n")
    if fmt == "json":
        escaped = pem.replace("\n", "\\n")
        return [f'  "{key}": "{escaped}",'], 0
    if fmt == "python":
        return [f'{key.upper()} = """{body[0]}', *body[1:], '"""'], 0
    if fmt in ("javascript", "typescript"):
        return [f"const {camel(key)} = `{body[0]}", *body[1:], "`;"], 0
    if fmt == "go":
        return [f"const {camel(key)} = `{body[0]}", *body[1:], "`"], 0
    if fmt == "yaml":
        return [f"  {key}: |", *(f"    {line}" for line in body)], 1
    if fmt == "terraform":
        return [f"  {key} = <<EOF", *body, "EOF"], 1
    if fmt == "shell":
        return [f"cat > ~/.ssh/{key} <<'EOF'", *body, "EOF"], 1
    if fmt == "ruby":
        return [f"{key.upper()} = <<~PEM", *(f"  {line}" for line in body), "PEM"], 1
    if fmt == "php":
        return [f"${camel(key)} = '{body[0]}", *body[1:], "';"], 0
    if fmt == "xml":
        return [f"  <{camel(key)}>", *body, f"  </{camel(key)}>"], 1
    if fmt == "dotenv":
        escaped = pem.replace("\n", "\\n")
        return [f'{key.upper()}="{escaped}"'], 0
    if fmt == "java" or fmt == "csharp":
        escaped = pem.replace("\n", "\\n")
        return [f'    static final String {key.upper()} = "{escaped}";'], 0
    # markdown / pem file / others: raw block
    return body, 0


# ------------------------------------------------------------------------ writing


@dataclass
class Writer:
    root: Path
    labels: list[dict[str, object]] = field(default_factory=list)
    negatives: list[dict[str, object]] = field(default_factory=list)
    neutral: list[dict[str, object]] = field(default_factory=list)
    formats: Counter[str] = field(default_factory=Counter)
    used: set[str] = field(default_factory=set)

    def unique(self, rel: str) -> str:
        base, n = rel, 1
        while rel in self.used:
            n += 1
            stem, dot, ext = base.rpartition(".")
            rel = f"{stem}_{n}.{ext}" if dot and "/" not in ext else f"{base}_{n}"
        self.used.add(rel)
        return rel

    def write(self, rel: str, lines: list[str], fmt: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.formats[fmt] += 1

    def label(
        self, rel: str, start: int, end: int, kind: str, core: str, fmt: str = "", key: str = ""
    ) -> None:
        digest = hashlib.sha256(core.encode()).hexdigest()
        redacted = f"{core[:4]}…({len(core)} chars)"
        self.labels.append(
            {"path": rel, "line": start, "end_line": end, "type": kind, "secret_sha256": digest,
             "redacted": redacted, "format": fmt, "key": key}
        )  # fmt: skip


def place(unit: Unit, fmt: str, g: Gen, out: list[str], w: Writer, rel: str) -> None:
    """Append ``unit``'s lines to ``out`` and record its labels."""
    if unit.group:
        for part in unit.group:
            place(part, fmt, g, out, w, rel)
        return
    if unit.raw_lines is not None:
        lines = unit.raw_lines
        if fmt == "json":
            lines = [f'  "_comment_{len(out)}": {json.dumps(" ".join(lines))},']
        elif fmt == "xml":
            lines = [f"  <!-- {' '.join(lines).replace('--', '- -')} -->"]
        elif fmt != "markdown":
            lines = [COMMENT.get(fmt, "# ") + line for line in lines]
        for line in lines:
            out.append(line)
            w.negatives.append({"path": rel, "line": len(out), "kind": unit.kind})
        return
    if unit.pem is not None:
        lines, begin = embed_pem(fmt, unit.key or "private_key", unit.pem)
        first = len(out) + 1
        out.extend(lines)
        if unit.label == "secret":
            w.label(rel, first + begin, len(out), unit.kind, unit.core, fmt, unit.key or "")
        else:
            for n in range(first, len(out) + 1):
                w.negatives.append({"path": rel, "line": n, "kind": unit.kind})
        return
    if unit.kind == "lookup":
        line = render_lookup(fmt, unit.key or "password", unit.value, g)
    elif unit.kind == "bearer-header" and render_bearer(fmt, unit.value):
        line = render_bearer(fmt, unit.value)
    elif unit.keyless_ok and FORMAT_BY_NAME[fmt].code and g.r.random() < 0.25:
        line = render_keyless(fmt, unit.value)
    else:
        line = render_assign(fmt, unit.key or "value", unit.value, g)
    out.append(line)
    if unit.label == "secret":
        squashed = "".join(c for c in line.lower() if c.isalnum())
        keyless = unit.key is not None and unit.key.replace("_", "") not in squashed
        key = "(call argument)" if keyless and unit.kind != "bearer-header" else unit.key or ""
        w.label(rel, len(out), len(out), unit.kind, unit.core, fmt, key)
    elif unit.label == "neutral":
        w.neutral.append({"path": rel, "line": len(out), "kind": unit.kind})
    else:
        w.negatives.append({"path": rel, "line": len(out), "kind": unit.kind})


SERVICES = [
    "billing",
    "orders",
    "auth",
    "search",
    "mailer",
    "reports",
    "gateway",
    "inventory",
    "payments",
    "users",
]


def write_code_file(units: list[Unit], g: Gen, w: Writer, repo: str) -> None:
    fmt = g.r.choice(FORMATS)
    if any(u.kind == "bearer-header" for u in units) and fmt.name in (
        "toml",
        "ini",
        "properties",
        "xml",
        "terraform",
        "dotenv",
        "dockerfile",
    ):
        fmt = FORMAT_BY_NAME["shell"]
    rel = w.unique(f"{repo}/" + g.r.choice(fmt.paths).format(svc=g.r.choice(SERVICES)))
    out: list[str] = list(fmt.header)
    for unit in units:
        out.extend(g.r.choice(fmt.filler) for _ in range(g.r.randint(0, 3)))
        place(unit, fmt.name, g, out, w, rel)
    out.extend(fmt.footer)
    w.write(rel, out, fmt.name)


def write_pem_file(unit: Unit, g: Gen, w: Writer, repo: str) -> None:
    name = g.r.choice(["certs/server.key", "keys/deploy.pem", ".ssh/id_deploy", "secrets/signing.key"])
    rel = w.unique(f"{repo}/{name}")
    lines = (unit.pem or "").rstrip("\n").split("\n")
    w.label(rel, 1, len(lines), unit.kind, unit.core, "pem-file", name)
    w.write(rel, lines, "pem")


def write_gcp_sa(g: Gen, w: Writer, repo: str) -> None:
    key = rsa_key(g, 2048)
    pem = pem_of(key, pkcs8=True)
    project = f"acme-{g.r.choice(SERVICES)}-{g.r.randint(100, 999)}"
    email = f"{g.r.choice(SERVICES)}-sa@{project}.iam.gserviceaccount.com"
    entries = [
        ("type", "service_account"), ("project_id", project), ("private_key_id", g.s(HEX, 40)),
        ("private_key", pem), ("client_email", email), ("client_id", str(g.r.randint(10**20, 10**21))),
        ("auth_uri", "https://accounts.google.com/o/oauth2/auth"), ("token_uri", "https://oauth2.googleapis.com/token"),
    ]  # fmt: skip
    rel = w.unique(f"{repo}/credentials/{project}.json")
    lines = ["{"]
    for i, (k, v) in enumerate(entries):
        comma = "," if i < len(entries) - 1 else ""
        lines.append(f'  "{k}": {json.dumps(v)}{comma}')
        if k == "private_key":
            w.label(rel, len(lines), len(lines), "gcp-service-account", pem, "json", k)
        elif k == "private_key_id":
            w.neutral.append({"path": rel, "line": len(lines), "kind": "gcp-private-key-id"})
    lines.append("}")
    w.write(rel, lines, "json")


def write_lockfiles(g: Gen, w: Writer, repo: str, count: int) -> int:
    """package-lock.json, yarn.lock, poetry.lock, go.sum, requirements.txt: integrity lines only."""
    kinds = ["package-lock.json", "yarn.lock", "poetry.lock", "go.sum", "requirements.txt"]
    written = 0
    for kind in kinds:
        rel = w.unique(f"{repo}/{kind}")
        lines: list[str] = []
        negs: list[int] = []
        for i in range(count):
            pkg = f"pkg-{g.s(string.ascii_lowercase, 6)}"
            sha512 = base64.b64encode(g.raw(64)).decode()
            if kind == "package-lock.json":
                lines += [f'    "node_modules/{pkg}": {{', f'      "version": "1.{i}.0",']
                lines.append(f'      "integrity": "sha512-{sha512}"')
                negs.append(len(lines))
                lines.append("    },")
            elif kind == "yarn.lock":
                lines += [f'"{pkg}@^1.{i}.0":', f'  version "1.{i}.0"']
                lines.append(f"  integrity sha512-{sha512}")
                negs.append(len(lines))
                lines.append("")
            elif kind == "poetry.lock":
                lines += ["[[package]]", f'name = "{pkg}"', "files = ["]
                lines.append(
                    f'    {{file = "{pkg}-1.{i}.0-py3-none-any.whl", hash = "sha256:{g.s(HEX, 64)}"}},'
                )
                negs.append(len(lines))
                lines += ["]", ""]
            elif kind == "go.sum":
                lines.append(f"github.com/acme/{pkg} v1.{i}.0 h1:{base64.b64encode(g.raw(32)).decode()}")
                negs.append(len(lines))
            else:
                lines.append(f"{pkg}==1.{i}.0 --hash=sha256:{g.s(HEX, 64)}")
                negs.append(len(lines))
        if kind == "package-lock.json":
            lines = ["{", '  "lockfileVersion": 3,', '  "packages": {', *lines, "  }", "}"]
            negs = [n + 3 for n in negs]
        for n in negs:
            w.negatives.append({"path": rel, "line": n, "kind": "integrity"})
        written += len(negs)
        w.write(rel, lines, "lockfile")
    return written


def build(out: Path, seed: int, scale: int) -> dict[str, object]:
    g = Gen(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "tree").mkdir(parents=True)
    w = Writer(out / "tree")
    units: list[Unit] = []
    pem_units: list[Unit] = []
    for _ in range(scale):
        for maker, count in SECRET_TYPES.values():
            units.extend(maker(g) for _ in range(count))
        for kind, count in PEM_TYPES.items():
            pem_units.extend(make_pem_secret(kind, g) for _ in range(count))
        pool: list[tuple[str, str]] = []
        for _ in range(25):
            key = rsa_key(g, 1024) if g.r.random() < 0.5 else ec_key(g)
            ssh = key.public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
            )
            block = (
                public_pem(key)
                if g.r.random() < 0.7 or not isinstance(key, rsa.RSAPrivateKey)
                else certificate_pem(key, g)
            )
            pool.append((ssh.decode() + " deploy@acme", block))
        units.extend(_public_key(g, pool) for _ in range(PUBLIC_KEY_COUNT))
        for maker_n, count in NEGATIVE_TYPES.values():
            units.extend(maker_n(g) for _ in range(count))
    # Half of the private keys go to their own files, the other half are embedded in code/config.
    g.r.shuffle(pem_units)
    half = len(pem_units) // 2
    units.extend(pem_units[half:])
    g.r.shuffle(units)
    repo_count = 40 * scale
    i = 0
    while i < len(units):
        take = g.r.randint(2, 8)
        write_code_file(units[i : i + take], g, w, f"repo{g.r.randrange(repo_count):03d}")
        i += take
    for unit in pem_units[:half]:
        write_pem_file(unit, g, w, f"repo{g.r.randrange(repo_count):03d}")
    for _ in range(GCP_SA_FILES * scale):
        write_gcp_sa(g, w, f"repo{g.r.randrange(repo_count):03d}")
    for k in range(scale):
        write_lockfiles(g, w, f"repo{k:03d}", 60)

    def dump(name: str, rows: list[dict[str, object]]) -> None:
        with (out / name).open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, sort_keys=True) + "\n" for row in rows)

    dump("labels.jsonl", w.labels)
    dump("negatives.jsonl", w.negatives)
    dump("neutral.jsonl", w.neutral)
    size = sum(f.stat().st_size for f in (out / "tree").rglob("*") if f.is_file())
    manifest: dict[str, object] = {
        "seed": seed,
        "scale": scale,
        "files": sum(w.formats.values()),
        "bytes": size,
        "secrets": len(w.labels),
        "secret_types": len({row["type"] for row in w.labels}),
        "negatives": len(w.negatives),
        "by_type": dict(sorted(Counter(str(row["type"]) for row in w.labels).items())),
        "by_negative_kind": dict(sorted(Counter(str(row["kind"]) for row in w.negatives).items())),
        "by_format": dict(sorted(w.formats.items())),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--scale", type=int, default=1, help="repeat the whole corpus N times (memory test)")
    args = parser.parse_args()
    manifest = build(args.out, args.seed, args.scale)
    summary = {k: manifest[k] for k in ("files", "bytes", "secrets", "secret_types", "negatives")}
    print(json.dumps(summary), "->", os.path.relpath(args.out))


if __name__ == "__main__":
    main()
