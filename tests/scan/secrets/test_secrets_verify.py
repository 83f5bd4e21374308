"""Live verification (``verify = true``) against a loopback stand-in for the providers, never the internet."""

from __future__ import annotations

import base64
import json
import logging
import random
import socket
import string
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from secrets_verify_server import ProviderServer, Reply, Seen, serve

from bastion.findings import Confidence, Finding, Severity
from bastion.results import ScanResult
from bastion.scan.base import HistoryMode, HistorySpec
from bastion.scan.engine import EngineOptions, run_scan
from bastion.scan.registry import Registration
from bastion.scan.secrets.detect import Detector
from bastion.scan.secrets.rules import BUILTIN_RULES, Rule, VerifySpec, load_ruleset
from bastion.scan.secrets.validators import base62
from bastion.scan.secrets.verify import USER_AGENT, Verdict, Verifier

SECRETS = Registration("secrets", "bastion.scan.secrets:SecretsScanner")
RULES = load_ruleset([BUILTIN_RULES]).rules
VERIFIABLE = [rule for rule in RULES if rule.verify is not None]
PROVIDERS = sorted({rule.verify.provider for rule in VERIFIABLE if rule.verify is not None})
RNG = random.Random(7)

# Rule -> (method, path under the provider's base URL, where the secret must travel).
EXPECTED = {
    "secrets.github-pat-classic": ("GET", "/user", "bearer"),
    "secrets.github-oauth-token": ("GET", "/user", "bearer"),
    "secrets.github-user-to-server-token": ("GET", "/user", "bearer"),
    "secrets.github-fine-grained-pat": ("GET", "/user", "bearer"),
    "secrets.github-server-to-server-token": ("GET", "/installation/repositories?per_page=1", "bearer"),
    "secrets.gitlab-pat": ("GET", "/api/v4/user", "header:private-token"),
    "secrets.gitlab-pat-routable": ("GET", "/api/v4/user", "header:private-token"),
    "secrets.slack-bot-token": ("POST", "/api/auth.test", "bearer"),
    "secrets.slack-user-token": ("POST", "/api/auth.test", "bearer"),
    "secrets.stripe-live-secret-key": ("GET", "/v1/account", "basic-user"),
    "secrets.stripe-test-secret-key": ("GET", "/v1/account", "basic-user"),
    "secrets.stripe-live-restricted-key": ("GET", "/v1/account", "basic-user"),
    "secrets.stripe-test-restricted-key": ("GET", "/v1/account", "basic-user"),
    "secrets.openai-api-key": ("GET", "/v1/models", "bearer"),
    "secrets.anthropic-api-key": ("GET", "/v1/models", "header:x-api-key"),
    "secrets.huggingface-token": ("GET", "/api/whoami-v2", "bearer"),
    "secrets.npm-access-token": ("GET", "/-/whoami", "bearer"),
    "secrets.sendgrid-api-key": ("GET", "/v3/scopes", "bearer"),
    "secrets.digitalocean-pat": ("GET", "/v2/account", "bearer"),
    "secrets.digitalocean-oauth-token": ("GET", "/v2/account", "bearer"),
    "secrets.linear-api-key": ("POST", "/graphql", "header:authorization"),
    "secrets.linear-oauth-token": ("POST", "/graphql", "bearer"),
    "secrets.telegram-bot-token": ("GET", "/bot{secret}/getMe", "path"),
    "secrets.mailgun-api-key": ("GET", "/v3/domains?limit=1", "basic:api"),
    "secrets.mailgun-api-key-v2": ("GET", "/v3/domains?limit=1", "basic:api"),
    "secrets.postman-api-key": ("GET", "/me", "header:x-api-key"),
    "secrets.google-gemini-api-key": ("GET", "/v1beta/models", "header:x-goog-api-key"),
    "secrets.notion-integration-token": ("GET", "/v1/users/me", "bearer"),
    "secrets.notion-api-token": ("GET", "/v1/users/me", "bearer"),
    "secrets.airtable-pat": ("GET", "/v0/meta/whoami", "bearer"),
    "secrets.asana-pat": ("GET", "/api/1.0/users/me", "bearer"),
    "secrets.figma-pat": ("GET", "/v1/me", "header:x-figma-token"),
    "secrets.doppler-personal-token": ("GET", "/v3/me", "bearer"),
}
STATIC_HEADERS = {
    "anthropic": {"anthropic-version": "2023-06-01"},
    "notion": {"notion-version": "2022-06-28"},
}


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    """A provider stand-in on 127.0.0.1, stopped after the test."""
    running = serve()
    yield running
    running.stop()


