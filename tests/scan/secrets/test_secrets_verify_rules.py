"""The ``verify`` tables: the schema that checks them, the scanner options, and the built-in ones."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bastion.errors import ConfigError
from bastion.scan.base import ScanContext, ScanTarget, SourceFile
from bastion.scan.secrets.rules import BUILTIN_RULES, VerifySpec, load_rule_file, load_ruleset
from bastion.scan.secrets.scanner import SecretsScanner, parse_options
from bastion.scan.secrets.verify import MAX_BODY, Outcome, Verdict, Verifier, _Credential, check_base_url

RULES = load_ruleset([BUILTIN_RULES]).rules
VERIFIABLE = [rule for rule in RULES if rule.verify is not None]

# Where each provider's API lives: a verify URL pointing anywhere else would send the secret there.
HOSTS = {
    "airtable": "api.airtable.com",
    "anthropic": "api.anthropic.com",
    "asana": "app.asana.com",
    "digitalocean": "api.digitalocean.com",
    "doppler": "api.doppler.com",
    "figma": "api.figma.com",
    "gemini": "generativelanguage.googleapis.com",
    "github": "api.github.com",
    "gitlab": "gitlab.com",
    "huggingface": "huggingface.co",
    "linear": "api.linear.app",
    "mailgun": "api.mailgun.net",
    "notion": "api.notion.com",
    "npm": "registry.npmjs.org",
    "openai": "api.openai.com",
    "postman": "api.getpostman.com",
    "sendgrid": "api.sendgrid.com",
    "slack": "slack.com",
    "stripe": "api.stripe.com",
    "telegram": "api.telegram.org",
}
# The only POSTs allowed: endpoints that read the caller's identity and change nothing.
READ_ONLY_POSTS = {("slack", "/api/auth.test"), ("linear", "/graphql")}
RULE = """[[rules]]
id = "secrets.test-key"
description = "Test key"
regex = '(?P<secret>tk_[a-z0-9]{32})'
keywords = ["tk_"]
severity = "medium"
confidence = "medium"
examples.positive = ["k = tk_0123456789abcdef0123456789abcdef"]
examples.negative = ["k = tk_short"]
verify.provider = "acme"
"""
GOOD = {"url": '"https://api.acme.example/v1/me"', "auth": '"bearer"', "ok": "[200]", "invalid": "[401]"}


def test_builtin_verify_urls_are_https_on_their_providers_host() -> None:
    assert len(VERIFIABLE) >= 12
    assert {rule.verify.provider for rule in VERIFIABLE if rule.verify is not None} == set(HOSTS)
    for rule in VERIFIABLE:
        assert rule.verify is not None
        parts = urlsplit(rule.verify.url)
        assert (rule.id, parts.scheme, parts.hostname) == (rule.id, "https", HOSTS[rule.verify.provider])


def test_builtin_verifiers_only_read() -> None:
    posts = {
        (rule.verify.provider, urlsplit(rule.verify.url).path)
        for rule in VERIFIABLE
        if rule.verify is not None and rule.verify.method == "POST"
    }
    assert posts == READ_ONLY_POSTS


def _write(tmp_path: Path, **fields: str) -> Path:
    table = {**GOOD, **fields}
    path = tmp_path / "custom.toml"
    lines = [f"verify.{key} = {value}" for key, value in table.items() if value]
    path.write_text(RULE + "\n".join(lines) + "\n")
    return path


def test_a_well_formed_table_loads(tmp_path: Path) -> None:
    (rule,) = load_rule_file(_write(tmp_path, auth='"query:key"'))
    assert rule.verify is not None and rule.verify.auth_name == "key"


GITHUB = VerifySpec(
    provider="github", url="https://api.github.com/user", auth="bearer", ok=[200], invalid=[401]
)
SLACK = VerifySpec(
    provider="slack",
    method="POST",
    url="https://slack.com/api/auth.test",
    auth="bearer",
    ok=[200],
    invalid=[401],
    require_true="ok",
)


def test_a_secret_that_is_not_printable_ascii_is_never_sent() -> None:
    sent: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(provider)
    with Verifier(transport=transport) as verifier:
        outcome = verifier.verify(GITHUB, "ghp_caf\u00e9" + "x" * 32)
    assert outcome == Outcome(Verdict.UNKNOWN, "not printable ASCII, not sent")
    assert sent == []


def test_only_the_head_of_a_huge_body_is_read() -> None:
    huge = b'{"ok": true, "pad": "' + b"x" * (2 * MAX_BODY) + b'"}'
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, content=huge))
    with Verifier(transport=transport) as verifier:
        outcome = verifier.verify(SLACK, "xoxb-not-a-real-token")
    assert outcome.verdict is Verdict.UNKNOWN


def test_the_credential_is_redacted_in_reprs() -> None:
    assert "0123456789abcdef" not in repr(_Credential(GITHUB, "ghp_0123456789abcdef0123456789abcdef0123"))


@pytest.mark.parametrize(
    ("fields", "where", "reason"),
    [
        ({"auth": '"cookie"'}, "verify.auth", "should match pattern"),
        ({"url": '"http://api.acme.example/v1/me"'}, "verify.url", "https"),
        ({"url": '"https://user:pw@api.acme.example/"'}, "verify.url", "credentials"),
        ({"retries": "3"}, "verify.retries", "unknown key"),
        ({"ok": "[]"}, "verify.ok", "at least 1"),
        ({"ok": "[200, 429]"}, "verify", "429"),
        ({"ok": "[200, 302]"}, "verify", "redirects"),
        ({"invalid": "[201]"}, "verify", "4xx"),
        ({"invalid": "[200, 401]", "ok": "[200]"}, "verify", "both ok and invalid"),
        ({"auth": '"path"'}, "verify", "{secret}"),
        ({"url": '"https://api.acme.example/bot{secret}"'}, "verify", "{secret}"),
        (
            {"url": '"https://api.acme.example/bot{secret}?k={secret}"', "auth": '"path"'},
            "verify",
            "{secret}",
        ),
        ({"auth": '"basic-password"'}, "verify", "username"),
        ({"body": "'{}'"}, "verify", "POST"),
        ({"headers": '{ Authorization = "x" }'}, "verify", "Authorization"),
        ({"method": '"DELETE"'}, "verify.method", "GET"),
    ],
)
def test_a_malformed_table_names_file_rule_and_field(
    tmp_path: Path, fields: dict[str, str], where: str, reason: str
) -> None:
    path = _write(tmp_path, **fields)
    with pytest.raises(ConfigError) as caught:
        load_rule_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: rule 'secrets.test-key': {where}: ")
    assert reason in message


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"verify_base_urls": {"github": "http://ghe.example.com/api/v3"}}, "must use https"),
        ({"verify_base_urls": {"github": "https://ghe.example.com/api/v3?x=1"}}, "a query"),
        ({"verify_base_urls": {"github": "ghe.example.com"}}, "absolute"),
        ({"verify_timeout": 0}, "greater than 0"),
        ({"verify": "sometimes"}, "boolean"),
    ],
)
def test_bad_verify_options_are_config_errors(options: dict[str, object], reason: str) -> None:
    with pytest.raises(ConfigError, match=r"^scanners\.secrets\.verify") as caught:
        parse_options(options)
    assert reason in str(caught.value)


def test_base_urls_must_name_a_known_provider() -> None:
    with pytest.raises(ConfigError, match=r"verify_base_urls: unknown provider 'githb'"):
        SecretsScanner().check_options({"verify_base_urls": {"githb": "https://ghe.example.com"}})


def test_enterprise_and_loopback_base_urls_are_accepted() -> None:
    options = {
        "verify": True,
        "verify_base_urls": {"github": "https://ghe.example.com/api/v3", "gitlab": "http://127.0.0.1:8080"},
    }
    SecretsScanner().check_options(options)
    assert parse_options(options).verify_base_urls["github"] == "https://ghe.example.com/api/v3"
    assert check_base_url("http://localhost:8080/api") == "http://localhost:8080/api"


def test_the_verifier_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        Verifier(timeout=0)
    with pytest.raises(ValueError, match="https"):
        Verifier(base_urls={"github": "http://ghe.example.com"})


def test_an_injected_transport_gets_the_real_url_and_the_credential(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def github(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"login": "someone"})

    token = "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"  # the rule's own example: random, not real
    unverifiable = next(r for r in RULES if r.id == "secrets.pypi-upload-token").examples.positive[0]
    (tmp_path / "app.py").write_text(f'GITHUB_TOKEN = "{token}"\n{unverifiable}\n')
    files = (SourceFile(str(tmp_path / "app.py"), "app.py", 1),)
    scanner = SecretsScanner(transport=httpx.MockTransport(github))
    found = list(scanner.scan(ScanTarget(tmp_path, files), ScanContext("secrets", {"verify": True})))
    assert {f.rule_id: f.metadata.get("verification") for f in found} == {
        "secrets.github-pat-classic": "verified",
        "secrets.pypi-upload-token": None,
    }
    (request,) = seen
    assert str(request.url) == "https://api.github.com/user"
    assert request.headers["authorization"] == f"Bearer {token}"
