"""The service catalog in the platform store (:mod:`bastion.catalog`): products, versions and
content-addressed artefacts in tables, every change in the shared, append-only audit log.

Tables: ``catalog_products`` (the product as declared), ``catalog_versions`` (one record per
published version), ``catalog_artefacts`` (the template archives by digest). A publish stores the
artefact, the version and its audit event in one transaction: all or nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bastion.catalog.artefacts import ArtefactStore
from bastion.catalog.backend import AuditEntry
from bastion.catalog.model import CatalogSettings, ProductSpec, VersionRecord, normalise_name, parse_product
from bastion.errors import InputError
from bastion.store.db import Store
from bastion.store.models import AuditEvent, Base, utcnow

__all__ = ["ACTION_PREFIX", "CatalogArtefact", "CatalogProduct", "CatalogVersion", "DatabaseCatalog"]

ACTION_PREFIX = "catalog."
"""Audit events of the catalog are ``catalog.publish``, ``catalog.approve``..."""


class CatalogProduct(Base):
    """A product as its ``product.yml`` declares it."""

    __tablename__ = "catalog_products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(320))
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogVersion(Base):
    """One published version of a product."""

    __tablename__ = "catalog_versions"
    __table_args__ = (
        UniqueConstraint("product_id", "version", name="uq_catalog_versions_product_version"),
        Index("ix_catalog_versions_digest", "digest"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("catalog_products.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(80))
    record: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogArtefact(Base):
    """A template archive, named by the SHA-256 of its bytes."""

    __tablename__ = "catalog_artefacts"
    digest: Mapped[str] = mapped_column(String(80), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _event(entry: AuditEntry) -> AuditEvent:
    version = f"@{entry.version}" if entry.version else ""
    return AuditEvent(
        at=entry.at,
        actor=entry.actor[:200],
        action=(ACTION_PREFIX + entry.action)[:50],
        reason=f"{entry.product}{version}: {entry.detail}",
    )


def _entry(event: AuditEvent) -> AuditEntry:
    head, _, detail = event.reason.partition(": ")
    product, _, version = head.partition("@")
    return AuditEntry(
        event.at, event.actor, event.action.removeprefix(ACTION_PREFIX), product, version or None, detail
    )


class DatabaseCatalog:
    """A catalog kept in the platform store (SQLite or PostgreSQL); its artefacts in the store too,
    or, given ``artefacts``, content-addressed in a directory or an S3-compatible bucket."""

    def __init__(
        self, store: Store, settings: CatalogSettings | None = None, artefacts: ArtefactStore | None = None
    ) -> None:
        """Use ``store`` (migrated) with ``settings`` (the defaults when None) and ``artefacts``
        (the ``catalog_artefacts`` table when None)."""
        self.store = store
        self._settings = settings or CatalogSettings()
        self.artefacts = artefacts

    def settings(self) -> CatalogSettings:
        """The catalog's settings."""
        return self._settings

    def products(self) -> list[ProductSpec]:
        """Every product, by name."""
        with self.store.read() as session:
            rows = session.scalars(select(CatalogProduct).order_by(CatalogProduct.name)).all()
            return [parse_product(row.spec, f"catalog product {row.name}") for row in rows]

    def add_product(self, spec: ProductSpec, actor: str) -> None:
        """Insert a product; a clash with an existing name (compared normalised) fails."""
        for existing in self.products():
            if normalise_name(existing.name) == normalise_name(spec.name):
                raise InputError(f"product {spec.name}: name clashes with existing product {existing.name}")
        try:
            with self.store.write() as session:
                session.add(
                    CatalogProduct(
                        name=spec.name,
                        kind=spec.kind.value,
                        owner=spec.owner,
                        spec=spec.model_dump(mode="json", exclude_none=True),
                    )
                )
                session.add(
                    _event(AuditEntry(utcnow(), actor, "product-add", spec.name, None, f"owner {spec.owner}"))
                )
        except IntegrityError:
            raise InputError(f"product {spec.name}: name clashes with an existing product") from None

    def _product_id(self, session: Session, name: str) -> int:
        found = session.scalar(select(CatalogProduct.id).where(CatalogProduct.name == name))
        if found is None:
            raise InputError(f"no product {name} in the catalog (bastion catalog product add)")
        return found

    def versions(self, product: str) -> list[VersionRecord]:
        """Every version record of ``product``."""
        with self.store.read() as session:
            query = (
                select(CatalogVersion.record)
                .join(CatalogProduct, CatalogProduct.id == CatalogVersion.product_id)
                .where(CatalogProduct.name == product)
            )
            return [VersionRecord.from_dict(record) for record in session.scalars(query)]

    def publish(self, record: VersionRecord, artefact: bytes, actor: str) -> None:
        """Store the artefact (unless already there), the version and its audit event in one
        transaction; an external artefact store is written first, so a failure in between leaves at
        most an artefact no version names, never a version without its artefact."""
        if self.artefacts is not None:
            with self.store.read() as session:
                self._product_id(session, record.product)  # no artefact for a product that is not there
            self.artefacts.put(record.digest, artefact)
        try:
            with self.store.write() as session:
                product_id = self._product_id(session, record.product)
                if self.artefacts is None and session.get(CatalogArtefact, record.digest) is None:
                    session.add(CatalogArtefact(digest=record.digest, size=len(artefact), data=artefact))
                session.add(
                    CatalogVersion(
                        product_id=product_id,
                        version=record.version,
                        state=record.state.value,
                        digest=record.digest,
                        record=record.to_dict(),
                    )
                )
                session.flush()
                entry = AuditEntry(
                    record.published_at, actor, "publish", record.product, record.version, record.digest
                )
                session.add(_event(entry))
        except IntegrityError:
            raise InputError(
                f"{record.product} {record.version}: already published (versions are immutable)"
            ) from None

    def update(self, record: VersionRecord, entry: AuditEntry) -> None:
        """Replace a version's record and log ``entry``, in one transaction."""
        with self.store.write() as session:
            row = session.scalar(
                select(CatalogVersion)
                .join(CatalogProduct, CatalogProduct.id == CatalogVersion.product_id)
                .where(CatalogProduct.name == record.product, CatalogVersion.version == record.version)
            )
            if row is None:
                raise InputError(f"{record.product} {record.version}: no such version")
            row.record = record.to_dict()
            row.state = record.state.value
            session.add(_event(entry))

    def artefact(self, digest: str) -> bytes:
        """The stored artefact, checked against its digest."""
        if self.artefacts is not None:
            return self.artefacts.get(digest)
        with self.store.read() as session:
            row = session.get(CatalogArtefact, digest)
            if row is None:
                raise InputError(f"artefact {digest} not in the catalog")
            data = bytes(row.data)
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise InputError(f"artefact {digest} does not match its digest (damaged or altered)")
        return data

    def log(self, entry: AuditEntry) -> None:
        """Append to the shared audit log."""
        with self.store.write() as session:
            session.add(_event(entry))

    def audit(self) -> list[AuditEntry]:
        """The catalog's audit events, oldest first."""
        with self.store.read() as session:
            query = (
                select(AuditEvent).where(AuditEvent.action.startswith(ACTION_PREFIX)).order_by(AuditEvent.id)
            )
            return [_entry(event) for event in session.scalars(query)]
