"""Offline IP context, no network call ever: CSV rows, MaxMind DB files and iporigin's ranges.

CSV header (extra columns ignored): ``network,country,city,lat,lon,asn,as_org,is_anonymizer,is_hosting``;
its rows are the user's own word and win (longest prefix). Where no row matches, the ``.mmdb`` files
(:mod:`bastion.detect.identity.sources`) add what each knows, first file first. An ASN range CSV
(``@ip-location-db/asn``, :mod:`bastion.detect.identity.asn`) names the network of addresses whose
answer has none. iporigin's provider ranges add the hosting and anonymizer marks to whatever the
others say. Only loopback and RFC 1918 / RFC 4193 addresses are internal; any address a geo source
knows is located, whatever its range.
"""

from __future__ import annotations

import csv
import ipaddress
import math
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bastion.detect.identity.asn import AsnRanges, is_asn_range_csv
from bastion.detect.identity.sources import OriginRanges, Partial, is_mmdb, open_mmdb
from bastion.errors import InputError

__all__ = ["GeoDB", "IpInfo", "distance_km", "is_internal"]

_REQUIRED = ("network", "country")
_CACHE_MAX = 1 << 16
"""Addresses whose answers are remembered (then all forgotten at once): a fixed cost of a few MB, so
memory follows the identities, not the stream of (mostly one-off) addresses."""
_TRUE = {"1", "true", "yes", "y", "t"}
_PRIVATE = [
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8")
] + [ipaddress.ip_network(n) for n in ("fc00::/7", "::1/128")]


@dataclass(frozen=True, slots=True)
class IpInfo:
    """What the geo sources say about one address."""

    country: str = ""
    city: str = ""
    lat: float | None = None
    lon: float | None = None
    asn: str = ""
    as_org: str = ""
    anonymizer: bool = False
    hosting: bool = False
    internal: bool = False
    """Loopback or RFC 1918 / RFC 4193 (and not located by a source)."""
    listed: str = ""
    """Name of the threat list that holds the address ('' when none)."""

    @property
    def located(self) -> bool:
        """True when a coordinate is known."""
        return self.lat is not None and self.lon is not None


_UNKNOWN = IpInfo()
_INTERNAL = IpInfo(internal=True)


