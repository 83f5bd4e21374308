"""The service catalog in the server: its API (``/api/catalog``) and its page (``/catalog``).

Anyone authenticated (a signed-in person or a project token, such as a CI job scanning a
repository) reads the catalog, may publish a version through the gate and may run the re-check
(a scheduler does); adding products and approving, deprecating or retiring versions need a site
administrator (the approver role), from the API or the page's buttons, and an approval must come
from someone other than the publisher. Every change is in the audit log.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, cast

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict

from bastion.catalog.artefact import unpack
from bastion.catalog.artefacts import ARTEFACTS_ENV, ArtefactStore, open_artefacts
from bastion.catalog.gate import GateOptions
from bastion.catalog.lifecycle import approve, deprecate, publish, recheck, retire
from bastion.catalog.model import CatalogSettings, State, latest_approved, parse_product
from bastion.catalog.notify import Notifier, SmtpNotifier, WebhookNotifier
from bastion.catalog.semver import parse_semver
from bastion.catalog.usage import usage_example
from bastion.errors import InputError, UsageError
from bastion.server.auth import Principal, check_csrf
from bastion.server.deps import get_store, principal
from bastion.server.web import render as render_page
from bastion.store.catalog import DatabaseCatalog

__all__ = ["api", "catalog_document", "pages"]

api = APIRouter(prefix="/api/catalog", tags=["catalog"])
pages = APIRouter(tags=["catalog"])


def _backend(request: Request) -> DatabaseCatalog:
    settings = getattr(request.app.state, "catalog_settings", None)
    return DatabaseCatalog(
        get_store(request), settings if isinstance(settings, CatalogSettings) else None, _artefacts(request)
    )


def _artefacts(request: Request) -> ArtefactStore | None:
    """Where the server keeps artefacts: ``app.state.catalog_artefacts`` (an embedding application,
    a test), else ``$BASTION_CATALOG_ARTEFACTS`` (a directory or ``s3://BUCKET[/PREFIX]?endpoint=URL``),
    else the database itself (None)."""
    chosen = getattr(request.app.state, "catalog_artefacts", None)
    if chosen is not None:
        return cast(ArtefactStore, chosen)
    location = os.environ.get(ARTEFACTS_ENV, "").strip()
    return open_artefacts(location, Path(location)) if location else None


POLICIES_ENV = "BASTION_CATALOG_POLICIES"
"""Directories of IaC policies every version must pass on top of the built-in ones, separated as
``PATH`` is (a policy added here makes the next re-check mark the versions it fails non-compliant)."""


def _gate_options(backend: DatabaseCatalog) -> GateOptions:
    """The gate the server publishes and re-checks with: the catalog's threshold, the extra policies."""
    extra = tuple(Path(part) for part in os.environ.get(POLICIES_ENV, "").split(os.pathsep) if part.strip())
    missing = [str(path) for path in extra if not path.is_dir()]
    if missing:
        raise HTTPException(500, f"{POLICIES_ENV}: not a directory: {', '.join(missing)}")
    return GateOptions(fail_on=backend.settings().fail_on, extra_iac_policies=extra)


SMTP_ENV = "BASTION_CATALOG_SMTP"
"""``HOST:PORT`` of the SMTP server that owners and consumers are mailed through (unset: no mail)."""


def _notifiers(request: Request) -> list[Notifier]:
    """Webhooks always (products name them), e-mail when ``BASTION_CATALOG_SMTP`` is set; a test
    or an embedding application may set ``app.state.catalog_notifiers`` instead."""
    chosen = getattr(request.app.state, "catalog_notifiers", None)
    if isinstance(chosen, list):
        return chosen
    notifiers: list[Notifier] = [WebhookNotifier()]
    host, _, port = os.environ.get(SMTP_ENV, "").rpartition(":")
    if host and port.isdigit():
        notifiers.append(SmtpNotifier(host, int(port)))
    return notifiers


def changer(request: Request, who: Principal = Depends(principal)) -> Principal:
    """Any authenticated caller changing state (a cookie session must send its CSRF token)."""
    check_csrf(who, request, None)
    return who


def approver(who: Principal = Depends(changer)) -> Principal:
    """A site administrator: the catalog's approver role."""
    if not who.is_admin:
        raise HTTPException(403, "admin role needed (the catalog's approvers)")
    return who


Reader = Depends(principal)
Changer = Depends(changer)
Approver = Depends(approver)


def _fail(exc: Exception) -> HTTPException:
    """One-line errors: bad input is 400, a transition that is not allowed 409."""
    if isinstance(exc, UsageError):
        return HTTPException(409, str(exc))
    return HTTPException(400, str(exc))


def catalog_document(backend: DatabaseCatalog) -> dict[str, Any]:
    """Every product with every version, as ``bastion catalog list --format json`` prints it."""
    products = []
    for spec in backend.products():
        versions = sorted(backend.versions(spec.name), key=lambda r: parse_semver(r.version))
        products.append(
            {**spec.model_dump(mode="json", exclude_none=True), "versions": [r.to_dict() for r in versions]}
        )
    settings = backend.settings()
    limits = {
        "max_artefact_bytes": settings.max_artefact_bytes,
        "require_approval": settings.require_approval,
    }
    return {"version": 1, "settings": limits, "products": products}


@api.get("", dependencies=[Reader])
def list_catalog(request: Request) -> dict[str, Any]:
    """The whole catalog (what ``bastion catalog scan --server`` reads)."""
    return catalog_document(_backend(request))


@api.post("/products", status_code=201)
def add_product(body: dict[str, Any], request: Request, who: Principal = Approver) -> dict[str, Any]:
    """Add a product (the body is its product.yml as JSON)."""
    backend = _backend(request)
    try:
        spec = parse_product(body, "request body")
        backend.add_product(spec, who.name)
    except InputError as exc:
        raise (HTTPException(409, str(exc)) if "clashes" in str(exc) else _fail(exc)) from None
    return spec.model_dump(mode="json", exclude_none=True)


def upload_limit(max_artefact_bytes: int) -> int:
    """Most bytes a publish request may send: the catalog's limit on the template's files, plus
    room for the archive's headers (512 bytes a file) when the files do not compress."""
    return max_artefact_bytes + max_artefact_bytes // 4 + 64 * 1024


async def _read_upload(request: Request, limit: int) -> bytes:
    """The request body, read no further than ``limit`` bytes (413 past it, nothing kept)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"artefact upload is over the catalog's limit of {limit:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"artefact upload is over the catalog's limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@api.post("/products/{product}/versions")
async def publish_version(product: str, version: str, request: Request, who: Principal = Changer) -> Response:
    """Publish a version: the body is the template's artefact (``tar.gz``, as ``catalog publish``
    packs it). 201 with the record, 422 with the gate's reasons when it is refused."""
    backend = _backend(request)
    limit = backend.settings().max_artefact_bytes
    data = await _read_upload(request, upload_limit(limit))

    def run() -> Response:
        with tempfile.TemporaryDirectory(prefix="bastion-catalog-") as tmp:
            root = Path(tmp)
            try:
                unpack(data, root, limit)
                result = publish(backend, root, product, version, who.name, _gate_options(backend))
            except (InputError, UsageError) as exc:
                message = str(exc).replace(str(root), "<artefact>")
                raise _fail(type(exc)(message)) from None
        if result.record is None:
            reasons = [*result.report.reasons, *result.report.skipped]
            return JSONResponse(
                {"detail": "refused by the catalog gate", "reasons": reasons}, status_code=422
            )
        return JSONResponse(result.record.to_dict(), status_code=201)

    return await run_in_threadpool(run)


