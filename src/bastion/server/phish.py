"""Phishing exercises in the server: the public tracking endpoints and the signed-in pages.

``tracking`` (prefix :data:`TRACK_PREFIX`, listed in the app's public paths) answers the
links of the messages: the open pixel, clicks (the landing page), the page's script beacon,
the landing form's submit, and reports. Every endpoint answers the same bytes whether the token
is valid, forged or unknown (no enumeration), and a submit's body is reduced to the names of
the filled fields before anything else reads it. ``pages`` and ``api`` sit behind sign-in:
anyone signed in sees counts and the anonymised report; the named report and stopping a
campaign need a site administrator, and each is written to the audit log.
"""

from __future__ import annotations

import secrets
from html import escape
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.phish.fields import filled_fields, forms_post_to
from bastion.phish.report import report_data, report_html
from bastion.phish.results import campaign_results
from bastion.phish.sender import links
from bastion.phish.service import Hit, audit, record, stop
from bastion.phish.templates import render
from bastion.phish.tokens import signer_for
from bastion.server.auth import Principal
from bastion.server.deps import DB, get_store, principal
from bastion.server.web import render as render_page
from bastion.store.db import Store
from bastion.store.phish import PhishCampaign, PhishRecipient

__all__ = ["TRACK_PREFIX", "api", "pages", "tracking"]

TRACK_PREFIX = "/p"
COOKIE = "bastion_phish"
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
_GENERIC = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Phishing exercise</title>"
    "<link rel='stylesheet' href='/p/style.css'></head><body><main class='phish'>"
    "<h1>This was a phishing exercise</h1>"
    "<p>The message you followed was sent by your security team to practise spotting phishing. "
    "Nothing you typed was sent or kept.</p><p>What to look for next time: a sender address that "
    "does not match the company, urgency, a link whose address is not what it says, a request for "
    "your password. When in doubt, use the report button.</p></main></body></html>"
)
_THANKS = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Thank you</title>"
    "<link rel='stylesheet' href='/p/style.css'></head><body><main class='phish'>"
    "<h1>Thank you for reporting</h1><p>Your security team got your report.</p></main></body></html>"
)
# The landing page's script: proves a script ran and a cookie came back, and replaces every
# filled value by "1" before the form leaves the browser, so what was typed is never sent.
SCRIPT = """(function () {
  var me = document.currentScript, mark = me && me.getAttribute("data-t");
  if (!mark) { return; }
  fetch("/p/b/" + encodeURIComponent(mark), {method: "POST"});
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, textarea, select").forEach(function (field) {
        if (field.type === "hidden" || field.type === "submit") { return; }
        if (field.value) { field.value = "1"; } else { field.disabled = true; }
      });
    });
  });
})();
"""
STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;background:#f3f5f8;color:#1d2330;margin:0}"
    ".phish{max-width:34rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:10px;"
    "border:1px solid #d5dae3}label{display:block;margin:.6rem 0}input{width:100%;padding:.4rem}"
    "button{margin-top:1rem;padding:.5rem 1rem}"
)

tracking = APIRouter(prefix=TRACK_PREFIX, include_in_schema=False)
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/phish", tags=["phish"])


def _hit(request: Request, kind: str, fields: tuple[str, ...] = (), via: str = "") -> Hit:
    purpose = f"{request.headers.get('purpose', '')} {request.headers.get('sec-purpose', '')}".lower()
    return Hit(
        kind=kind,
        method=request.method,
        user_agent=request.headers.get("user-agent", ""),
        ip=request.client.host if request.client else "",
        prefetch="prefetch" in purpose or "prefetch" in request.headers.get("x-moz", "").lower(),
        cookie=bool(request.cookies.get(COOKIE)),
        fields=fields,
        via=via,
    )


def _track(store: Store, token: str, hit: Hit) -> tuple[PhishCampaign, str] | None:
    """Record ``hit``; the campaign and the verified token when the token is genuine."""
    with store.read() as session:  # a forged token is refused without taking the write lock
        token_id = signer_for(session).unsign(token)
    if token_id is None:
        return None
    with store.write() as session:
        if not record(session, token_id, hit):
            return None
        recipient = session.scalars(select(PhishRecipient).where(PhishRecipient.token_id == token_id)).one()
        campaign = session.get(PhishCampaign, recipient.campaign_id)
        if campaign is None:  # pragma: no cover - the foreign key guarantees it
            return None
        session.expunge(campaign)
        return campaign, token


