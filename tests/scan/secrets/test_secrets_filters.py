"""False-positive control: what is dropped, what is kept at low severity, what stays."""

from __future__ import annotations

import pytest
from secrets_helpers import hits_for, rule_ids

from bastion.findings import Severity
from bastion.scan.secrets.detect import Detector
from bastion.scan.secrets.filters import Screen, screen

NOT_SECRETS = [
    ("settings.py", 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"'),
    ("settings.py", 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'),
    ("app.env", "DB_PASSWORD=changeme"),
    ("app.env", "API_TOKEN=<your-token>"),
    ("app.env", "API_TOKEN=${API_TOKEN}"),
    ("values.yaml", "password: {{ .Values.db.password }}"),
    ("values.yaml", 'password: "{{ db_password }}"'),
    ("app.env", "SECRET_KEY=xxxxxxxxxxxxxxxx"),
    ("app.env", "SECRET_KEY=****************"),
    ("app.env", "api_key=your_api_key_here"),
    ("settings.py", 'password = os.environ["DB_PASSWORD"]'),
    ("settings.py", 'token = os.getenv("TOKEN")'),
    ("server.js", "const token = process.env.API_TOKEN;"),
    ("app.yml", "password: vault:secret/data/db#password"),
    ("app.yml", "password: ssm:/prod/db/password"),
    ("app.yml", "token: arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-token"),
    ("users.py", 'password_hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"'),
    ("users.py", 'password = "$2b$12$KIXQJv5Cq0mH2pWl9Yl6JOp0Zf3W0j8k1b2c3d4e5f6g7h8i9j0kl"'),
    (
        "package-lock.json",
        '"integrity": "sha512-Kq5sNclPz7QV2+lfQIuT4FMSQGXA4f1aUl2tLwTt0rVKCaEbUvLvqoaSlN3pPh4f'
        'PpB7RbVntbWJRV8a6RClRA=="',
    ),
    ("app.yml", "secret: 3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
    ("style.css", 'token = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAA"'),
    ("authorized_keys.yml", "public_key: ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 deploy@host"),
    ("cert.yml", "-----BEGIN PUBLIC KEY-----"),
    ("forms.py", 'password_field = "password1"'),
    ("views.py", "password = get_password(user)"),
    ("tokens.py", 'TOKEN_URL = "https://auth.internal.net/oauth/token"'),
    ("tokenizer.py", 'tokenizer = "bert-base-uncased-whole-word"'),
    ("app.env", "SECRET_KEY_PATH=/etc/app/secret.key"),
    ("settings.py", 'PASSWORD_RESET_TIMEOUT = "259200"'),
    ("ui.js", "const passwordLabel = 'Enter your password';"),
]


@pytest.mark.parametrize(("path", "line"), NOT_SECRETS)
def test_not_a_secret(detector: Detector, path: str, line: str) -> None:
    assert rule_ids(detector, line, path) == set()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('DATABASE_URL = "postgres://postgres:postgres@localhost:5432/dev"', Severity.LOW),
        ('DATABASE_URL = "mysql://root:root@127.0.0.1/dev"', Severity.LOW),
        ('DATABASE_URL = "postgresql://app:password@db:5432/app"', Severity.LOW),
        ('DATABASE_URL = "postgres://app:Vq7$kPz91xLm@localhost/app"', Severity.MEDIUM),
        ('DATABASE_URL = "postgres://app:Vq7kPz91xLmRw2@db-1.prod.internal/app"', Severity.HIGH),
    ],
)
def test_local_development_defaults_are_kept_at_low_severity(
    detector: Detector, line: str, expected: Severity
) -> None:
    (hit,) = hits_for(detector, line, "settings.py")
    assert hit.severity is expected


@pytest.mark.parametrize(
    ("value", "context", "generic", "verdict"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "", False, Screen.EXAMPLE),
        ("${TOKEN}", "", True, Screen.PLACEHOLDER),
        ("%DB_PASS%", "", True, Screen.PLACEHOLDER),
        ("vault:kv/db", "", True, Screen.LOOKUP),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "", True, Screen.HASH),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "", False, Screen.KEEP),
        ("3f2504e0-4f89-41d3-9a0c-0305e82c3301", "", True, Screen.UUID),
        ("password", "", True, Screen.DEV_DEFAULT),
        ("Qm9v3kLz8wPx", "", True, Screen.KEEP),
    ],
)
def test_screen_table(value: str, context: str, generic: bool, verdict: Screen) -> None:
    assert screen(value, context, generic=generic) is verdict