@api.post("/products/{product}/versions/{version}/approve")
def approve_version(
    product: str, version: str, request: Request, who: Principal = Approver
) -> dict[str, Any]:
    """Approve a draft (as someone other than its publisher)."""
    try:
        return approve(_backend(request), product, version, who.name).to_dict()
    except (InputError, UsageError) as exc:
        raise _fail(exc) from None


class Deprecation(BaseModel):
    """The body of a deprecation."""

    model_config = ConfigDict(extra="forbid")
    until: date
    successor: str


@api.post("/products/{product}/versions/{version}/deprecate")
def deprecate_version(
    product: str, version: str, body: Deprecation, request: Request, who: Principal = Approver
) -> dict[str, Any]:
    """Deprecate an approved version, supported until a date, in favour of a successor."""
    try:
        record, _ = deprecate(
            _backend(request), product, version, who.name, body.until, body.successor, _notifiers(request)
        )
    except (InputError, UsageError) as exc:
        raise _fail(exc) from None
    return record.to_dict()


@api.post("/products/{product}/versions/{version}/retire")
def retire_version(product: str, version: str, request: Request, who: Principal = Approver) -> dict[str, Any]:
    """Retire a deprecated version."""
    try:
        record, _ = retire(_backend(request), product, version, who.name, _notifiers(request))
    except (InputError, UsageError) as exc:
        raise _fail(exc) from None
    return record.to_dict()


