"""Linux auth.log / secure lines (sshd, sudo, su) as :class:`SignIn` events.

Classic syslog stamps carry no year: the caller gives one (``--year``, or the file's modification
year); a month later than the file's own month belongs to the year before (a log that spans New Year).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bastion.detect.identity.events import BAD_PASSWORD, UNKNOWN_USER, SignIn

__all__ = ["AuthLogParser"]

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
_LINE = re.compile(
    r"^(?P<month>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d) (?P<host>\S+) "
    r"(?P<program>[^:\[\s]+)(?:\[\d+\])?: (?P<msg>.*)$"
)
_ISO_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\S+) (?P<host>\S+) (?P<program>[^:\[\s]+)(?:\[\d+\])?: (?P<msg>.*)$"
)
_REPEAT = re.compile(r"^message repeated (\d+) times: \[ ?(.*?) ?\]$")
_ACCEPTED = re.compile(r"^Accepted (\S+) for (\S+) from (\S+) port (\d+)")
_FAILED = re.compile(r"^Failed (\S+) for (invalid user )?(\S*) from (\S+) port (\d+)")
_INVALID = re.compile(r"^Invalid user (\S*) from (\S+)(?: port (\d+))?")
_SUDO_OK = re.compile(r"^\s*(\S+) : (?:TTY=\S+ ; )?PWD=\S+ ; USER=(\S+) ; COMMAND=(.*)$")
_SUDO_FAIL = re.compile(r"^\s*(\S+) : (\d+) incorrect password attempts?")
_SU_OK = re.compile(r"^(?:\(to (\S+)\) (\S+) on|Successful su for (\S+) by (\S+))")
_SU_FAIL = re.compile(r"^FAILED su for (\S+) by (\S+)")


class AuthLogParser:
    """Stateful per file: pairs ``Invalid user`` with the ``Failed ... invalid user`` that repeats it."""

    def __init__(self, year: int, last_month: int = 12) -> None:
        """``year`` of the file's last line, ``last_month`` its month (lines after it are a year older)."""
        self.year = year
        self.last_month = last_month
        self._invalid: tuple[str, str, str] | None = None

    def _time(self, m: re.Match[str]) -> datetime | None:
        if m.re is _ISO_LINE:
            t = datetime.fromisoformat(m["ts"].replace("Z", "+00:00"))
            return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
        month = _MONTHS.get(m["month"])
        if month is None:
            return None
        year = self.year - 1 if month > self.last_month else self.year
        hms = m["time"]
        try:
            return datetime(
                year, month, int(m["day"]), int(hms[:2]), int(hms[3:5]), int(hms[6:8]), tzinfo=UTC
            )
        except ValueError:
            return None

    def parse(self, line: str) -> list[SignIn] | str:
        """The events of one line (several for ``message repeated N times``), or a skip reason."""
        m = _LINE.match(line) or _ISO_LINE.match(line)
        if not m:
            return "not a syslog line"
        try:
            time = self._time(m)
        except ValueError:
            time = None
        if time is None:
            return "syslog line with an unreadable time"
        program, msg, times = m["program"], m["msg"], 1
        rep = _REPEAT.match(msg) if msg.startswith("message repeated") else None
        if rep:
            times, msg = int(rep[1]), rep[2]
        event = self._event(program, msg, time)
        if isinstance(event, str):
            return event
        event.raw = line[:300]
        if times == 1:
            return [event]
        # the copies are distinct attempts: a microsecond apart, so no one takes them for duplicates
        return [replace(event, time=event.time + timedelta(microseconds=i)) for i in range(times)]

    def _event(self, program: str, msg: str, time: datetime) -> SignIn | str:
        if program == "sshd":
            return self._sshd(msg, time)
        if program == "sudo":
            ok = _SUDO_OK.match(msg)
            if ok:
                return SignIn(time, ok[1], "", True, action="privileged", app="sudo", client=ok[3][:80])
            bad = _SUDO_FAIL.match(msg)
            if bad:
                return SignIn(time, bad[1], "", False, BAD_PASSWORD, action="privileged", app="sudo")
            return "sudo line that is not an authentication"
        if program == "su":
            ok = _SU_OK.match(msg)
            if ok:
                return SignIn(time, ok[2] or ok[4], "", True, action="privileged", app="su")
            bad = _SU_FAIL.match(msg)
            if bad:
                return SignIn(time, bad[2], "", False, BAD_PASSWORD, action="privileged", app="su")
            return "su line that is not an authentication"
        return "not an authentication program (sshd, sudo, su)"

    def _sshd(self, msg: str, time: datetime) -> SignIn | str:
        if not msg.startswith(("Accepted ", "Invalid ", "Failed ")):
            return "sshd line that is not an authentication"
        ok = _ACCEPTED.match(msg)
        if ok:
            self._invalid = None
            return SignIn(time, ok[2], ok[3], True, app="sshd", client=ok[1], device=ok[1])
        inv = _INVALID.match(msg)
        if inv:
            self._invalid = (inv[1], inv[2], inv[3] or "")
            return SignIn(time, inv[1], inv[2], False, UNKNOWN_USER, app="sshd")
        bad = _FAILED.match(msg)
        if bad:
            unknown = bool(bad[2])
            key = (bad[3], bad[4], bad[5])
            if unknown and self._invalid == key:
                self._invalid = None
                return "repeat of the Invalid user line before it"
            reason = UNKNOWN_USER if unknown else BAD_PASSWORD
            return SignIn(time, bad[3], bad[4], False, reason, app="sshd", client=bad[1], device=bad[1])
        return "sshd line that is not an authentication"
