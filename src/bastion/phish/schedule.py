"""When each message goes out: spread over a window, optionally from a local time of day.

Without a window every message is due at launch. With ``window_minutes`` the messages are spread
evenly over it (in a stable shuffled order, so a department is not mailed all at once). With
``local_start`` (``HH:MM``) the window opens at that time in each recipient's own time zone (the
next such time after launch; targets without a zone use UTC).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bastion.errors import UsageError

__all__ = ["parse_local_start", "send_times"]


def parse_local_start(value: str | None) -> time | None:
    """``HH:MM`` as a time; :class:`UsageError` when it is not one."""
    if not value:
        return None
    try:
        hour, minute = (int(part) for part in value.split(":"))
        return time(hour, minute)
    except ValueError:
        raise UsageError(f"--local-start: expected HH:MM, got {value!r}") from None


def _local_opening(launch: datetime, zone: str, start: time) -> datetime:
    tz = ZoneInfo(zone) if zone else UTC
    local = launch.astimezone(tz)
    opening = datetime.combine(local.date(), start, tzinfo=tz)
    if opening < local:
        opening += timedelta(days=1)
    return opening.astimezone(UTC)


def send_times(
    launch: datetime,
    zones: list[str],
    window_minutes: int,
    local_start: time | None = None,
    seed: int = 0,
) -> list[datetime]:
    """The due time of each of ``len(zones)`` messages (same order as ``zones``)."""
    count = len(zones)
    order = list(range(count))
    random.Random(seed).shuffle(order)  # bastion: ignore[sast.bandit.B311] spreading send order, not security
    slot = timedelta(minutes=window_minutes) / count if count and window_minutes > 0 else timedelta(0)
    times: list[datetime] = [launch] * count
    for rank, index in enumerate(order):
        opening = _local_opening(launch, zones[index], local_start) if local_start else launch
        times[index] = opening + slot * rank
    return times
