"""The Entra sign-ins of a generated corpus as Google Workspace login audit pages (Admin SDK Reports
API, ``applicationName=login``), so the same organisation and attacks can be scored on that format.

What Google's log has and Entra's has not, and the reverse, is kept as Google writes it:
- one activity per sign-in, ``actor.email``, ``ipAddress``, ``id.time`` (milliseconds, ``Z``) and one
  event: ``login_success``, ``login_failure`` (``login_failure_invalid_password``) or, for a denied
  second factor, ``login_challenge`` with ``login_challenge_status`` "Challenge Failed";
- no device id, no application, no client: the unfamiliar-sign-in baseline has fewer properties;
- no record for a sign-in to an account that does not exist in the domain (Google has no actor to log):
  those events (only credential stuffing's "ghost" accounts) are dropped and counted.
Pages of 1,000 activities, newest first within a page as the API returns them, ``nextPageToken`` set.

    python bench/identity/google.py build/identity/idA
"""

from __future__ import annotations

import argparse
import json
import zlib
from pathlib import Path
from typing import Any

PAGE = 1000


def _param(name: str, value: str | bool) -> dict[str, Any]:
    return {"name": name, "boolValue": value} if isinstance(value, bool) else {"name": name, "value": value}


def activity(entra: dict[str, Any]) -> dict[str, Any] | None:
    """One Entra sign-in as a Google login activity; None when Google would not log it."""
    code = entra["status"]["errorCode"]
    if code == 50034:  # user not found: Google logs nothing for an account it does not have
        return None
    user = entra["userPrincipalName"]
    if code == 0:
        event = {
            "type": "login",
            "name": "login_success",
            "parameters": [_param("login_type", "google_password"), _param("is_suspicious", False)],
        }
    elif code == 500121:
        event = {
            "type": "login",
            "name": "login_challenge",
            "parameters": [
                _param("login_type", "google_password"),
                {"name": "login_challenge_method", "multiValue": ["internal_two_factor"]},
                _param("login_challenge_status", "Challenge Failed"),
            ],
        }
    else:
        event = {
            "type": "login",
            "name": "login_failure",
            "parameters": [
                _param("login_type", "google_password"),
                {"name": "login_challenge_method", "multiValue": ["password"]},
                _param("login_failure_type", "login_failure_invalid_password"),
                _param("is_suspicious", False),
            ],
        }
    stamp = entra["createdDateTime"].replace("Z", "")
    millis = stamp[:23] if "." in stamp else stamp + ".000"
    qualifier = zlib.crc32(f"{user}{stamp}{code}".encode())
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": millis + "Z",
            "uniqueQualifier": str(qualifier),
            "applicationName": "login",
            "customerId": "C03az79cb",
        },
        "etag": f'"{qualifier:08x}"',
        "actor": {"email": user, "profileId": str(100000000000 + zlib.crc32(user.encode()))},
        "ipAddress": entra["ipAddress"],
        "events": [event],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    out = args.corpus / "google"
    out.mkdir(exist_ok=True)
    for old in out.glob("page-*.json"):
        old.unlink()
    items: list[dict[str, Any]] = []
    dropped = 0
    with (args.corpus / "entra.jsonl").open() as entra:
        for line in entra:
            converted = activity(json.loads(line))
            if converted is None:
                dropped += 1
            else:
                items.append(converted)
    pages = [items[i : i + PAGE] for i in range(0, len(items), PAGE)]
    for number, page in enumerate(pages):
        document: dict[str, Any] = {"kind": "admin#reports#activities", "items": page[::-1]}
        if number + 1 < len(pages):
            document["nextPageToken"] = f"page-{number + 2:04d}"
        (out / f"page-{number + 1:04d}.json").write_text(json.dumps(document))
    summary = {"activities": len(items), "pages": len(pages), "dropped_unknown_accounts": dropped}
    (args.corpus / "google-summary.json").write_text(json.dumps(summary) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
