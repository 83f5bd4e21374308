"""Windows Security sign-in events (4624, 4625, 4648, 4768, 4771, 4776) as :class:`SignIn` events.

Three record shapes, whatever tool exported them: the EVTX layout that ``evtx`` (and ``evtx_dump``,
Zircolite, Chainsaw) decode a ``.evtx`` file into (``{"Event": {"System": ..., "EventData": ...}}``),
Winlogbeat / Elastic (``winlog.event_id``, ``winlog.event_data``) and the flat rows of NXLog, Splunk
and Sentinel's ``SecurityEvent`` table (``EventID``, ``TargetUserName``, ``IpAddress`` side by side).

Status codes: https://learn.microsoft.com/windows/security/threat-protection/auditing/event-4625
(NTSTATUS) and event-4768 / event-4771 (Kerberos result codes).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bastion.detect.identity.cloud import parse_time
from bastion.detect.identity.events import BAD_PASSWORD, OTHER, UNKNOWN_USER, SignIn

__all__ = ["EVENT_IDS", "from_windows", "is_windows"]

EVENT_IDS = frozenset({4624, 4625, 4648, 4768, 4771, 4776})
"""The Security event ids read as sign-ins; any other id is a counted skip."""

_NT_UNKNOWN = {"0xc0000064"}
"""NTSTATUS: no such user."""
_NT_BAD_PASSWORD = {"0xc000006a"}
"""NTSTATUS: wrong password (0xC000006D is the generic 'bad user name or password': see SubStatus)."""
_KRB_UNKNOWN = {"0x6"}
"""Kerberos: client not found in the database."""
_KRB_BAD_PASSWORD = {"0x18"}
"""Kerberos: pre-authentication failed (wrong password)."""
_SYSTEM_LOGONS = {"0", "4", "5"}
"""Logon types of the system itself, batch jobs and services: not a person signing in."""
_LOGON_NAMES = {
    "2": "interactive",
    "3": "network",
    "7": "unlock",
    "8": "network-cleartext",
    "9": "new-credentials",
    "10": "remote-interactive",
    "11": "cached-interactive",
}
_BUILT_IN = {"anonymous logon", "system", "local service", "network service", "dwm-1", "umfd-0"}
_NO_ADDRESS = {"", "-", "::1", "127.0.0.1"}


def is_windows(record: Mapping[str, Any]) -> bool:
    """Whether a JSON record looks like a Windows event in one of the three shapes."""
    event = record.get("Event")
    if type(event) is dict and "System" in event:
        return True
    if type(record.get("winlog")) is dict:
        return True
    return "EventID" in record and ("TargetUserName" in record or "EventData" in record)


def _s(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if type(value) is str else str(value)


def _unpack(record: Mapping[str, Any]) -> tuple[int, Any, Mapping[str, Any], str]:
    """Event id, raw time, the event data fields and the computer name, for every shape."""
    event = record.get("Event")
    if type(event) is dict:
        system = event.get("System") or {}
        created = system.get("TimeCreated")
        time = created.get("#attributes", {}).get("SystemTime") if type(created) is dict else created
        event_id = system.get("EventID")
        if type(event_id) is dict:  # <EventID Qualifiers="...">4625</EventID>
            event_id = event_id.get("#text")
        data = event.get("EventData")
        return _int(event_id), time, data if type(data) is dict else {}, _s(system.get("Computer"))
    winlog = record.get("winlog")
    if type(winlog) is dict:
        data = winlog.get("event_data")
        time = record.get("@timestamp")
        return (
            _int(winlog.get("event_id")),
            time,
            data if type(data) is dict else {},
            _s(winlog.get("computer_name")),
        )
    data = record.get("EventData")
    fields = data if type(data) is dict else record
    time = next(
        (record[k] for k in ("TimeCreated", "TimeGenerated", "EventTime", "@timestamp") if k in record), None
    )
    return _int(record.get("EventID")), time, fields, _s(record.get("Computer") or record.get("Hostname"))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _address(value: Any) -> str:
    ip = _s(value).removeprefix("::ffff:")
    return "" if ip in _NO_ADDRESS else ip


def _user(data: Mapping[str, Any], prefix: str = "Target") -> str:
    """The account name as the event gives it, lower case, without its domain: 4624 names the NetBIOS
    domain, 4768 the Kerberos realm, 4776 none, and one person must stay one identity across them."""
    name = _s(data.get(f"{prefix}UserName")).rsplit("\\", 1)[-1].split("@", 1)[0]
    return "" if name == "-" else name.lower()


def from_windows(record: Mapping[str, Any]) -> SignIn | str:
    """One Windows Security record, or the reason it is not a sign-in."""
    event_id, raw_time, data, computer = _unpack(record)
    if event_id not in EVENT_IDS:
        return "windows event that is not a sign-in (4624/4625/4648/4768/4771/4776)"
    time = parse_time(raw_time.replace(" ", "T", 1) if type(raw_time) is str else raw_time)
    if time is None:
        return "windows event without a readable time"
    if event_id == 4648:
        return _explicit(data, time, computer)
    user = _user(data)
    if not user:
        return "windows event without TargetUserName"
    if user.endswith("$") or user in _BUILT_IN:
        return "windows logon of a machine or built-in account"
    ip = _address(data.get("IpAddress"))
    if event_id in (4624, 4625):
        logon = _s(data.get("LogonType"))
        if logon in _SYSTEM_LOGONS:
            return "windows logon by the system, a batch job or a service"
        ok = event_id == 4624
        status = (_s(data.get("SubStatus")) if _s(data.get("Status")).lower() == "0xc000006d" else "") or _s(
            data.get("Status")
        )
        return SignIn(
            time,
            user,
            ip,
            ok,
            "" if ok else _nt_reason(status),
            app=f"windows {_LOGON_NAMES.get(logon, 'logon type ' + logon)}",
            client=_s(data.get("AuthenticationPackageName") or data.get("LogonProcessName")),
            device=_s(data.get("WorkstationName")).lower().strip("-"),
        )
    if event_id == 4776:
        status = _s(data.get("Status")).lower() or "0x0"
        ok = status in ("0x0", "0")
        return SignIn(
            time,
            user,
            "",
            ok,
            "" if ok else _nt_reason(status),
            app="ntlm",
            client="NTLM",
            device=_s(data.get("Workstation")).lower(),
        )
    code = _s(data.get("Status") if event_id == 4768 else data.get("FailureCode")).lower()
    ok = event_id == 4768 and code in ("0x0", "0")
    reason = ""
    if not ok:
        reason = (
            UNKNOWN_USER if code in _KRB_UNKNOWN else BAD_PASSWORD if code in _KRB_BAD_PASSWORD else OTHER
        )
    return SignIn(time, user, ip, ok, reason, app="kerberos", client="Kerberos")


def _nt_reason(status: str) -> str:
    status = status.lower()
    if status in _NT_UNKNOWN:
        return UNKNOWN_USER
    if status in _NT_BAD_PASSWORD:
        return BAD_PASSWORD
    return OTHER  # locked out, disabled, expired, outside logon hours: not a guess at a secret


def _explicit(data: Mapping[str, Any], time: datetime, computer: str) -> SignIn | str:
    """4648: an account used another's credentials explicitly (runas, mapped drive): privileged."""
    subject = _user(data, "Subject")
    target = _user(data, "Target")
    if not subject or not target:
        return "windows 4648 without subject or target account"
    server = _s(data.get("TargetServerName")) or computer
    process = _s(data.get("ProcessName")).rsplit("\\", 1)[-1]
    return SignIn(
        time,
        subject,
        _address(data.get("IpAddress")),
        True,
        action="privileged",
        app="explicit credentials",
        client=f"as {target} on {server}" + (f" by {process}" if process else ""),
    )
