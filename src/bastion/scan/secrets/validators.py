"""Named format validators: checks a provider defines that a regex cannot express.

A rule names its validator (``validator = "github_crc32"``). The verdict moves the
finding's confidence: a valid structure means high confidence, a broken one (a wrong
checksum, a truncated key in a README) means low confidence. Nothing here talks to a
network; live verification is a separate, opt-in step.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
import warnings
import zlib
from importlib.util import find_spec
from typing import assert_never

__all__ = ["CHECKSUM_VALIDATORS", "ValidatorName", "Verdict", "base62", "github_checksum", "validate"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_HAS_CRYPTOGRAPHY = find_spec("cryptography") is not None
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)


class Verdict(enum.Enum):
    """What a validator concluded about a candidate secret."""

    VALID = "valid"
    """The structure checks out (checksum matches, the key parses)."""
    INVALID = "invalid"
    """The structure is broken: a sample, a typo or a truncated copy."""
    UNKNOWN = "unknown"
    """The validator cannot tell (an optional library is missing)."""


class ValidatorName(enum.Enum):
    """Validators a rule file may name."""

    GITHUB_CRC32 = "github_crc32"
    JWT = "jwt"
    PEM_PRIVATE_KEY = "pem_private_key"
    PYPI_MACAROON = "pypi_macaroon"
    DOCKER_AUTH = "docker_auth"
    AZURE_STORAGE_KEY = "azure_storage_key"
    AGE_BECH32 = "age_bech32"


CHECKSUM_VALIDATORS = frozenset(
    {ValidatorName.GITHUB_CRC32, ValidatorName.PEM_PRIVATE_KEY, ValidatorName.AGE_BECH32}
)
"""Validators whose VALID a made-up value does not reach by chance: a checksum over the
random part, a private key that parses. Their VALID outranks the placeholder heuristics;
the others check structure only (a JWT header, a macaroon's location, base64 of ``u:p``)."""


def validate(name: ValidatorName, secret: str) -> Verdict:
    """Run validator ``name`` on ``secret``."""
    match name:
        case ValidatorName.GITHUB_CRC32:
            return _github_crc32(secret)
        case ValidatorName.JWT:
            return _jwt(secret)
        case ValidatorName.PEM_PRIVATE_KEY:
            return _pem_private_key(secret)
        case ValidatorName.PYPI_MACAROON:
            return _pypi_macaroon(secret)
        case ValidatorName.DOCKER_AUTH:
            return _docker_auth(secret)
        case ValidatorName.AZURE_STORAGE_KEY:
            return _azure_storage_key(secret)
        case ValidatorName.AGE_BECH32:
            return _age_bech32(secret)
        case _:
            assert_never(name)


def _verdict(ok: bool) -> Verdict:
    return Verdict.VALID if ok else Verdict.INVALID


def base62(number: int) -> str:
    """``number`` in base 62 with GitHub's alphabet (digits, upper case, lower case)."""
    if number == 0:
        return "0"
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    return "".join(reversed(digits))


def github_checksum(body: str) -> str:
    """The six-character checksum GitHub appends to a 30-character classic token body."""
    return base62(zlib.crc32(body.encode("ascii"))).rjust(6, "0")


def _github_crc32(secret: str) -> Verdict:
    # ghp_/gho_/ghu_/ghs_/ghr_ + 30 random characters + base62(CRC32(random part)), 6 wide.
    # https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
    if len(secret) != 40 or not secret.isascii():
        return Verdict.INVALID
    return _verdict(github_checksum(secret[4:34]) == secret[34:])


def _b64decode(text: str, *, urlsafe: bool) -> bytes | None:
    padded = text + "=" * (-len(text) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _json_object(segment: str) -> dict[str, object] | None:
    raw = _b64decode(segment, urlsafe=True)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _jwt(secret: str) -> Verdict:
    parts = secret.split(".")
    if len(parts) != 3:
        return Verdict.INVALID
    header = _json_object(parts[0])
    payload = _json_object(parts[1])
    return _verdict(header is not None and isinstance(header.get("alg"), str) and payload is not None)


def _pypi_macaroon(secret: str) -> Verdict:
    raw = _b64decode(secret.removeprefix("pypi-"), urlsafe=True)
    return _verdict(raw is not None and len(raw) >= 40 and b"pypi.org" in raw[:32])


def _docker_auth(secret: str) -> Verdict:
    raw = _b64decode(secret, urlsafe=False)
    if raw is None:
        return Verdict.INVALID
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Verdict.INVALID
    user, sep, password = text.partition(":")
    return _verdict(bool(sep and user and password and text.isprintable()))


def _azure_storage_key(secret: str) -> Verdict:
    raw = _b64decode(secret, urlsafe=False)
    return _verdict(raw is not None and len(raw) == 64)


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, gen in enumerate(generator):
            if (top >> bit) & 1:
                checksum ^= gen
    return checksum


def _age_bech32(secret: str) -> Verdict:
    # age identities are Bech32 (BIP 173) with the human-readable part "age-secret-key-".
    hrp, sep, data = secret.lower().rpartition("1")
    if not sep or len(data) < 7 or any(c not in _BECH32 for c in data):
        return Verdict.INVALID
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    return _verdict(_bech32_polymod(expanded + [_BECH32.index(c) for c in data]) == 1)


def _pem_text(secret: str) -> str:
    # Keys embedded in JSON or code carry escaped newlines; undo that before parsing.
    return secret.replace("\\r", "").replace("\\n", "\n").replace("\r", "")


def _pem_private_key(secret: str) -> Verdict:
    text = _pem_text(secret)
    block = _PEM_BLOCK.search(text)
    if block is None:
        return Verdict.INVALID
    label = block.group(1)
    lines = [ln.strip() for ln in block.group(2).splitlines()]
    headers = [ln for ln in lines if ":" in ln]
    body = "".join(ln for ln in lines if ln and ":" not in ln and not ln.startswith("="))
    der = _b64decode(body, urlsafe=False)
    if der is None or len(der) < 64:
        return Verdict.INVALID
    if label == "PGP PRIVATE KEY BLOCK":
        return _verdict(_is_pgp_secret_key_packet(der))
    if label == "OPENSSH PRIVATE KEY":
        if not der.startswith(b"openssh-key-v1\x00"):
            return Verdict.INVALID
        return _parse_with_cryptography(text, openssh=True)
    if not _der_length_matches(der):
        return Verdict.INVALID
    if label == "ENCRYPTED PRIVATE KEY" or any("ENCRYPTED" in h for h in headers):
        return Verdict.VALID  # structurally sound; the content needs a passphrase to check further
    if label == "DSA PRIVATE KEY":
        return _verdict(_is_dsa_private_key(der))
    return _parse_with_cryptography(text, openssh=False)


def _der_header(der: bytes, pos: int) -> tuple[int, int, int] | None:
    """(tag, content length, content start) of the DER element at ``pos``; None if malformed."""
    if pos + 1 >= len(der):
        return None
    first = der[pos + 1]
    if first < 0x80:
        return der[pos], first, pos + 2
    width = first & 0x7F
    if width == 0 or width > 4 or pos + 2 + width > len(der):
        return None
    return der[pos], int.from_bytes(der[pos + 2 : pos + 2 + width], "big"), pos + 2 + width


def _der_integers(der: bytes) -> list[int] | None:
    """The INTEGERs of one DER SEQUENCE of INTEGERs, or None when it is anything else."""
    outer = _der_header(der, 0)
    if outer is None:
        return None
    pos = outer[2]
    values: list[int] = []
    while pos < len(der):
        element = _der_header(der, pos)
        if element is None:
            return None
        tag, length, start = element
        if tag != 0x02 or length == 0 or start + length > len(der):
            return None
        values.append(int.from_bytes(der[start : start + length], "big", signed=True))
        pos = start + length
    return values


def _is_dsa_private_key(der: bytes) -> bool:
    """An OpenSSL DSA private key (version, p, q, g, y, x) whose numbers belong together.

    Checked with integer arithmetic instead of cryptography's DSA loader, which is deprecated
    (cryptography 51 warns on every DSA key) while DSA keys still leak in repositories. The public
    value must be g^x mod p and g must generate the order-q subgroup: a key with any digit
    changed, or numbers copied from different keys, fails.
    """
    numbers = _der_integers(der)
    if numbers is None or len(numbers) != 6:
        return False
    version, p, q, g, y, x = numbers
    if version != 0 or min(p, q, g, y, x) <= 1 or p.bit_length() < 512 or x >= q:
        return False
    return (p - 1) % q == 0 and pow(g, q, p) == 1 and pow(g, x, p) == y


def _der_length_matches(der: bytes) -> bool:
    """A DER SEQUENCE whose declared length covers exactly the decoded bytes."""
    header = _der_header(der, 0)
    return header is not None and header[0] == 0x30 and header[1] + header[2] == len(der)


def _is_pgp_secret_key_packet(data: bytes) -> bool:
    tag = data[0]
    if not tag & 0x80:
        return False
    packet_type = tag & 0x3F if tag & 0x40 else (tag >> 2) & 0x0F
    return packet_type == 5  # RFC 4880 section 5.5.1.3: Secret-Key Packet


def _parse_with_cryptography(text: str, *, openssh: bool) -> Verdict:
    if not _HAS_CRYPTOGRAPHY:
        return Verdict.VALID  # the structural checks above passed; nothing more to check
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.utils import CryptographyDeprecationWarning

    data = text.encode("ascii", errors="replace")
    try:
        with warnings.catch_warnings():
            # DSA keys inside PKCS#8 or OpenSSH containers reach cryptography's deprecated DSA
            # loader; Bastion loads them on purpose, to confirm a leaked legacy key is real.
            warnings.filterwarnings("ignore", message=r".*\bDSA\b", category=CryptographyDeprecationWarning)
            if openssh:
                serialization.load_ssh_private_key(data, password=None)
            else:
                serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        return Verdict.VALID  # encrypted with a passphrase: a real key, just locked
    except UnsupportedAlgorithm:
        return Verdict.UNKNOWN
    except ValueError:
        return Verdict.INVALID
    return Verdict.VALID
