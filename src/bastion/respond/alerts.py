"""Read Alerts as the detectors write them: JSON lines, one ``Alert.to_dict`` per line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bastion.errors import InputError
from bastion.findings import Alert

__all__ = ["AlertReader", "parse_alert"]


def parse_alert(text: str, where: str) -> Alert:
    """One alert from one JSON line; InputError ``where: malformed alert (why)`` otherwise."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: malformed alert (not JSON: {exc.msg})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: malformed alert (not a JSON object)")
    try:
        return Alert.from_dict(data)
    except KeyError as exc:
        raise InputError(f"{where}: malformed alert (missing {exc.args[0]!r})") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: malformed alert ({str(exc).splitlines()[0]})") from None


@dataclass
class AlertReader:
    """Turns numbered lines into Alerts; malformed lines are counted and reported, not fatal."""

    errors: list[str] = field(default_factory=list)

    def read(self, lines: Iterable[tuple[str, int, str] | None]) -> Iterator[Alert | None]:
        """Yield each good alert from ``(source, line number, text)``; blank lines are skipped and
        a ``None`` (an idle tick) is passed through."""
        for item in lines:
            if item is None:
                yield None
                continue
            source, number, text = item
            if not text.strip():
                continue
            try:
                yield parse_alert(text, f"{source}:{number}")
            except InputError as exc:
                self.errors.append(str(exc))
