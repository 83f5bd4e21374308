"""Record-level parsers for JSON sign-in logs: Entra ID (Graph and Azure Monitor), CloudTrail, Okta.

Each ``from_*`` takes one decoded JSON object and returns a :class:`SignIn`, or a skip reason
string when the record is not a sign-in or lacks what a sign-in needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bastion.detect.identity.events import BAD_PASSWORD, MFA_DENIED, OTHER, UNKNOWN_USER, SignIn

__all__ = ["classify", "from_cloudtrail", "from_entra", "from_google", "from_okta", "parse_time"]

# Entra ID error codes (https://login.microsoftonline.com/error)
_ENTRA_BAD_PASSWORD = {50126, 50053, 50055, 50056}
_ENTRA_UNKNOWN = {50034, 50057}
_ENTRA_MFA = {500121, 50074, 50076, 50079, 50158}
_ENTRA_INTERRUPT = {50140, 50125, 50097, 81010, 81012}
"""Interrupts that are neither success nor failure (keep-me-signed-in prompt, device auth)."""

_CT_SIGNIN = {
    "ConsoleLogin",
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetSessionToken",
}


def parse_time(text: object) -> datetime | None:
    """ISO 8601 (with ``Z`` or offset, any number of fractional digits) as an aware UTC datetime."""
    if type(text) is not str or len(text) < 10:
        return None
    try:
        t = datetime.fromisoformat(text)  # Python 3.11 reads "Z" and truncates 7-digit fractions
    except ValueError:
        try:
            t = datetime.fromisoformat(text.strip())
        except ValueError:
            return None
    tz = t.tzinfo
    if tz is UTC:
        return t
    return t.replace(tzinfo=UTC) if tz is None else t.astimezone(UTC)


def _get(data: Any, *keys: str) -> Any:
    cur: Any = data
    for key in keys:
        if type(cur) is not dict:  # JSON objects are dicts; an exact check is ~5x faster than Mapping
            return None
        cur = cur.get(key)
    return cur


def _str(value: Any) -> str:
    return value if type(value) is str else ("" if value is None else str(value))


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def classify(record: Mapping[str, Any]) -> str:
    """Which cloud log a JSON record is from: ``entra``, ``cloudtrail``, ``okta``, ``google`` or ``''``."""
    if "eventVersion" in record or "eventSource" in record:
        return "cloudtrail"
    props = record.get("properties")
    body = props if type(props) is dict else record
    if "userPrincipalName" in body or "createdDateTime" in body:
        return "entra"
    if "eventType" in record and "actor" in record:
        return "okta"
    if record.get("kind") == "admin#reports#activity" or _get(record, "id", "applicationName") == "login":
        return "google"
    return ""


def _entra_code(body: Mapping[str, Any], record: Mapping[str, Any]) -> int:
    status = body.get("status")
    raw = status.get("errorCode") if type(status) is dict else record.get("resultType")
    if raw is None or raw == 0:
        return 0
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1


def from_entra(record: Mapping[str, Any]) -> SignIn | str:
    """A Graph ``signIn`` object, or an Azure Monitor record with it under ``properties``."""
    props = record.get("properties")
    body: Mapping[str, Any] = props if type(props) is dict else record
    time = parse_time(body.get("createdDateTime") or record.get("time"))
    user = body.get("userPrincipalName") or body.get("userId")
    if time is None:
        return "entra record without a readable createdDateTime"
    if not user:
        return "entra record without userPrincipalName"
    code = _entra_code(body, record)
    reason = ""
    action = "signin"
    if code:
        if code in _ENTRA_INTERRUPT:
            return "entra interrupt (not a completed sign-in)"
        if code in _ENTRA_UNKNOWN:
            reason = UNKNOWN_USER
        elif code in _ENTRA_BAD_PASSWORD:
            reason = BAD_PASSWORD
        elif code in _ENTRA_MFA:
            reason, action = MFA_DENIED, "mfa"
        else:
            reason = OTHER
    device = body.get("deviceDetail")
    dev_id = ""
    if type(device) is dict:
        dev_id = device.get("deviceId") or ""
        if type(dev_id) is not str:
            dev_id = _str(dev_id)
        if not dev_id:
            dev_id = f"{_str(device.get('operatingSystem'))}/{_str(device.get('browser'))}".strip("/")
    country = city = ""
    lat = lon = None
    loc = body.get("location")
    if type(loc) is dict:
        country, city = _str(loc.get("countryOrRegion")), _str(loc.get("city"))
        coords = loc.get("geoCoordinates")
        if type(coords) is dict:
            lat, lon = _float(coords.get("latitude")), _float(coords.get("longitude"))
    ip, app = body.get("ipAddress") or "", body.get("appDisplayName") or ""
    client = body.get("userAgent") or body.get("clientAppUsed") or ""
    return SignIn(
        time,
        (user if type(user) is str else _str(user)).lower(),
        ip if type(ip) is str else _str(ip),
        code == 0,
        reason,
        action,
        app if type(app) is str else _str(app),
        client if type(client) is str else _str(client),
        dev_id,
        country,
        city,
        lat,
        lon,
    )


def from_cloudtrail(record: Mapping[str, Any]) -> SignIn | str:
    """A CloudTrail ``ConsoleLogin``, ``AssumeRole*`` or ``GetSessionToken`` record."""
    name = record.get("eventName")
    if type(name) is not str or name not in _CT_SIGNIN:
        return "cloudtrail event that is not a sign-in"
    time = parse_time(record.get("eventTime"))
    if time is None:
        return "cloudtrail record without a readable eventTime"
    ident = record.get("userIdentity")
    user: Any = ""
    if type(ident) is dict:
        user = ident.get("userName") or ident.get("arn") or ident.get("principalId") or ""
        if type(user) is not str:
            user = _str(user)
    if name == "ConsoleLogin":
        response = record.get("responseElements")
        success = type(response) is dict and response.get("ConsoleLogin") == "Success"
        reason = ""
        if not success:
            message = _str(record.get("errorMessage"))
            reason = BAD_PASSWORD
            if user in ("", "HIDDEN_DUE_TO_SECURITY_REASONS") or "No username" in message:
                reason = UNKNOWN_USER
            if "MFA" in message:
                reason = MFA_DENIED
    else:
        success = not record.get("errorCode")
        reason = "" if success else OTHER
    if not user:
        return "cloudtrail record without a user identity"
    agent, ip = record.get("userAgent") or "", record.get("sourceIPAddress") or ""
    if type(agent) is not str:
        agent = _str(agent)
    return SignIn(
        time,
        user,
        ip if type(ip) is str else _str(ip),
        success,
        reason,
        "signin" if name == "ConsoleLogin" else "privileged",
        name,
        agent,
        agent,
    )


def from_okta(record: Mapping[str, Any]) -> SignIn | str:
    """An Okta System Log event: ``user.session.start``, ``user.authentication.*``, MFA pushes."""
    kind = _str(record.get("eventType"))
    mfa = "mfa" in kind or "push" in kind or "factor" in kind
    if not (kind.startswith(("user.session.start", "user.authentication")) or mfa):
        return "okta event that is not a sign-in"
    time = parse_time(record.get("published"))
    if time is None:
        return "okta record without a readable published time"
    user = _str(_get(record, "actor", "alternateId"))
    if not user:
        return "okta record without actor.alternateId"
    result = _str(_get(record, "outcome", "result")).upper()
    why = _str(_get(record, "outcome", "reason")).upper()
    success = result in ("SUCCESS", "ALLOW")
    reason = ""
    if not success:
        if mfa or "PUSH" in why or "VERIFY" in why:
            reason = MFA_DENIED
        elif "UNKNOWN" in why or "NOT FOUND" in why:
            reason = UNKNOWN_USER
        elif "CREDENTIAL" in why or "PASSWORD" in why:
            reason = BAD_PASSWORD
        else:
            reason = OTHER
    geo = _get(record, "client", "geographicalContext")
    agent = _str(_get(record, "client", "userAgent", "rawUserAgent"))
    return SignIn(
        time=time,
        user=user.lower(),
        ip=_str(_get(record, "client", "ipAddress")),
        success=success,
        reason=reason,
        action="mfa" if mfa else "signin",
        app="okta",
        client=agent,
        device=_str(_get(record, "device", "id")) or agent,
        country=_str(_get(geo, "country")),
        city=_str(_get(geo, "city")),
        lat=_float(_get(geo, "geolocation", "lat")),
        lon=_float(_get(geo, "geolocation", "lon")),
    )


_GOOGLE_FAILURES = {
    "login_failure_invalid_password": BAD_PASSWORD,
    "login_failure_invalid_second_factor": MFA_DENIED,
    "login_failure_missing_second_factor": MFA_DENIED,
}
"""Google's ``login_failure_type`` values; any other (disabled account, access code) is OTHER."""
_GOOGLE_PASSWORD_CHALLENGES = {"password", "google_password"}


