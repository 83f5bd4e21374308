"""Validators: real structures pass, near misses fail, and the verdict moves confidence."""

from __future__ import annotations

import base64
import json

import pytest
from secrets_helpers import hits_for

from bastion.findings import Confidence
from bastion.scan.secrets.detect import Detector
from bastion.scan.secrets.rules import BUILTIN_RULES, load_ruleset
from bastion.scan.secrets.validators import ValidatorName, Verdict, github_checksum, validate

BODY = "Zx81kQpL0vB3nM6tY2rE5wA9sD4fG7"  # 30 characters, random


def _ghp(body: str = BODY) -> str:
    return "ghp_" + body + github_checksum(body)


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _example(rule_id: str) -> str:
    return load_ruleset([BUILTIN_RULES]).by_id(rule_id).examples.positive[0]


@pytest.mark.parametrize(
    ("name", "secret", "verdict"),
    [
        (ValidatorName.GITHUB_CRC32, _ghp(), Verdict.VALID),
        (ValidatorName.GITHUB_CRC32, _ghp()[:-1] + ("A" if _ghp()[-1] != "A" else "B"), Verdict.INVALID),
        (ValidatorName.GITHUB_CRC32, "ghp_" + BODY + "000000", Verdict.INVALID),
        (ValidatorName.GITHUB_CRC32, _ghp()[:-2], Verdict.INVALID),
        (
            ValidatorName.JWT,
            f"{_b64url({'alg': 'HS256'})}.{_b64url({'sub': 'x'})}.c2lnbmF0dXJlc2lnbmF0dXJl",
            Verdict.VALID,
        ),
        (ValidatorName.JWT, f"{_b64url({'typ': 'JWT'})}.{_b64url({'sub': 'x'})}.c2ln", Verdict.INVALID),
        (ValidatorName.JWT, "eyJub3QganNvbg.eyJzdWIiOiJ4In0.c2ln", Verdict.INVALID),
        (ValidatorName.DOCKER_AUTH, base64.b64encode(b"deploy:s3cr3t-Value").decode(), Verdict.VALID),
        (ValidatorName.DOCKER_AUTH, base64.b64encode(b"no-colon-here").decode(), Verdict.INVALID),
        (ValidatorName.AZURE_STORAGE_KEY, base64.b64encode(bytes(range(64))).decode(), Verdict.VALID),
        (ValidatorName.AZURE_STORAGE_KEY, base64.b64encode(bytes(range(48))).decode(), Verdict.INVALID),
        (
            ValidatorName.PYPI_MACAROON,
            "pypi-" + base64.urlsafe_b64encode(b"\x02\x01\x08pypi.org" + bytes(64)).decode(),
            Verdict.VALID,
        ),
        (
            ValidatorName.PYPI_MACAROON,
            "pypi-" + base64.urlsafe_b64encode(b"\x02\x01\x08npmjs.co" + bytes(64)).decode(),
            Verdict.INVALID,
        ),
        (
            ValidatorName.AGE_BECH32,
            "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
            Verdict.INVALID,
        ),
    ],
)
def test_validator_table(name: ValidatorName, secret: str, verdict: Verdict) -> None:
    assert validate(name, secret) is verdict


def test_age_key_from_the_rule_example_has_a_valid_bech32_checksum() -> None:
    key = next(line for line in _example("secrets.age-secret-key").splitlines() if line.startswith("AGE-"))
    assert validate(ValidatorName.AGE_BECH32, key) is Verdict.VALID
    assert validate(ValidatorName.AGE_BECH32, key[:-1] + ("Q" if key[-1] != "Q" else "P")) is Verdict.INVALID


def test_github_token_with_a_wrong_checksum_is_not_high_confidence(detector: Detector) -> None:
    good = _ghp()
    bad = good[:-6] + ("zzzzzz" if not good.endswith("zzzzzz") else "yyyyyy")
    (valid,) = hits_for(detector, f'token = "{good}"')
    (broken,) = hits_for(detector, f'token = "{bad}"')
    assert valid.confidence is Confidence.HIGH and valid.metadata["validation"] == "valid"
    assert broken.confidence is Confidence.LOW and broken.metadata["validation"] == "invalid"


@pytest.mark.parametrize(
    "rule_id",
    [
        "secrets.private-key-rsa",
        "secrets.private-key-ec",
        "secrets.private-key-dsa",
        "secrets.private-key-openssh",
        "secrets.private-key-pkcs8",
        "secrets.private-key-pkcs8-encrypted",
        "secrets.private-key-pgp",
    ],
)
def test_real_private_keys_parse_and_truncated_samples_do_not(detector: Detector, rule_id: str) -> None:
    key = _example(rule_id)
    (hit,) = [h for h in hits_for(detector, key) if h.rule_id == rule_id]
    assert hit.confidence is Confidence.HIGH
    lines = key.strip().splitlines()
    truncated = "\n".join([lines[0], *lines[1:3], lines[-1]])
    (short,) = [h for h in hits_for(detector, truncated) if h.rule_id == rule_id]
    assert short.confidence is Confidence.LOW
    assert short.metadata["validation"] == "invalid"


def test_a_private_key_escaped_inside_json_is_found_and_parsed(detector: Detector) -> None:
    key = _example("secrets.private-key-pkcs8")
    line = json.dumps({"type": "service_account", "private_key": key})
    hits = [h for h in hits_for(detector, line, "sa.json") if h.rule_id == "secrets.private-key-pkcs8"]
    assert len(hits) == 1
    assert hits[0].confidence is Confidence.HIGH


def _pem(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


def test_a_dsa_key_is_checked_by_its_arithmetic_not_by_the_deprecated_loader() -> None:
    key = _example("secrets.private-key-dsa")
    assert validate(ValidatorName.PEM_PRIVATE_KEY, key) is Verdict.VALID
    body = "".join(line for line in key.strip().splitlines()[1:-1])
    der = bytearray(base64.b64decode(body))
    der[-3] ^= 0x01  # one bit of the private value x: the public value no longer matches
    assert validate(ValidatorName.PEM_PRIVATE_KEY, _pem("DSA PRIVATE KEY", bytes(der))) is Verdict.INVALID


def test_dsa_keys_in_pkcs8_and_openssh_containers_validate_without_a_warning() -> None:
    import warnings

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # generating one here is the deprecated call, not Bastion's
        # bastion: ignore[sast.bandit.B505] OpenSSH's ssh-dss format holds 1024-bit keys only
        private = dsa.generate_private_key(key_size=1024)
        pkcs8 = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        openssh = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        ).decode()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate(ValidatorName.PEM_PRIVATE_KEY, pkcs8) is Verdict.VALID
        assert validate(ValidatorName.PEM_PRIVATE_KEY, openssh) is Verdict.VALID
