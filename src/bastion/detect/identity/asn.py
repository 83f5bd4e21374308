"""ASN ranges from CSV, in the format of the ``@ip-location-db/asn`` npm package (RouteViews and
DB-IP, CC BY 4.0) and its kin: ``ip_range_start,ip_range_end,autonomous_system_number,
autonomous_system_organization``, inclusive ranges as addresses (``-ipv4.csv``, ``-ipv6.csv``) or as
numbers (``-num.csv``), with or without that header line. Ranges are kept in sorted arrays and found
by bisection: a few hundred thousand rows stay compact, and a lookup is one binary search.
"""

from __future__ import annotations

import bisect
import csv
import ipaddress
from array import array
from pathlib import Path

from bastion.errors import InputError

__all__ = ["AsnRanges", "is_asn_range_csv"]

_HEADER = "ip_range_start"


def _address(text: str) -> tuple[int, int] | None:
    """(version, value) of an address or of a number (``-num.csv``: IPv4 when it fits in 32 bits)."""
    text = text.strip()
    if text.isdigit():
        value = int(text)
        return (4 if value < 1 << 32 else 6), value
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    return addr.version, int(addr)


def is_asn_range_csv(path: Path) -> bool:
    """Whether ``path`` starts like an ASN range CSV (a header ``ip_range_start,...`` or a first row of
    two addresses and a number); a geo CSV (``network,country,...``) does not."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            first = handle.readline(4096).strip()
    except OSError:
        return False
    fields = [f.strip() for f in first.split(",")]
    if fields and fields[0] == _HEADER:
        return True
    return (
        len(fields) >= 3
        and _address(fields[0]) is not None
        and _address(fields[1]) is not None
        and fields[2].upper().removeprefix("AS").isdigit()
    )


class AsnRanges:
    """Inclusive address ranges, each with an ASN (``AS<number>``) and its organisation. Ranges do not
    overlap (the package's do not); where a file's do, the range starting last before an address answers."""

    def __init__(self) -> None:
        """No ranges yet."""
        self._starts: dict[int, list[int] | array[int]] = {4: array("Q"), 6: []}
        self._ends: dict[int, list[int] | array[int]] = {4: array("Q"), 6: []}
        self._which: dict[int, array[int]] = {4: array("I"), 6: array("I")}
        self._values: list[tuple[str, str]] = []
        self._index: dict[tuple[str, str], int] = {}
        self.ranges = 0

    def load(self, path: Path) -> None:
        """Add the rows of one file; a bad row is an InputError naming the file and the line."""
        rows: dict[int, list[tuple[int, int, int]]] = {4: [], 6: []}
        try:
            with path.open(newline="", encoding="utf-8", errors="replace") as handle:
                for line, row in enumerate(csv.reader(handle), 1):
                    if not row or (line == 1 and row[0].strip() == _HEADER):
                        continue
                    rows_of = self._row(path, line, row)
                    rows[rows_of[0]].append(rows_of[1])
        except (OSError, csv.Error) as exc:
            raise InputError(f"{path}: cannot read ASN ranges ({exc})") from None
        for version, found in rows.items():
            if not found:
                continue
            merged = sorted(
                [*zip(self._starts[version], self._ends[version], self._which[version], strict=True), *found]
            )
            starts, ends, which = (list(x) for x in zip(*merged, strict=True))
            self._starts[version] = array("Q", starts) if version == 4 else starts
            self._ends[version] = array("Q", ends) if version == 4 else ends
            self._which[version] = array("I", which)
            self.ranges += len(found)

    def _row(self, path: Path, line: int, row: list[str]) -> tuple[int, tuple[int, int, int]]:
        if len(row) < 3:
            raise InputError(f"{path}:{line}: an ASN range row needs start, end and number")
        start, end = _address(row[0]), _address(row[1])
        number = row[2].strip().upper().removeprefix("AS")
        if start is None or end is None or start[0] != end[0] or end[1] < start[1] or not number.isdigit():
            raise InputError(f"{path}:{line}: bad ASN range row {','.join(row[:3])!r}")
        value = (f"AS{int(number)}", row[3].strip() if len(row) > 3 else "")
        index = self._index.get(value)
        if index is None:
            index = self._index[value] = len(self._values)
            self._values.append(value)
        return start[0], (start[1], end[1], index)

    def lookup(self, value: int, version: int) -> tuple[str, str] | None:
        """(ASN, organisation) of the range holding the address ``value``, or None."""
        starts = self._starts[version]
        at = bisect.bisect_right(starts, value) - 1
        if at < 0 or value > self._ends[version][at]:
            return None
        return self._values[self._which[version][at]]
