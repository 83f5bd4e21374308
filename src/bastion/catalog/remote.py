"""A catalog on a Bastion server, seen from the command line (``--server URL`` with a token):
the server's ``/api/catalog`` read once as a read-only backend (what ``catalog scan`` and
``catalog list`` need), and publish, approve, deprecate and retire as API calls. Failures are
one :class:`InputError` line with the server's reason; the token is never repeated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bastion.catalog.artefact import pack
from bastion.catalog.backend import AuditEntry
from bastion.catalog.model import CatalogSettings, ProductSpec, VersionRecord, parse_product
from bastion.catalog.templates import read_template
from bastion.errors import InputError, UsageError

__all__ = ["RemoteCatalog", "RemoteRefusal"]


class RemoteRefusal(InputError):
    """The server's gate refused a version; ``reasons`` says why."""

    def __init__(self, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.reasons = reasons


@dataclass
class RemoteCatalog:
    """The catalog of the server at ``url``."""

    url: str
    token: str
    http: httpx.Client | None = None
    """A client to reuse (tests inject one); a short-lived one per request otherwise."""
    _document: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise UsageError(f"--server {self.url!r}: expected an http:// or https:// URL")
        if not self.token:
            raise UsageError("no API token: pass --token or set BASTION_TOKEN")
        self.url = self.url.rstrip("/")

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        try:
            if self.http is not None:
                return self.http.request(method, self.url + path, headers=headers, **kwargs)
            with httpx.Client(timeout=120) as client:
                return client.request(method, self.url + path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise InputError(f"catalog server {self.url}: {type(exc).__name__}") from None

    def _json(self, response: httpx.Response, ok: int = 200) -> Any:
        if response.status_code != ok:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise InputError(f"catalog server {self.url}: HTTP {response.status_code}: {str(detail)[:300]}")
        return response.json()

    def document(self) -> dict[str, Any]:
        """The server's whole catalog, fetched once."""
        if self._document is None:
            self._document = self._json(self._call("GET", "/api/catalog"))
        return self._document

    def max_artefact_bytes(self) -> int:
        """The server's limit on a template's size (the default when it does not say)."""
        limit = dict(self.document().get("settings") or {}).get("max_artefact_bytes")
        return limit if isinstance(limit, int) and limit > 0 else CatalogSettings().max_artefact_bytes

    def products(self) -> list[ProductSpec]:
        """Every product on the server."""
        products = []
        for item in self.document().get("products", []):
            data = {k: v for k, v in item.items() if k != "versions"}
            products.append(parse_product(data, f"{self.url}/api/catalog"))
        return products

    def versions(self, product: str) -> list[VersionRecord]:
        """Every version of ``product`` on the server."""
        for item in self.document().get("products", []):
            if item.get("name") == product:
                try:
                    return [VersionRecord.from_dict(v) for v in item.get("versions", [])]
                except (KeyError, ValueError, TypeError) as exc:
                    raise InputError(f"{self.url}/api/catalog: damaged version of {product}: {exc}") from None
        return []

    def add_product(self, spec: ProductSpec) -> None:
        """Add a product on the server (needs an administrator; the server records who)."""
        self._json(self._call("POST", "/api/catalog/products", json=spec.model_dump(mode="json")), 201)

    def publish_template(self, template: Path, product: str, version: str) -> VersionRecord:
        """Pack ``template`` and publish it on the server; :class:`RemoteRefusal` with the gate's
        reasons when it refuses the version."""
        read_template(template)  # a template that does not parse fails here, before any upload
        artefact = pack(template, self.max_artefact_bytes())
        response = self._call(
            "POST",
            f"/api/catalog/products/{quote(product, safe='')}/versions",
            params={"version": version},
            content=artefact.data,
            headers={"Content-Type": "application/gzip"},
        )
        if response.status_code == 422:
            reasons = [str(r) for r in response.json().get("reasons", [])]
            raise RemoteRefusal(f"{product} {version}: refused by the catalog gate", reasons)
        return VersionRecord.from_dict(self._json(response, 201))

    def transition(
        self, product: str, version: str, action: str, body: dict[str, Any] | None = None
    ) -> VersionRecord:
        """``approve``, ``deprecate`` (body: until, successor) or ``retire`` on the server."""
        path = f"/api/catalog/products/{quote(product, safe='')}/versions/{quote(version, safe='')}/{action}"
        return VersionRecord.from_dict(self._json(self._call("POST", path, json=body)))

    def recheck(self) -> list[dict[str, Any]]:
        """Run the server's re-check now; one summary per version checked."""
        result: list[dict[str, Any]] = self._json(self._call("POST", "/api/catalog/recheck"))
        return result

    def audit(self) -> list[AuditEntry]:
        """The server's catalog audit log."""
        entries = self._json(self._call("GET", "/api/catalog/audit"))
        return [
            AuditEntry(
                datetime.fromisoformat(e["at"]),
                e["actor"],
                e["action"],
                e["product"],
                e.get("version"),
                e.get("detail", ""),
            )
            for e in entries
        ]