def is_internal(ip: str) -> bool:
    """Loopback or RFC 1918 / RFC 4193 only (never 'anything not public')."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr.version == n.version and addr in n for n in _PRIVATE)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


class GeoDB:
    """Networks from CSV files; the most specific matching network wins."""

    def __init__(self, origin: bool = False) -> None:
        """An empty database (every address unknown); ``origin``: mark iporigin's hosting and
        anonymizer ranges."""
        self._origin = OriginRanges() if origin else None
        self._mmdb: list[Callable[[str], Partial | None]] = []
        self.sources: list[str] = ["iporigin"] if origin else []
        """What answers lookups, in order (file names, ``iporigin``)."""
        self.credits: list[str] = []
        """Attributions the loaded data's licences ask for (DB-IP Lite: CC BY 4.0)."""
        self._tables: dict[int, dict[int, dict[int, IpInfo]]] = {4: {}, 6: {}}
        self.cache: dict[str, IpInfo] = {}
        """Addresses already looked up (read it before calling :meth:`lookup`: one call less)."""
        self._probes: dict[int, list[tuple[int, dict[int, IpInfo]]]] = {}
        """Per IP version, (netmask, networks) from the longest prefix to the shortest."""
        self._threats: dict[int, dict[int, dict[int, str]]] = {}
        self._asn: AsnRanges | None = None
        self.threats = 0
        self.networks = 0

    def load(self, path: Path) -> None:
        """Add one source: a MaxMind DB (recognised by content, whatever its name), an ASN range CSV
        (recognised by its first line) or a geo CSV."""
        if is_mmdb(path):
            self.load_mmdb(path)
        elif is_asn_range_csv(path):
            self.load_asn_ranges(path)
        else:
            self.load_csv(path)

    def load_asn_ranges(self, path: Path) -> None:
        """Add an ASN range CSV: it names the network of addresses the other sources give none for."""
        if self._asn is None:
            self._asn = AsnRanges()
        self._asn.load(path)
        self.sources.append(path.name)
        self.cache.clear()

    def load_mmdb(self, path: Path) -> None:
        """Add a MaxMind-format database (city, ASN or anonymous-IP); a corrupt one is an InputError."""
        lookup, credit = open_mmdb(path)
        self._mmdb.append(lookup)
        self.sources.append(path.name)
        if credit and credit not in self.credits:
            self.credits.append(credit)
        self.cache.clear()

    def load_csv(self, path: Path) -> None:
        """Add the rows of one CSV file; a bad header or row is an InputError naming file and line."""
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
                if missing:
                    raise InputError(f"{path}: geo CSV lacks column(s) {', '.join(missing)}")
                for row in reader:
                    self._add(path, reader.line_num, row)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"{path}: cannot read geo CSV ({exc})") from None
        self.cache.clear()
        self._probes = {
            v: [(((1 << n) - 1) << ((32 if v == 4 else 128) - n), t[n]) for n in sorted(t, reverse=True)]
            for v, t in self._tables.items()
        }
        self.sources.append(path.name)

    def _add(self, path: Path, line: int, row: dict[str, str]) -> None:
        try:
            net = ipaddress.ip_network((row.get("network") or "").strip(), strict=False)
            lat = float(row["lat"]) if (row.get("lat") or "").strip() else None
            lon = float(row["lon"]) if (row.get("lon") or "").strip() else None
        except ValueError as exc:
            raise InputError(f"{path}:{line}: bad geo row ({exc})") from None
        info = IpInfo(
            country=(row.get("country") or "").strip().upper(),
            city=(row.get("city") or "").strip(),
            lat=lat,
            lon=lon,
            asn=(row.get("asn") or "").strip(),
            as_org=(row.get("as_org") or "").strip(),
            anonymizer=(row.get("is_anonymizer") or "").strip().lower() in _TRUE,
            hosting=(row.get("is_hosting") or "").strip().lower() in _TRUE,
        )
        table = self._tables[net.version].setdefault(net.prefixlen, {})
        table[int(net.network_address)] = info
        self.networks += 1

    def load_threat_list(self, path: Path) -> None:
        """Add a threat list: one address or CIDR a line, ``#`` comments; marks what it covers."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read threat list ({exc})") from None
        for n, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise InputError(f"{path}:{n}: not an address or network: {text!r}") from None
            table = self._threats.setdefault(net.version, {}).setdefault(net.prefixlen, {})
            table[int(net.network_address)] = path.name
            self.threats += 1
        self.cache.clear()

    def lookup(self, ip: str) -> IpInfo:
        """What is known of ``ip``; an unknown or unparsable address gives an empty IpInfo."""
        hit = self.cache.get(ip)
        if hit is not None:
            return hit
        info = self._lookup(ip)
        listed = self._listed(ip) if self.threats else ""
        if listed:
            info = replace(info, listed=listed)
        if len(self.cache) >= _CACHE_MAX:
            self.cache.clear()
        self.cache[ip] = info
        return info

    def _lookup(self, ip: str) -> IpInfo:
        value, version = _v4(ip), 4
        if value is None:
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                return IpInfo()
            value, version = int(addr), addr.version
        info = self._from_csv(value, version) or (self._from_mmdb(ip) if self._mmdb else None)
        if self._asn is not None and (info is None or not info.asn):
            network = self._asn.lookup(value, version)
            if network is not None:
                info = replace(info or IpInfo(), asn=network[0], as_org=(info and info.as_org) or network[1])
        if self._origin is not None:
            origin = self._origin.lookup(value, version)
            # providers' feeds hold documentation and private prefixes too (Vultr's has 203.0.113.0/24):
            # iporigin's own classify() answers "reserved" for those, and so does this
            if origin is not None and ipaddress.ip_address(ip).is_global:
                base = info or IpInfo(as_org=origin.provider)
                return replace(
                    base,
                    anonymizer=base.anonymizer or origin.anonymizer,
                    hosting=base.hosting or origin.hosting,
                    as_org=base.as_org or origin.provider,
                )
        if info is not None:
            return info
        internal = _internal_v4(value) if version == 4 else is_internal(ip)
        return _INTERNAL if internal else _UNKNOWN

    def _from_csv(self, value: int, version: int) -> IpInfo | None:
        for mask, table in self._probes.get(version, ()):
            found = table.get(value & mask)
            if found is not None:
                return found
        return None

    def _from_mmdb(self, ip: str) -> IpInfo | None:
        parts = [p for p in (lookup(ip) for lookup in self._mmdb) if p is not None]
        if not parts:
            return None
        located = next((p for p in parts if p.lat is not None), None)
        return IpInfo(
            country=next((p.country for p in parts if p.country), ""),
            city=located.city if located and located.city else next((p.city for p in parts if p.city), ""),
            lat=located.lat if located else None,
            lon=located.lon if located else None,
            asn=next((p.asn for p in parts if p.asn), ""),
            as_org=next((p.as_org for p in parts if p.as_org), ""),
            anonymizer=any(p.anonymizer for p in parts),
            hosting=any(p.hosting for p in parts),
        )

    def _listed(self, ip: str) -> str:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return ""
        bits, value = addr.max_prefixlen, int(addr)
        for plen, nets in self._threats.get(addr.version, {}).items():
            mask = ((1 << plen) - 1) << (bits - plen) if plen else 0
            name = nets.get(value & mask)
            if name:
                return name
        return ""


def _internal_v4(value: int) -> bool:
    """10/8, 172.16/12, 192.168/16 or 127/8, on the address as an int."""
    top = value >> 24
    return top == 10 or top == 127 or value >> 20 == 0xAC1 or value >> 16 == 0xC0A8


def _v4(ip: str) -> int | None:
    """A dotted-quad IPv4 address as an int, quickly (in C); None for anything else."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")
    except OSError:
        return None
