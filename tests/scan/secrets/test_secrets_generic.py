"""The generic detector across code and configuration formats."""

from __future__ import annotations

import pytest
from secrets_helpers import hits_for, rule_ids

from bastion.findings import Confidence
from bastion.scan.secrets.detect import Detector

VALUE = "Hq8#vLz2Pw9!mKt4"  # random, four character classes

FOUND = [
    ("config.yaml", f"  password: {VALUE}", "secrets.generic-password"),
    ("config.yaml", f'  db_password: "{VALUE}"', "secrets.generic-password"),
    ("settings.json", f'{{"clientSecret": "{VALUE}"}}', "secrets.generic-secret"),
    ("pyproject.toml", f'api_key = "{VALUE}"', "secrets.generic-api-key"),
    ("app.ini", f"auth_token = {VALUE}", "secrets.generic-token"),
    ("service.env", f"SERVICE_TOKEN={VALUE}", "secrets.generic-token"),
    (".env", f"DB_PASS={VALUE}", "secrets.generic-password"),
    ("app.properties", f"spring.datasource.password={VALUE}", "secrets.generic-password"),
    ("web.config", f'<add key="DbPassword" value="{VALUE}" />', "secrets.generic-password"),
    ("pom.xml", f"<password>{VALUE}</password>", "secrets.generic-password"),
    ("main.tf", f'  password = "{VALUE}"', "secrets.generic-password"),
    ("aligned.tf", f'  password            = "{VALUE}"', "secrets.generic-password"),  # terraform fmt
    ("Dockerfile", f"ENV API_KEY={VALUE}", "secrets.generic-api-key"),
    ("Dockerfile", f"ARG NPM_TOKEN {VALUE}", "secrets.generic-token"),
    ("deploy.sh", f"export ACCESS_KEY={VALUE}", "secrets.generic-api-key"),
    ("app.py", f'PASSWORD = "{VALUE}"', "secrets.generic-password"),
    ("app.py", f'connect(user="svc", password="{VALUE}")', "secrets.generic-password"),
    ("main.go", f'apiKey := "{VALUE}"', "secrets.generic-api-key"),
    ("config.php", f"'secret' => '{VALUE}',", "secrets.generic-secret"),
    ("Client.java", f'private static final String CREDENTIALS = "{VALUE}";', "secrets.generic-credential"),
]


@pytest.mark.parametrize(("path", "line", "rule_id"), FOUND)
def test_generic_assignment_is_found(detector: Detector, path: str, line: str, rule_id: str) -> None:
    assert rule_ids(detector, line, path) == {rule_id}


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("app.py", "password = user_password"),
        ("app.py", "token = request.headers[AUTH]"),
        ("app.js", "const secret = loadSecret();"),
        ("config.yaml", "password: true"),
        ("config.yaml", "token: 12345678901"),
        ("config.yaml", "password:"),
        ("app.py", 'password = ""'),
        ("config.yaml", "password: short"),
        ("pyproject.toml", 'secrets = "bastion.scan.secrets:SecretsScanner"'),  # an entry point
        ("settings.py", 'TOKEN_BACKEND = "auth.backends.token.JWTBackend"'),
        ("auth.py", 'BASIC_PASSWORD = "basic-password"'),  # an enum value naming the style
        ("verify.py", '_CREDENTIAL = "bastion.credential"'),  # an extension key
        ("forms.py", 'password_field = "user_password"'),
    ],
)
def test_generic_ignores_references_and_non_values(detector: Detector, path: str, line: str) -> None:
    assert rule_ids(detector, line, path) == set()


@pytest.mark.parametrize(
    ("value", "confidence"),
    [
        (VALUE, Confidence.HIGH),
        ("k3v9p2q8z1", Confidence.MEDIUM),
        ("hunter22", Confidence.MEDIUM),
        ("sunshine", Confidence.LOW),
    ],
)
def test_generic_confidence_follows_entropy_and_character_classes(
    detector: Detector, value: str, confidence: Confidence
) -> None:
    (hit,) = hits_for(detector, f"password: {value}", "config.yaml")
    assert hit.confidence is confidence


def test_provider_rule_wins_over_generic_on_the_same_value(detector: Detector) -> None:
    token = "xoxb-" + "4820193756102-9183746501928-" + "Ab3dE5gH7jK9mN1pQ3sT5vW7"
    assert rule_ids(detector, f'SLACK_TOKEN = "{token}"', "app.py") == {"secrets.slack-bot-token"}