def _google_params(event: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    items = event.get("parameters")
    if type(items) is not list:
        return params
    for item in items:
        if type(item) is not dict:
            continue
        name = item.get("name")
        if name is None:
            continue
        value = item.get("value")
        if value is None:  # the first of the typed values present, else a "value": null kept as None
            if "multiValue" in item:
                value = item["multiValue"]
            elif "boolValue" in item:
                value = item["boolValue"]
            elif "intValue" in item:
                value = item["intValue"]
            elif "value" not in item:
                continue
        params[name if type(name) is str else str(name)] = value
    return params


def _google_network(record: Mapping[str, Any]) -> tuple[str, str]:
    """``networkInfo``: the ASN (first of ``ipAsn``) and the ISO 3166-1 ``regionCode`` Google gives."""
    info = record.get("networkInfo")
    if type(info) is not dict:
        return "", ""
    asns = info.get("ipAsn")
    first = asns[0] if type(asns) is list and asns else asns
    asn = f"AS{first}" if isinstance(first, int | str) and not isinstance(first, bool) and first != "" else ""
    return asn, _str(info.get("regionCode")).upper()


def from_google(record: Mapping[str, Any]) -> SignIn | str:
    """A Google Workspace login audit activity (Admin SDK Reports API, ``applicationName=login``).

    Google names no device and no application: the engine judges these sign-ins on what they carry.
    ``is_suspicious`` (Google's own verdict on a successful login) is kept as :attr:`SignIn.flagged`;
    ``networkInfo`` gives the ASN and country when the activity has it. ``events`` may be one object
    (exports that split an activity's events) as well as a list."""
    ident, actor = record.get("id"), record.get("actor")
    time = parse_time(ident.get("time") if type(ident) is dict else None)
    if time is None:
        return "google workspace activity without a readable id.time"
    email = actor.get("email") if type(actor) is dict else None
    user = email if type(email) is str else _str(email)
    events = record.get("events") or ()
    for event in [events] if type(events) is dict else events:
        if type(event) is not dict:
            continue
        name = event.get("name")  # compared as text: no other JSON value reads as these names
        if name == "login_success":
            params = _google_params(event)
            ok, reason, action = True, "", "signin"
        elif name == "login_failure":
            params = _google_params(event)
            reason = _GOOGLE_FAILURES.get(_str(params.get("login_failure_type")), OTHER)
            ok, action = False, "mfa" if reason == MFA_DENIED else "signin"
        elif name == "login_challenge":
            params = _google_params(event)
            if "fail" not in _str(params.get("login_challenge_status")).lower():
                continue
            methods = params.get("login_challenge_method")
            method_list = methods if type(methods) is list else [methods]
            password = any(_str(m) in _GOOGLE_PASSWORD_CHALLENGES for m in method_list)
            ok, reason, action = (
                False,
                BAD_PASSWORD if password else MFA_DENIED,
                "signin" if password else "mfa",
            )
        else:
            continue
        if not user:
            user = _str(params.get("affected_email_address"))
        if not user:
            return "google workspace login without actor.email"
        ip = record.get("ipAddress")
        if type(ip) is not str:
            ip = _str(ip)
        kind = params.get("login_type")
        suspicious = ok and params.get("is_suspicious") in (True, "true")
        if not suspicious and "networkInfo" not in record:  # the common case: positional, no keywords
            return SignIn(time, user.lower(), ip, ok, reason, action, "google workspace", _str(kind))
        asn, country = _google_network(record) if "networkInfo" in record else ("", "")
        return SignIn(
            time,
            user.lower(),
            ip,
            ok,
            reason,
            action,
            "google workspace",
            _str(kind),
            country=country,
            asn=asn,
            flagged="Google marked it suspicious (is_suspicious)" if suspicious else "",
        )
    return "google workspace event that is not a sign-in (logout, settings, passed challenge)"