def _token() -> str:
    """A GitHub classic token with a valid checksum; random, never a real credential."""
    body = "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(30))
    return "ghp_" + body + base62(zlib.crc32(body.encode())).rjust(6, "0")


def _options(server: ProviderServer, **extra: object) -> dict[str, object]:
    bases = {provider: f"{server.url}/{provider}" for provider in PROVIDERS}
    return {"verify": True, "verify_timeout": 3.0, "verify_base_urls": bases, **extra}


def _scan(root: Path, options: dict[str, object], history: HistorySpec | None = None) -> ScanResult:
    engine = EngineOptions(jobs=1, scanner_options={"secrets": options}, history=history)
    result = run_scan(root, [SECRETS], engine)
    assert result.failures == []
    return result


def _only(result: ScanResult) -> Finding:
    (finding,) = result.findings
    return finding


def _secret(detector: Detector, rule: Rule) -> str:
    (hit,) = [h for h in detector.detect(rule.examples.positive[0], "settings.py") if h.rule_id == rule.id]
    return hit.secret


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_live_secret_becomes_critical_with_high_confidence(server: ProviderServer, tmp_path: Path) -> None:
    token = _token()
    server.script[token] = Reply()
    (tmp_path / "app.py").write_text(f'GITHUB_TOKEN = "{token}"\n')
    finding = _only(_scan(tmp_path, _options(server)))
    assert finding.severity is Severity.CRITICAL and finding.confidence is Confidence.HIGH
    assert finding.metadata["verification"] == "verified"
    assert finding.metadata["verification_provider"] == "github"
    assert finding.metadata["verification_detail"] == "http 200"
    assert "verified live" in finding.message and token not in finding.message
    (seen,) = server.requests
    assert (seen.method, seen.path) == ("GET", "/github/user")
    assert seen.headers["user-agent"] == USER_AGENT and USER_AGENT.startswith("bastion-secrets-verify")


def test_a_rejected_secret_keeps_its_severity_with_low_confidence(
    server: ProviderServer, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text(f'GITHUB_TOKEN = "{_token()}"\n')
    finding = _only(_scan(tmp_path, _options(server)))
    assert finding.severity is Severity.HIGH and finding.confidence is Confidence.LOW
    assert finding.metadata["verification"] == "invalid"
    assert "verification with github: invalid (http 401)" in finding.message


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        (Reply(status=429, body={"message": "slow down"}), "http 429"),
        (Reply(status=500, body=b"oops"), "http 500"),
        (Reply(status=503), "http 503"),
        (Reply(status=302, location="http://elsewhere.invalid/steal"), "http 302"),
        (Reply(status=200, delay=10.0), "ReadTimeout"),
    ],
    ids=["rate-limited", "server-error", "unavailable", "redirect", "timeout"],
)
def test_no_clear_answer_is_unknown(
    server: ProviderServer, tmp_path: Path, reply: Reply, detail: str
) -> None:
    token = _token()
    server.script[token] = reply
    (tmp_path / "app.py").write_text(f'GITHUB_TOKEN = "{token}"\n')
    result = _scan(tmp_path, _options(server, verify_timeout=1.0))
    finding = _only(result)
    assert (finding.metadata["verification"], finding.metadata["verification_detail"]) == ("unknown", detail)
    assert finding.severity is Severity.HIGH and finding.confidence is Confidence.HIGH
    assert len(server.requests) == 1  # a redirect is never followed
    assert any(detail in notice.message for notice in result.notices)


def test_a_refused_connection_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(f'GITHUB_TOKEN = "{_token()}"\n')
    options = {"verify": True, "verify_base_urls": {"github": f"http://127.0.0.1:{_closed_port()}"}}
    finding = _only(_scan(tmp_path, options))
    assert (finding.metadata["verification"], finding.metadata["verification_detail"]) == (
        "unknown",
        "ConnectError",
    )


