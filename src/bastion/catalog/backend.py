"""Where a catalog lives: the seam between the catalog's logic and its storage (a local
directory for small teams, the server's database for the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bastion.catalog.model import CatalogSettings, ProductSpec, VersionRecord

__all__ = ["AuditEntry", "CatalogBackend", "CatalogReader"]


@dataclass(frozen=True)
class AuditEntry:
    """One change to the catalog: who did what to which product version, and when."""

    at: datetime
    actor: str
    action: str
    """``product-add``, ``publish``, ``publish-refused``, ``approve``, ``deprecate``, ``retire``,
    ``non-compliant``, ``compliant``."""
    product: str
    version: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "product": self.product,
            "version": self.version,
            "detail": self.detail,
        }


class CatalogReader(Protocol):
    """What reading a catalog needs (a consumer scan, a listing): a server's catalog seen from
    the command line is one too."""

    def products(self) -> list[ProductSpec]:
        """Every product, by name."""
        ...

    def versions(self, product: str) -> list[VersionRecord]:
        """Every version of ``product`` (no order promised)."""
        ...


class CatalogBackend(CatalogReader, Protocol):
    """Storage of products, versions, artefacts and the audit log. Every method raises
    :class:`~bastion.errors.InputError` with one line on a problem."""

    def settings(self) -> CatalogSettings:
        """The catalog's settings."""
        ...

    def add_product(self, spec: ProductSpec, actor: str) -> None:
        """Add a product; an error when its name clashes with one already there."""
        ...

    def publish(self, record: VersionRecord, artefact: bytes, actor: str) -> None:
        """Store the artefact then the version, all or nothing; an error when the version exists."""
        ...

    def update(self, record: VersionRecord, entry: AuditEntry) -> None:
        """Replace a stored version's record and log ``entry``."""
        ...

    def artefact(self, digest: str) -> bytes:
        """The artefact named ``digest``, checked against it."""
        ...

    def log(self, entry: AuditEntry) -> None:
        """Append to the audit log."""
        ...

    def audit(self) -> list[AuditEntry]:
        """The audit log, oldest first."""
        ...
