"""The catalog directory backend, for small teams and CI without a server::

    catalog.yml                          settings (optional)
    products/NAME/product.yml            what the product is
    products/NAME/versions/X.Y.Z.json    each published version (the commit point of a publish)
    artefacts/sha256/HEX.tar.gz          content-addressed template archives (or an S3 bucket)
    audit.jsonl                          every change, one JSON object a line

A publish writes the artefact first (under its digest, atomically, so it is whole or absent),
then creates the version record with a hard link of a complete file (so it appears whole, once,
and a second publisher of the same version fails). A crash in between leaves at most an artefact
no version names, never a half-published version.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

import yaml

from bastion import atomic
from bastion.catalog.artefacts import ArtefactStore, DirectoryArtefacts
from bastion.catalog.backend import AuditEntry
from bastion.catalog.model import (
    NAME_PATTERN,
    CatalogSettings,
    ProductSpec,
    VersionRecord,
    normalise_name,
    parse_product,
    utcnow,
    validation_message,
)
from bastion.errors import InputError
from bastion.structured import read_json, read_yaml_mapping

__all__ = ["LocalCatalog"]


class LocalCatalog:
    """A catalog kept in a directory."""

    def __init__(self, root: Path, artefacts: ArtefactStore | None = None) -> None:
        """Open the catalog at ``root`` (created on the first write); artefacts go to ``artefacts``
        (default: ``ROOT/artefacts``)."""
        self.root = root
        self.artefacts = artefacts or DirectoryArtefacts(root / "artefacts")

    def _product_dir(self, name: str) -> Path:
        """``products/NAME``; a name that is no product name (``../x``) never reaches the disk."""
        if not re.fullmatch(NAME_PATTERN, name):
            raise InputError(
                f"no product {name} in the catalog (names are lower-case words joined by hyphens)"
            )
        return self.root / "products" / name

    def settings(self) -> CatalogSettings:
        """``catalog.yml``, or the defaults when there is none."""
        from pydantic import ValidationError

        path = self.root / "catalog.yml"
        if not path.is_file():
            return CatalogSettings()
        try:
            return CatalogSettings.model_validate(read_yaml_mapping(path, what="catalog settings"))
        except ValidationError as exc:
            raise InputError(f"{path}: invalid catalog settings: {validation_message(exc)}") from None

    def products(self) -> list[ProductSpec]:
        """Every product, by name."""
        base = self.root / "products"
        if not base.is_dir():
            return []
        found = []
        for directory in sorted(base.iterdir()):
            path = directory / "product.yml"
            if path.is_file():
                found.append(parse_product(read_yaml_mapping(path, what="product"), str(path)))
        return found

    def add_product(self, spec: ProductSpec, actor: str) -> None:
        """Create ``products/NAME``; a clash with an existing name (compared normalised) fails."""
        for existing in self.products():
            if normalise_name(existing.name) == normalise_name(spec.name):
                raise InputError(f"product {spec.name}: name clashes with existing product {existing.name}")
        directory = self._product_dir(spec.name)
        try:
            (self.root / "products").mkdir(parents=True, exist_ok=True)
            directory.mkdir()
        except FileExistsError:
            raise InputError(f"product {spec.name}: name clashes with an existing product") from None
        except OSError as exc:
            raise InputError(f"{directory}: cannot create product: {exc.strerror or exc}") from None
        text = yaml.safe_dump(spec.model_dump(mode="json", exclude_none=True), sort_keys=False)
        atomic.write_text(directory / "product.yml", text, what="product")
        self.log(AuditEntry(_now(), actor, "product-add", spec.name, None, f"owner {spec.owner}"))

    def versions(self, product: str) -> list[VersionRecord]:
        """Every version record of ``product``; a damaged record is one error line naming it."""
        directory = self._product_dir(product) / "versions"
        if not directory.is_dir():
            return []
        records = []
        for path in sorted(directory.glob("*.json")):
            data = read_json(path, what="version record")
            try:
                records.append(VersionRecord.from_dict(data))
            except (KeyError, ValueError, TypeError) as exc:
                raise InputError(f"{path}: damaged version record: {type(exc).__name__}: {exc}") from None
        return records

    def _version_path(self, product: str, version: str) -> Path:
        return self._product_dir(product) / "versions" / f"{version}.json"

    def publish(self, record: VersionRecord, artefact: bytes, actor: str) -> None:
        """Store the artefact, then link the version record into place (exclusive)."""
        if not self._product_dir(record.product).is_dir():
            raise InputError(f"no product {record.product} in the catalog (bastion catalog product add)")
        path = self._version_path(record.product, record.version)
        if path.exists():
            raise InputError(f"{record.product} {record.version}: already published (versions are immutable)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{self.root}: cannot write to the catalog: {exc.strerror or exc}") from None
        self.artefacts.put(record.digest, artefact)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        atomic.write_text(partial, json.dumps(record.to_dict(), indent=2) + "\n", what="version record")
        try:
            os.link(partial, path)
        except FileExistsError:
            raise InputError(
                f"{record.product} {record.version}: already published (versions are immutable)"
            ) from None
        except OSError as exc:
            raise InputError(f"{path}: cannot write version record: {exc.strerror or exc}") from None
        finally:
            partial.unlink(missing_ok=True)
        self.log(
            AuditEntry(record.published_at, actor, "publish", record.product, record.version, record.digest)
        )

    def update(self, record: VersionRecord, entry: AuditEntry) -> None:
        """Rewrite a version record in place (atomically) and log ``entry``."""
        path = self._version_path(record.product, record.version)
        if not path.is_file():
            raise InputError(f"{record.product} {record.version}: no such version")
        atomic.write_text(path, json.dumps(record.to_dict(), indent=2) + "\n", what="version record")
        self.log(entry)

    def artefact(self, digest: str) -> bytes:
        """The stored artefact, checked against its digest."""
        return self.artefacts.get(digest)

    def log(self, entry: AuditEntry) -> None:
        """Append one line to ``audit.jsonl`` (one write call, so lines never interleave)."""
        line = (json.dumps(entry.to_dict(), sort_keys=True) + "\n").encode("utf-8")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.root / "audit.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line)
            finally:
                os.close(descriptor)
        except OSError as exc:
            raise InputError(
                f"{self.root / 'audit.jsonl'}: cannot write audit log: {exc.strerror or exc}"
            ) from None

    def audit(self) -> list[AuditEntry]:
        """Every audit entry, oldest first."""
        path = self.root / "audit.jsonl"
        if not path.is_file():
            return []
        entries = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                data = json.loads(line)
                entries.append(
                    AuditEntry(
                        datetime.fromisoformat(data["at"]),
                        str(data["actor"]),
                        str(data["action"]),
                        str(data["product"]),
                        data.get("version"),
                        str(data.get("detail", "")),
                    )
                )
            except (json.JSONDecodeError, KeyError, ValueError, TypeError):
                raise InputError(f"{path}: line {number}: damaged audit entry") from None
        return entries


def _now() -> datetime:
    return utcnow()