@pytest.mark.parametrize(
    ("body", "verdict", "detail"),
    [
        ({"ok": True, "user": "bot"}, "verified", "http 200, ok=true"),
        ({"ok": False, "error": "invalid_auth"}, "invalid", "http 200, ok=false"),
        (b"<html>maintenance</html>", "unknown", "http 200, no boolean 'ok' in the body"),
    ],
)
def test_slack_answers_in_the_body(
    server: ProviderServer, detector: Detector, tmp_path: Path, body: object, verdict: str, detail: str
) -> None:
    rule = next(r for r in RULES if r.id == "secrets.slack-bot-token")
    server.script[_secret(detector, rule)] = Reply(status=200, body=body)
    (tmp_path / "app.py").write_text(rule.examples.positive[0] + "\n")
    finding = _only(_scan(tmp_path, _options(server)))
    assert (finding.metadata["verification"], finding.metadata["verification_detail"]) == (verdict, detail)


def _carries(seen: Seen, secret: str, style: str) -> bool:
    """Whether ``seen`` holds ``secret`` exactly where ``style`` says, and nowhere else."""
    auth = seen.headers.get("authorization")
    in_path = secret in unquote(seen.path)
    if style == "path":
        return in_path and auth is None
    if in_path:
        return False
    if style == "bearer":
        return auth == f"Bearer {secret}"
    if style == "basic-user":
        return auth == _basic(secret, "")
    if style.startswith("basic:"):
        return auth == _basic(style.removeprefix("basic:"), secret)
    name = style.removeprefix("header:")
    return seen.headers.get(name) == secret and (name == "authorization" or auth is None)


def test_each_provider_gets_the_request_and_auth_style_it_expects(
    server: ProviderServer, detector: Detector, tmp_path: Path
) -> None:
    secrets = {rule.id: _secret(detector, rule) for rule in VERIFIABLE}
    server.script = {secret: Reply() for secret in secrets.values()}
    for index, rule in enumerate(VERIFIABLE):
        (tmp_path / f"case{index}.py").write_text(rule.examples.positive[0] + "\n")
    result = _scan(tmp_path, _options(server))
    assert {f.rule_id: f.metadata["verification"] for f in result.findings} == dict.fromkeys(
        secrets, "verified"
    )
    problems = []
    for rule in VERIFIABLE:
        assert rule.verify is not None
        secret, provider = secrets[rule.id], rule.verify.provider
        method, path, style = EXPECTED[rule.id]
        (seen,) = [s for s in server.requests if secret in s.text()]
        wanted = f"/{provider}{path.replace('{secret}', secret)}"
        headers_ok = all(seen.headers.get(k) == v for k, v in STATIC_HEADERS.get(provider, {}).items())
        if (seen.method, unquote(seen.path)) != (method, wanted) or not headers_ok:
            problems.append(f"{rule.id}: {seen.method} {unquote(seen.path)}")
        if not _carries(seen, secret, style):
            problems.append(f"{rule.id}: secret not carried as {style}")
        if method == "POST" and provider == "linear":
            assert json.loads(seen.body) == {"query": "{ viewer { id } }"}
            assert seen.headers["content-type"] == "application/json"
    assert problems == []


def _query_rule(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.toml").write_text(
        """[[rules]]
id = "secrets.acme-key"
description = "Acme API key"
regex = '(?P<secret>acme_[a-z0-9]{32})'
keywords = ["acme_"]
severity = "medium"
confidence = "medium"
examples.positive = ["k = acme_0123456789abcdef0123456789abcdef"]
examples.negative = ["k = acme_short"]
verify.provider = "acme"
verify.url = "https://api.acme.example/v1/me"
verify.auth = "query:key"
verify.ok = [200]
verify.invalid = [401]
"""
    )
    return rules


