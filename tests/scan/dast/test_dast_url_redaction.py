"""No URL a DAST scan reports carries a credential in full: query values, user info, fragments and
path segments are redacted in every output format (issue: a page linking ``/p?api_key=ghp_…``)."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from dast_servers import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from bastion.cli.main import main
from bastion.findings import Finding, Location, Severity
from bastion.scan.dast.redact import is_credential_name, redact_finding, redact_text_urls, redact_url

RNG = random.Random(1913)  # a fixed seed: the same "random" cases on every run
ALNUM = string.ascii_letters + string.digits


def _token(kind: str) -> str:
    """A fresh, format-valid credential of ``kind`` (generated here: it grants nothing)."""
    if kind == "github":
        return "ghp_" + "".join(RNG.choice(ALNUM) for _ in range(36))
    if kind == "aws":
        return "AKIA" + "".join(RNG.choice(string.ascii_uppercase + "234567") for _ in range(16))
    if kind == "slack":
        digits = "".join(RNG.choice(string.digits) for _ in range(12))
        return f"xoxb-{digits}-{digits[:11]}-" + "".join(RNG.choice(ALNUM) for _ in range(24))
    if kind == "stripe":
        return "sk_live_" + "".join(RNG.choice(ALNUM) for _ in range(24))
    return "".join(RNG.choice(ALNUM + "-_") for _ in range(RNG.randint(12, 40)))  # a plain password


RECOGNISED = ("github", "aws", "slack", "stripe")


def _placements(secret: str, recognised: bool) -> list[str]:
    """URLs carrying ``secret`` in each place a URL can; a plain password only where its name says so."""
    base = f"http://127.0.0.1:{RNG.randint(1024, 65000)}"
    urls = [
        f"{base}/p?api_key={secret}",
        f"{base}/p?page=2&accessToken={secret}&sort=asc",
        f"{base}/login?user=ann&password={secret}",
        f"{base}/s3/object?X-Amz-Signature={secret}",
        f"https://deploy:{secret}@127.0.0.1/hook",
        f"{base}/cb#access_token={secret}&token_type=bearer",
        f"{base}/p?session_id={secret}",
    ]
    if recognised:
        urls += [
            f"{base}/p?q={secret}",
            f"{base}/hooks/{secret}/notify",
            f"{base}/p#{secret}",
            f"https://{secret}@127.0.0.1/repo.git",
            f"{base}/p?next=/x&ref={secret}",
        ]
    return urls


def test_no_full_secret_survives_in_any_place_of_a_url() -> None:
    """Property: over many generated credentials, in every place, the secret never comes out whole."""
    for _ in range(60):
        kind = RNG.choice([*RECOGNISED, "password"])
        secret = _token(kind)
        for url in _placements(secret, kind in RECOGNISED):
            redacted = redact_url(url)
            assert secret not in redacted, (kind, url, redacted)
            assert redacted.split("://", 1)[0] == url.split("://", 1)[0]  # still reads as the URL
            assert secret not in redact_text_urls(f"GET {url} answered 500")


def test_urls_without_credentials_are_unchanged() -> None:
    for url in (
        "https://127.0.0.1:8443/search?q=shoes&page=2",
        "http://127.0.0.1/view?file=readme.txt#top",
        "http://user@127.0.0.1/a/b/c.html",
        "http://127.0.0.1/go?url=%2Fabout&lang=en",
        "not a url at all",
        "",
    ):
        assert redact_url(url) == url


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("api_key", True),
        ("apiKey", True),
        ("access_token", True),
        ("X-Amz-Signature", True),
        ("password", True),
        ("client_secret", True),
        ("PHPSESSID", True),
        ("sid", True),
        ("page", False),
        ("q", False),
        ("keyword", False),
        ("tokenizer", False),
        ("sort", False),
    ],
)
def test_credential_parameter_names(name: str, credential: bool) -> None:
    assert is_credential_name(name) is credential


def test_redact_finding_covers_every_field_that_can_hold_a_url() -> None:
    secret = _token("github")
    url = f"http://127.0.0.1/p?api_key={secret}"
    finding = Finding(
        rule_id="dast.stack-trace",
        scanner="dast",
        title=f"Stack trace at {url}",
        severity=Severity.MEDIUM,
        location=Location(url=url),
        message=f"Python stack trace in the response of {url}",
        fingerprint="f" * 32,
        evidence=f"Traceback ... {secret}",
        fix=f"see {url}",
        help_uri=url,
        metadata={"urls": [url, "http://127.0.0.1/ok"], "nested": {"first": url}, "instances": 2},
    )
    clean = redact_finding(finding)
    assert secret not in json.dumps(clean.to_dict())
    assert clean.fingerprint == finding.fingerprint and clean.metadata["instances"] == 2
    assert clean.metadata["urls"][1] == "http://127.0.0.1/ok"


SECRETS = [_token(kind) for kind in (*RECOGNISED, "password")]
TRACE = 'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\nKeyError: x\n'


def _leaky_app() -> Starlette:
    """A site whose links carry credentials; every linked page shows a stack trace (a finding)."""
    github, aws, slack, stripe, password = SECRETS
    links = [
        f"/p?api_key={github}",
        f"/hooks/{slack}/notify",
        f"/search?q={aws}",
        f"/login?user=ann&password={password}",
        f"/pay?ref={stripe}",
    ]

    async def index(_request: Request) -> Response:
        body = "".join(f'<a href="{link}">link</a>' for link in links)
        return HTMLResponse(f"<html><body>{body}</body></html>")

    async def trace(_request: Request) -> Response:
        return PlainTextResponse(TRACE, status_code=500)

    routes = [Route("/", index)] + [
        Route(path, trace) for path in ("/p", "/hooks/{token}/notify", "/search", "/login", "/pay")
    ]
    return Starlette(routes=routes)


@pytest.fixture(scope="module")
def leaky_url() -> Iterator[str]:
    with serve(_leaky_app()) as url:
        yield url


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "gitlab", "junit"])
def test_no_full_secret_in_any_output_format(
    leaky_url: str, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / f"dast.{fmt}"
    code = main(["dast", leaky_url, "--rate", "0", "-f", fmt, "-o", str(report), "--fail-on", "none"])
    assert code == 0
    out, err = capsys.readouterr()
    text = report.read_text() + out + err
    assert "stack" in text.lower()  # the secret-bearing pages were crawled and reported
    for secret in SECRETS:
        assert secret not in text, (fmt, secret)
    # Redacted, not dropped: the reader still sees which URL it was (JSON escapes the ellipsis).
    assert "\u2026(" in text or "\\u2026(" in text


def test_error_messages_quote_the_target_without_its_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    token, password = _token("github"), _token("password")
    target = f"http://deploy:{password}@127.0.0.1:9/?api_key={token}"  # port 9 (discard): refused
    assert main(["dast", target, "--rate", "0", "--timeout", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "127.0.0.1:9" in err
    assert token not in err and password not in err
    # A sentence around a URL keeps its punctuation out of the redacted value.
    assert redact_text_urls(f"at http://127.0.0.1/p?token={token}: refused") == (
        f"at http://127.0.0.1/p?token={token[:4]}\u2026({len(token)} chars): refused"
    )
