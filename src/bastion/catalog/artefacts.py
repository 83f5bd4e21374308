"""Where artefacts are kept, by digest: a directory (the default, beside the catalog) or an
S3-compatible object store (AWS S3, MinIO, Ceph; ``s3://BUCKET/PREFIX?endpoint=URL``). Both write
an artefact whole or not at all: the directory through an atomic rename, S3 because a PUT only
becomes visible once complete. Readers check what they get against the digest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from bastion import atomic
from bastion.errors import InputError, UsageError

__all__ = [
    "ARTEFACTS_ENV",
    "ArtefactStore",
    "DirectoryArtefacts",
    "S3Artefacts",
    "check_digest",
    "open_artefacts",
]


ARTEFACTS_ENV = "BASTION_CATALOG_ARTEFACTS"
"""Where artefacts live when no option says (a directory or ``s3://...``), for the command line and
the server alike."""


def check_digest(digest: str) -> str:
    """The hex part of a ``sha256:<64 hex>`` digest; :class:`InputError` for anything else."""
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or len(hexdigest) != 64 or not all(c in "0123456789abcdef" for c in hexdigest):
        raise InputError(f"{digest!r}: not an artefact digest (sha256:<64 hex digits>)")
    return hexdigest


def _verified(digest: str, data: bytes, where: str) -> bytes:
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise InputError(f"{where}: artefact does not match its digest (damaged or altered)")
    return data


class ArtefactStore(Protocol):
    """Artefacts by digest."""

    def put(self, digest: str, data: bytes) -> None:
        """Store ``data`` under ``digest`` unless it is there already."""
        ...

    def get(self, digest: str) -> bytes:
        """The artefact, checked against its digest; :class:`InputError` when missing or damaged."""
        ...


@dataclass(frozen=True)
class DirectoryArtefacts:
    """``ROOT/sha256/HEX.tar.gz``."""

    root: Path

    def path(self, digest: str) -> Path:
        """Where the artefact named ``digest`` lives."""
        return self.root / "sha256" / f"{check_digest(digest)}.tar.gz"

    def put(self, digest: str, data: bytes) -> None:
        """Write it atomically (content-addressed: an existing file is the same bytes)."""
        path = self.path(digest)
        if path.is_file():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{path.parent}: cannot write artefacts: {exc.strerror or exc}") from None
        atomic.write_bytes(path, data, what="artefact")

    def get(self, digest: str) -> bytes:
        """Read and check it."""
        path = self.path(digest)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read artefact: {exc.strerror or exc}") from None
        return _verified(digest, data, str(path))


@dataclass(frozen=True)
class S3Artefacts:
    """``s3://BUCKET/PREFIX/sha256/HEX.tar.gz`` through a boto3 S3 client."""

    client: Any
    """A boto3 S3 client (its endpoint may be MinIO or any S3-compatible store)."""
    bucket: str
    prefix: str = ""

    def key(self, digest: str) -> str:
        """The object key of ``digest``."""
        return f"{self.prefix.strip('/')}/sha256/{check_digest(digest)}.tar.gz".lstrip("/")

    def _where(self, digest: str) -> str:
        return f"s3://{self.bucket}/{self.key(digest)}"

    def put(self, digest: str, data: bytes) -> None:
        """PUT it unless an object with that key exists."""
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.key(digest)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchKey", "NotFound"}:
                raise InputError(f"{self._where(digest)}: cannot check artefact: {_code(exc)}") from None
        except BotoCoreError as exc:
            raise InputError(
                f"{self._where(digest)}: cannot reach the object store: {type(exc).__name__}"
            ) from None
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/gzip")
        except (BotoCoreError, ClientError) as exc:
            raise InputError(f"{self._where(digest)}: cannot store artefact: {_code(exc)}") from None

    def get(self, digest: str) -> bytes:
        """GET and check it."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            data = self.client.get_object(Bucket=self.bucket, Key=self.key(digest))["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise InputError(f"{self._where(digest)}: cannot read artefact: {_code(exc)}") from None
        return _verified(digest, bytes(data), self._where(digest))


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__


def open_artefacts(location: str, default: Path) -> ArtefactStore:
    """The store ``location`` names: ``s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME]`` or a
    directory; ``default`` (a directory) when ``location`` is empty. Credentials come from the
    usual AWS environment (``AWS_ACCESS_KEY_ID``...), never from the location."""
    if not location:
        return DirectoryArtefacts(default)
    if not location.startswith("s3://"):
        return DirectoryArtefacts(Path(location))
    parts = urlsplit(location)
    if not parts.netloc or "@" in parts.netloc:
        raise UsageError(f"{location!r}: expected s3://BUCKET[/PREFIX][?endpoint=URL] (no credentials in it)")
    query = parse_qs(parts.query)
    try:
        import boto3
    except ImportError:
        raise UsageError("s3:// artefacts need boto3 (pip install 'bastion[catalog-s3]')") from None
    client = boto3.client(
        "s3",
        endpoint_url=query.get("endpoint", [None])[0],
        region_name=query.get("region", ["us-east-1"])[0],
    )
    return S3Artefacts(client, parts.netloc, parts.path.strip("/"))