def test_the_secret_never_reaches_logs_findings_or_notices(
    server: ProviderServer, detector: Detector, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    telegram = next(r for r in RULES if r.id == "secrets.telegram-bot-token")
    live, dead, slow, in_path = _token(), _token(), _token(), _secret(detector, telegram)
    in_query = "acme_" + "".join(RNG.choice("abcdef0123456789") for _ in range(32))
    server.script = {live: Reply(), slow: Reply(delay=10.0), in_path: Reply(), in_query: Reply()}
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text(
        f'A = "{live}"\nB = "{dead}"\nC = "{slow}"\nD = "{in_path}"\nE = "{in_query}"\n'
    )
    bases = {provider: f"{server.url}/{provider}" for provider in PROVIDERS} | {"acme": server.url}
    options = {"verify": True, "verify_timeout": 1.0, "verify_base_urls": bases}
    options["rules"] = [str(_query_rule(tmp_path))]
    result = _scan(src, options)
    verdicts = sorted(str(f.metadata["verification"]) for f in result.findings)
    assert verdicts == ["invalid", "unknown", "verified", "verified", "verified"]
    assert any(s.path == f"/v1/me?key={in_query}" for s in server.requests)
    assert "HTTP Request" in caplog.text  # httpx logged each URL, and the secret was not in it
    reports = json.dumps([f.to_dict() for f in result.findings] + [n.to_dict() for n in result.notices])
    for secret in (live, dead, slow, in_path, in_query):
        assert secret not in caplog.text
        assert secret not in reports


def test_each_secret_is_asked_once_per_run(server: ProviderServer, tmp_path: Path) -> None:
    token = _token()
    server.script[token] = Reply()
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text(f'T = "{token}"\nU = "{token}"\n')
    result = _scan(tmp_path, _options(server))
    assert len(result.findings) == 6
    assert {f.metadata["verification"] for f in result.findings} == {"verified"}
    assert len(server.requests) == 1


def test_the_verifier_caches_and_keeps_at_most_four_requests_in_flight(server: ProviderServer) -> None:
    spec = VerifySpec(
        provider="github", url="https://api.github.com/user", auth="bearer", ok=[200], invalid=[401]
    )
    server.default_delay = 0.1
    secrets = [_token() for _ in range(10)]
    with Verifier(timeout=3.0, base_urls={"github": server.url}) as verifier:
        outcomes = verifier.verify_all([(spec, s) for s in secrets])
        assert verifier.verify(spec, secrets[0]) == outcomes[0]
    assert {o.verdict for o in outcomes} == {Verdict.INVALID}
    assert len(server.requests) == 10
    assert 1 < server.max_inflight <= 4


def test_verify_off_sends_nothing(server: ProviderServer, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(f'GITHUB_TOKEN = "{_token()}"\n')
    finding = _only(_scan(tmp_path, {**_options(server), "verify": False}))
    assert server.requests == []
    assert "verification" not in finding.metadata


def test_a_token_failing_its_checksum_is_invalid_without_asking(
    server: ProviderServer, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text('GITHUB_TOKEN = "ghp_US2dg5sIKeEeeI6QMFYo8YfzasPPiN0p8dpX"\n')
    finding = _only(_scan(tmp_path, _options(server)))
    assert finding.metadata["verification"] == "invalid"
    assert finding.metadata["verification_detail"] == "fails the format check, not sent"
    assert server.requests == []


def test_every_verifiable_rule_has_an_expected_request() -> None:
    assert set(EXPECTED) == {rule.id for rule in VERIFIABLE}


def test_history_findings_are_verified_and_keep_their_commit(
    server: ProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Dev")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "dev@example.test")
    repo = tmp_path / "repo"
    repo.mkdir()
    token = _token()
    server.script[token] = Reply()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    (repo / "app.py").write_text(f'TOKEN = "{token}"\n')
    git("add", "app.py")
    git("commit", "-qm", "add")
    (repo / "app.py").write_text("TOKEN = os.environ['TOKEN']\n")
    git("commit", "-qam", "remove")
    finding = _only(_scan(repo, _options(server), history=HistorySpec(HistoryMode.ALL)))
    assert finding.metadata["verification"] == "verified" and finding.severity is Severity.CRITICAL
    assert "commit" in finding.metadata
    assert "verified live with github" in finding.message and "; added in commit " in finding.message
    assert len(server.requests) == 1
