"""Maintenance windows: when an endpoint is expected to be down and must not page anyone.

Accepted spellings (a watchlist's ``maintenance`` list, or one string):

- ``"Sat 02:00-04:00 UTC"``: weekly; days ``Mon``…``Sun`` (full names too), ranges
  ``Mon-Fri`` and lists ``Sat,Sun``;
- ``"daily 03:00-03:30 UTC"`` (``weekdays`` and ``weekends`` too);
- ``"2026-12-01T02:00Z/2026-12-01T04:00Z"``: one absolute interval (ISO 8601).

The zone is ``UTC``/``Z``, an offset (``+02:00``) or an IANA name (``Europe/Paris``); when
omitted it is UTC, never the machine's zone, so the same watchlist means the same thing on
every machine. A window whose end is not after its start crosses midnight
(``Fri 23:00-01:00`` runs into Saturday). Parsing happens once, when an endpoint is added:
a bad window is an error then, not a surprise at 02:00.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {
    "daily": frozenset(range(7)),
    "everyday": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
_RECURRING = re.compile(
    r"^(?P<days>[A-Za-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})"
    r"(?:\s+(?P<zone>\S+))?$"
)
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


@dataclass(frozen=True)
class RecurringWindow:
    """A window that repeats on some weekdays at a wall-clock time in one zone."""

    text: str
    days: frozenset[int]
    start: time
    end: time
    zone: tzinfo

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        # The occurrence that started today, and yesterday's when it runs past midnight.
        for back in (0, 1):
            day = local.date() - timedelta(days=back)
            if day.weekday() not in self.days:
                continue
            begin, finish = self._occurrence(day)
            if begin <= local < finish:
                return True
        return False

    def _occurrence(self, day: date) -> tuple[datetime, datetime]:
        begin = datetime.combine(day, self.start, tzinfo=self.zone)
        finish_day = day if self.end > self.start else day + timedelta(days=1)
        return begin, datetime.combine(finish_day, self.end, tzinfo=self.zone)


@dataclass(frozen=True)
class AbsoluteWindow:
    """One interval in time, e.g. a planned migration."""

    text: str
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


Window = RecurringWindow | AbsoluteWindow


def parse_windows(value: object, *, key: str = "maintenance") -> tuple[Window, ...]:
    """All windows in ``value`` (a string or a list of strings); ValueError names ``key``."""
    if value is None:
        return ()
    items: Iterable[object] = [value] if isinstance(value, str) else value  # type: ignore[assignment]
    if not isinstance(items, list | tuple):
        raise ValueError(f"{key}: expected a list of windows, got {value!r}")
    return tuple(parse_window(item, key=key) for item in items)


def parse_window(text: object, *, key: str = "maintenance") -> Window:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{key}: expected a window like 'Sat 02:00-04:00 UTC', got {text!r}")
    spec = text.strip()
    match = _RECURRING.match(spec)
    if not match and "/" in spec:
        return _parse_absolute(spec, key)
    if not match:
        raise ValueError(
            f"{key}: cannot read {spec!r} (expected 'Sat 02:00-04:00 UTC', "
            "'daily 03:00-03:30 UTC' or '2026-12-01T02:00Z/2026-12-01T04:00Z')"
        )
    return RecurringWindow(
        text=spec,
        days=_parse_days(match["days"], spec, key),
        start=_parse_clock(match["start"], spec, key),
        end=_parse_clock(match["end"], spec, key),
        zone=_parse_zone(match["zone"], spec, key),
    )


def in_maintenance(windows: Iterable[Window], moment: datetime) -> Window | None:
    """The first window containing ``moment`` (an aware datetime), or None."""
    for window in windows:
        if window.contains(moment):
            return window
    return None


def _parse_absolute(spec: str, key: str) -> AbsoluteWindow:
    first, _, second = spec.partition("/")
    try:
        start, end = _aware(datetime.fromisoformat(first)), _aware(datetime.fromisoformat(second))
    except ValueError:
        raise ValueError(f"{key}: cannot read {spec!r} as 'START/END' in ISO 8601") from None
    if end <= start:
        raise ValueError(f"{key}: {spec!r} ends before it starts")
    return AbsoluteWindow(text=spec, start=start, end=end)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_days(text: str, spec: str, key: str) -> frozenset[int]:
    lowered = text.lower()
    if lowered in _DAY_GROUPS:
        return _DAY_GROUPS[lowered]
    days: set[int] = set()
    for part in lowered.split(","):
        first, dash, last = part.partition("-")
        lo = _day(first, spec, key)
        if not dash:
            days.add(lo)
            continue
        hi = _day(last, spec, key)
        span = (hi - lo) % 7
        days.update((lo + step) % 7 for step in range(span + 1))
    return frozenset(days)


def _day(text: str, spec: str, key: str) -> int:
    prefix = text[:3]
    if len(text) >= 3 and prefix in _DAYS and _full_day_ok(text):
        return _DAYS.index(prefix)
    raise ValueError(f"{key}: unknown day {text!r} in {spec!r} (use Mon…Sun, daily, weekdays)")


def _full_day_ok(text: str) -> bool:
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return any(name.startswith(text) for name in full)


def _parse_clock(text: str, spec: str, key: str) -> time:
    hours, minutes = (int(p) for p in text.split(":"))
    if hours == 24 and minutes == 0:
        return time(0, 0)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"{key}: bad time {text!r} in {spec!r}")
    return time(hours, minutes)


def _parse_zone(text: str | None, spec: str, key: str) -> tzinfo:
    if text is None or text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    offset = _OFFSET.match(text)
    if offset:
        sign = -1 if offset[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(offset[2]), minutes=int(offset[3])))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{key}: unknown time zone {text!r} in {spec!r}") from None