def _landing(campaign: PhishCampaign, token: str) -> str:
    urls = links(campaign.base_url, token)
    variables = {
        "first_name": "",
        "last_name": "",
        "name": "",
        "email": "",
        "department": "",
        "location": "",
        "attachment_name": campaign.attachment_name,
        "sender": campaign.sender,
        "submit_url": f"{TRACK_PREFIX}/s/{token}",
        **urls,
    }
    try:
        html = render(campaign.landing_html, variables, html=True, where=f"campaign {campaign.name}")
    except InputError:
        return _GENERIC
    html = forms_post_to(html, f"{TRACK_PREFIX}/s/{escape(token)}")
    script = f'<script src="{TRACK_PREFIX}/j.js" data-t="{escape(token)}" defer></script>'
    head = '<link rel="stylesheet" href="/p/style.css">'
    if "</head>" in html:
        html = html.replace("</head>", head + script + "</head>", 1)
    else:
        html = f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{head}{script}</head>" + (
            f"<body><main class='phish'>{html}</main></body></html>"
        )
    return html


def _page(html: str) -> HTMLResponse:
    """A tracking page: the campaign's landing page rendered in the autoescaping sandbox (its only
    request-derived part is the token, checked against its signature and escaped), or fixed text."""
    headers = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
    # bastion: ignore[sast.taint.xss-response] autoescaping sandbox; the token is verified and escaped
    return HTMLResponse(html, headers=headers)


@tracking.get("/j.js")
def script() -> Response:
    """The landing page's script (the same for every token)."""
    return Response(SCRIPT, media_type="text/javascript")


@tracking.get("/style.css")
def style() -> Response:
    """The tracking pages' style sheet (inline styles are refused by the CSP)."""
    return Response(STYLE, media_type="text/css")


@tracking.get("/o/{token}")
def pixel(token: str, request: Request) -> Response:
    """The open pixel: a 1x1 GIF whatever the token."""
    _track(get_store(request), token, _hit(request, "open"))
    return Response(PIXEL, media_type="image/gif")


def _click(token: str, request: Request, kind: str) -> Response:
    found = _track(get_store(request), token, _hit(request, kind))
    response = _page(_GENERIC if found is None else _landing(*found))
    if found is not None and request.method == "GET":
        response.set_cookie(
            COOKIE,
            secrets.token_urlsafe(12),
            httponly=True,
            secure=request.url.scheme == "https",
            samesite="lax",
            path=TRACK_PREFIX,
            max_age=3600,
        )
    return response


@tracking.api_route("/c/{token}", methods=["GET", "HEAD"])
def click(token: str, request: Request) -> Response:
    """A click: the campaign's landing page (a generic exercise page for an unknown token)."""
    return _click(token, request, "click")


@tracking.api_route("/a/{token}", methods=["GET", "HEAD"])
def attachment(token: str, request: Request) -> Response:
    """The "attachment": only ever a tracked link to the landing page, never a file."""
    return _click(token, request, "attachment")


@tracking.post("/b/{token}")
def beacon(token: str, request: Request) -> Response:
    """The landing page's script ran (and whether its cookie came back)."""
    _track(get_store(request), token, _hit(request, "beacon"))
    return Response(status_code=204)


@tracking.post("/s/{token}")
async def submit(token: str, request: Request) -> Response:
    """The landing form: only the names of filled fields are kept; every answer is the same."""
    content_type = request.headers.get("content-type", "")
    body = await request.body() if content_type.startswith("application/x-www-form-urlencoded") else b""
    names = tuple(filled_fields(body))
    del body
    await run_in_threadpool(_track, get_store(request), token, _hit(request, "submit", names))
    return RedirectResponse(f"{TRACK_PREFIX}/done", status_code=303)


@tracking.get("/done")
def done() -> Response:
    """What a person sees after submitting: this was an exercise, and what to look for."""
    return _page(_GENERIC)


