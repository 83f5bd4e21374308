"""Allow-lists: addresses, users and hosts that no automatic action may ever touch.

Comparison is made on canonical forms so that a spelling trick cannot slip past: IPv4-mapped
and IPv4-compatible IPv6 addresses are read as the IPv4 address, a target range is refused when
it overlaps a protected range, and user names are compared after Unicode NFKC, case folding,
removal of invisible characters and folding of look-alike letters (Cyrillic/Greek/fullwidth)
to their Latin skeleton (Unicode TR39's idea, for the letters user names are spelled with).
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from bastion.respond.actions.base import TargetKind

__all__ = ["AllowList", "parse_ip", "parse_network", "user_skeleton"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Look-alikes of Latin letters and digits (Unicode confusables.txt, the subset seen in spoofed
# account names): Cyrillic, Greek, Armenian, Latin small capitals and a few symbols.
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",  # noqa: RUF001
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d",  # noqa: RUF001
    "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɡ": "g", "ɑ": "a", "ο": "o", "α": "a", "β": "b",  # noqa: RUF001
    "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y",  # noqa: RUF001
    "ѡ": "w", "ս": "u", "օ": "o", "ց": "g", "զ": "q", "ı": "i", "ʟ": "l", "ᴅ": "d", "ᴏ": "o",  # noqa: RUF001
    "0": "o", "1": "l", "|": "l", "ℓ": "l",  # noqa: RUF001
}  # fmt: skip
_INVISIBLE = {"Cf", "Mn", "Me"}  # format characters (zero-width joiners...), combining marks


def user_skeleton(name: str) -> str:
    """The canonical form two user names share when a person would read them as the same."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE)
    text = "".join(
        "-" if unicodedata.category(ch) == "Pd" or ch == "\u2212" else _CONFUSABLES.get(ch, ch) for ch in text
    )
    if "\\" in text:  # DOMAIN\user
        text = text.rsplit("\\", 1)[1]
    return text.strip()


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if int(address) >> 32 == 0 and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
            return ipaddress.IPv4Address(int(address))
    return address


def parse_ip(text: str) -> IPAddress | None:
    """One address in canonical form (mapped IPv6 read as IPv4, zone id dropped), or None."""
    raw = text.strip().strip("[]").split("%", 1)[0]
    try:
        return _unwrap(ipaddress.ip_address(raw))
    except ValueError:
        return None


def parse_network(text: str) -> IPNetwork | None:
    """An address or CIDR range as a network in canonical form, or None."""
    raw = text.strip().split("%", 1)[0]
    if "/" not in raw:
        address = parse_ip(raw)
        return ipaddress.ip_network(address) if address is not None else None
    try:
        network = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        return None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        first = _unwrap(network.network_address)
        if first.version == 4:
            return ipaddress.ip_network(f"{first}/{network.prefixlen - 96}", strict=False)
    return network


@dataclass
class AllowList:
    """What must never be touched; :meth:`protects` answers for one target."""

    networks: list[IPNetwork] = field(default_factory=list)
    users: set[str] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)
    other: set[str] = field(default_factory=set)
    """Tokens and access keys, compared exactly."""

    @classmethod
    def build(
        cls,
        ips: Iterable[str] = (),
        users: Iterable[str] = (),
        hosts: Iterable[str] = (),
        other: Iterable[str] = (),
    ) -> AllowList:
        """Parse the configured entries; raises ``ValueError`` naming a bad address."""
        networks = []
        for entry in ips:
            network = parse_network(entry)
            if network is None:
                raise ValueError(f"allow-list ip {entry!r} is not an address or CIDR range")
            networks.append(network)
        return cls(
            networks,
            {user_skeleton(u) for u in users},
            {_host(h) for h in hosts},
            {o.strip() for o in other},
        )

    def protects(self, kind: TargetKind, target: str) -> str | None:
        """The reason ``target`` must not be touched, or None. An unreadable IP is protected too:
        what cannot be compared cannot be proven safe."""
        match kind:
            case TargetKind.IP:
                network = parse_network(target)
                if network is None:
                    return f"{target!r} is not an address or range: refused"
                for allowed in self.networks:
                    if allowed.version == network.version and allowed.overlaps(network):
                        return f"{target} overlaps allow-listed {allowed}"
                return None
            case TargetKind.USER:
                skeleton = user_skeleton(target)
                return f"user {target!r} is allow-listed" if skeleton in self.users else None
            case TargetKind.HOST:
                return f"host {target!r} is allow-listed" if _host(target) in self.hosts else None
            case TargetKind.TOKEN | TargetKind.ACCESS_KEY:
                return (
                    f"{kind.value} {target[:8]}... is allow-listed" if target.strip() in self.other else None
                )
            case TargetKind.NONE:
                return None


def _host(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold().strip().rstrip(".")
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return text