@api.post("/recheck")
async def recheck_versions(request: Request, who: Principal = Changer) -> list[dict[str, Any]]:
    """Re-check every approved and deprecated version now; versions that fail today's policies
    become non-compliant. Any authenticated caller may: a scheduler holding a project token
    (``bastion catalog recheck --every 24h --server URL``) runs it; it decides nothing a policy
    has not, changes only compliance, and is in the audit log under the caller's name."""
    backend = _backend(request)
    try:
        options = _gate_options(backend)
        results = await run_in_threadpool(recheck, backend, who.name, options, _notifiers(request))
    except InputError as exc:  # a stored artefact missing or altered: the re-check cannot vouch for it
        raise HTTPException(500, f"re-check stopped: {exc}") from None
    return [
        {
            "product": r.record.product,
            "version": r.record.version,
            "state": r.record.state.value,
            "compliant": r.record.compliant,
            "changed": r.changed,
            "reasons": list(r.record.noncompliant_reasons),
            "undelivered": list(r.failures),
        }
        for r in results
    ]


@api.get("/audit", dependencies=[Reader])
def audit_log(request: Request) -> list[dict[str, Any]]:
    """Every change to the catalog, oldest first."""
    return [entry.to_dict() for entry in _backend(request).audit()]


@pages.get("/catalog", response_class=HTMLResponse)
def catalog_page(request: Request, who: Principal = Reader) -> Response:
    """Products, their versions and states, and the latest changes."""
    backend = _backend(request)
    products: list[dict[str, Any]] = []
    for spec in backend.products():
        versions = sorted(backend.versions(spec.name), key=lambda r: parse_semver(r.version))
        latest = latest_approved(versions)
        shown = latest or (versions[-1] if versions else None)  # what a consumer would pick
        products.append(
            {
                "spec": spec,
                "versions": versions,
                "latest": latest.version if latest else None,
                "shown": shown,
                "example": usage_example(spec, shown) if shown else "",
                "limits": {**shown.constraints, **spec.constraints} if shown else dict(spec.constraints),
                "successors": {
                    r.version: [
                        later.version
                        for later in versions
                        if later.state is State.APPROVED
                        and parse_semver(later.version) > parse_semver(r.version)
                    ]
                    for r in versions
                },
            }
        )
    audit = list(reversed(backend.audit()))[:50]
    return render_page(request, "catalog/index.html", {"who": who, "products": products, "audit": audit})


def _page_admin(request: Request, who: Principal, csrf_token: str) -> None:
    """A page button: the session's CSRF token, and the approver role."""
    check_csrf(who, request, csrf_token)
    if not who.is_admin:
        raise HTTPException(403, "admin role needed (the catalog's approvers)")


@pages.post("/catalog/recheck")
async def recheck_page(
    request: Request, csrf_token: str = Form(default=""), who: Principal = Reader
) -> Response:
    """The page's re-check button; back to the page, whose versions now show the outcome."""
    _page_admin(request, who, csrf_token)
    await recheck_versions(request, who)
    return RedirectResponse("/catalog", status_code=303)


@pages.post("/catalog/{product}/{version}/{action}")
def transition_page(
    request: Request,
    product: str,
    version: str,
    action: str,
    until: str = Form(default="", max_length=10),
    successor: str = Form(default="", max_length=100),
    csrf_token: str = Form(default=""),
    who: Principal = Reader,
) -> Response:
    """The page's approve, deprecate and retire buttons (the approver role, as in the API)."""
    _page_admin(request, who, csrf_token)
    if action == "approve":
        approve_version(product, version, request, who)
    elif action == "retire":
        retire_version(product, version, request, who)
    elif action == "deprecate":
        try:
            day = date.fromisoformat(until)
        except ValueError:
            raise HTTPException(400, f"until {until!r}: expected a date YYYY-MM-DD") from None
        deprecate_version(product, version, Deprecation(until=day, successor=successor), request, who)
    else:
        raise HTTPException(404, f"no catalog action {action!r} (approve, deprecate, retire)")
    return RedirectResponse(f"/catalog#product-{product}", status_code=303)
