"""Passwords in connection URIs with the characters real passwords have (``@ # % ! ^ & = + * $ ~``,
percent-encoding, an ``@`` inside the password), IPv6 hosts, ports and query strings, in every
file kind: the whole password is the secret, never a piece of it."""

from __future__ import annotations

import pytest

from bastion.scan.secrets.scanner import detector_for

SCHEMES = {
    "postgres": "secrets.postgres-uri-password",
    "postgresql+psycopg": "secrets.postgres-uri-password",
    "mysql": "secrets.mysql-uri-password",
    "mongodb+srv": "secrets.mongodb-uri-password",
    "rediss": "secrets.redis-uri-password",
    "amqps": "secrets.amqp-uri-password",
    "mssql": "secrets.mssql-uri-password",
    "ldaps": "secrets.ldap-uri-password",
    "smtp": "secrets.smtp-uri-password",
    "sftp": "secrets.ftp-uri-password",
    "https": "secrets.http-basic-auth-url",
}
# Generated for this test; they grant nothing.
PASSWORDS = ["Xq7@Lm2#pR9!vT", "Kd4%21Wz8%40Rt6", "Hb3^k&=+Pq*$~9Z", "aB9@@cD3ef7G"]
HOSTS = ["db-7.internal.corp.net:5432", "[fd00::5]:6379", "10.20.30.40"]
SUFFIXES = ["/app", "/app?sslmode=require&connect_timeout=10", ""]


def _lines(uri: str) -> list[tuple[str, str]]:
    """The URI in each key context: YAML, JSON, XML, env, code string, properties."""
    return [
        ("config.yaml", f"database:\n  url: {uri}\n"),
        ("config.json", f'{{"database": {{"url": "{uri}"}}}}\n'),
        ("web.config", f'<add name="db" value="{uri}" />\n'),
        (".env", f"DATABASE_URL={uri}\n"),
        ("settings.py", f'DATABASE_URL = "{uri}"\n'),
        ("app.properties", f"spring.datasource.url={uri}\n"),
    ]


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
@pytest.mark.parametrize("password", PASSWORDS)
def test_whole_password_is_found_in_every_context(scheme: str, password: str) -> None:
    detector = detector_for((), frozenset(), True)
    for index, (host, suffix) in enumerate(zip(HOSTS, SUFFIXES, strict=True)):
        uri = f"{scheme}://svc_user{index}:{password}@{host}{suffix}"
        for path, text in _lines(uri):
            hits = [h for h in detector.detect(text, path) if h.rule_id == SCHEMES[scheme]]
            assert hits, (path, text)
            assert hits[0].secret == password, (path, text, len(hits[0].secret))


def test_no_password_or_a_reference_is_not_a_secret() -> None:
    detector = detector_for((), frozenset(), True)
    for text in (
        "url: postgres://app@db-7.internal.corp.net:5432/app\n",
        "url: postgres://app:${DB_PASSWORD}@db-7.internal.corp.net:5432/app\n",
        "contact: mailto:ops@corp.net and https://corp.net/a@b\n",
    ):
        assert not [h for h in detector.detect(text, "config.yaml") if h.rule_id.endswith("uri-password")], (
            text
        )