@tracking.get("/r/{token}")
def report_link(token: str, request: Request) -> Response:
    """The "report phishing" link of the message."""
    _track(get_store(request), token, _hit(request, "report", via="link"))
    return _page(_THANKS)


@tracking.post("/r/{token}")
def report_api(token: str, request: Request) -> Response:
    """The reporting API for mail add-ins (the token is in the message's X-Bastion-Report header)."""
    _track(get_store(request), token, _hit(request, "report", via="api"))
    return JSONResponse({"status": "received"})


def signed_in(who: Principal = Depends(principal)) -> Principal:
    """A person signed in to the dashboard (project tokens do not see exercises)."""
    if who.user is None:
        raise HTTPException(403, "phishing exercises are for signed-in users")
    return who


def administrator(who: Principal = Depends(signed_in)) -> Principal:
    """A site administrator (the security team)."""
    if not who.is_admin:
        raise HTTPException(403, "admin role needed")
    return who


User = Depends(signed_in)
Admin = Depends(administrator)


def _campaign(session: Session, campaign_id: int) -> PhishCampaign:
    campaign = session.get(PhishCampaign, campaign_id)
    if campaign is None:
        raise HTTPException(404, "no such campaign")
    return campaign


def _overview(session: Session) -> list[dict[str, Any]]:
    rows = []
    for campaign in session.scalars(select(PhishCampaign).order_by(PhishCampaign.created_at.desc())):
        if campaign.summary is not None:
            total = campaign.summary["total"]
        else:
            total = campaign_results(session, campaign).total.to_dict()
        rows.append({"id": campaign.id, "name": campaign.name, "status": campaign.status, "total": total})
    return rows


@pages.get("/phish", response_class=HTMLResponse)
def campaigns_page(request: Request, who: Principal = User, session: Session = DB) -> Response:
    """Every campaign with its live counts."""
    return render_page(request, "phish/campaigns.html", {"who": who, "rows": _overview(session)})


@pages.get("/phish/{campaign_id}", response_class=HTMLResponse)
def campaign_page(
    campaign_id: int, request: Request, who: Principal = User, session: Session = DB
) -> Response:
    """One campaign: anonymised breakdowns, sends, and the automated requests with reasons."""
    campaign = _campaign(session, campaign_id)
    data = report_data(session, campaign, named=False)
    return render_page(request, "phish/campaign.html", {"who": who, "campaign": campaign, "data": data})


@pages.get("/phish/{campaign_id}/report", response_class=HTMLResponse, dependencies=[User])
def anonymised_report(campaign_id: int, session: Session = DB) -> Response:
    """The anonymised report (no names; small departments merged), ready to publish or print."""
    page = report_html(session, _campaign(session, campaign_id), named=False)
    return HTMLResponse(page)


@pages.get("/phish/{campaign_id}/report/named", response_class=HTMLResponse)
def named_report(campaign_id: int, request: Request, who: Principal = Admin) -> Response:
    """The named report, for the security team; every view is audited."""
    store = get_store(request)
    with store.write() as session:
        campaign = _campaign(session, campaign_id)
        audit(session, who.name, "phish.report.named", f"{campaign.name}: named report viewed")
        return HTMLResponse(report_html(session, campaign, named=True))


@pages.post("/phish/{campaign_id}/stop")
def stop_page(campaign_id: int, who: Principal = Admin, session: Session = DB) -> Response:
    """Stop sending (tracking goes on)."""
    campaign = _campaign(session, campaign_id)
    if campaign.status in ("draft", "running"):
        stop(session, campaign, who.name)
    return RedirectResponse(f"/phish/{campaign_id}", status_code=303)


@api.get("/campaigns", dependencies=[User])
def campaigns_api(session: Session = DB) -> list[dict[str, Any]]:
    """Every campaign with its totals (human counts; automated requests apart)."""
    return _overview(session)


@api.get("/campaigns/{campaign_id}", dependencies=[User])
def campaign_api(campaign_id: int, session: Session = DB) -> dict[str, Any]:
    """One campaign's anonymised report as data."""
    return report_data(session, _campaign(session, campaign_id), named=False)
