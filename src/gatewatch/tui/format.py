"""Numbers and times as the board spells them, and the replay prompt's time grammar.

Why one module: a column is only readable if every cell spells a duration the same way,
and the width of a board cell is fixed, so each formatter here has a maximum width. No
Textual here: these are plain functions, tested as such.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from gatewatch.monitor.durations import parse_duration


def ms(value: float | None, *, width: int = 4) -> str:
    """Compact milliseconds for a cell of ``width`` (≥ 4): ``0.4``, ``12``, ``340``, ``1.2s``."""
    if value is None:
        return "-".rjust(width)
    if value < 10:
        text = f"{value:.1f}"
    elif value < 1000:
        text = f"{value:.0f}"
    elif value < 10_000:
        text = f"{value / 1000:.1f}s"
    else:
        text = f"{value / 1000:.0f}s"
    return text.rjust(width)


def ms_long(value: float | None) -> str:
    """Milliseconds for prose: ``0.42 ms``, ``12.3 ms``, ``1.24 s``; ``-`` when unknown."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value:.2f} ms"
    if value < 1000:
        return f"{value:.1f} ms"
    return f"{value / 1000:.2f} s"


def ago(seconds: float | None) -> str:
    """A short age: ``45s``, ``12m``, ``3h``, ``2d`` (at most 4 characters)."""
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m"
    if seconds < 86400:
        return f"{seconds // 3600:.0f}h"
    return f"{seconds // 86400:.0f}d"


def percent(value: float | None) -> str:
    """Uptime: ``100%``, ``99.9%``, ``42.0%``; ``-`` when there were no probes."""
    if value is None:
        return "-"
    if value >= 99.995:
        return "100%"
    return f"{value:.1f}%"


def size(n: int | None) -> str:
    if n is None:
        return "-"
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"


# --------------------------------------------------------------------------- replay time

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_moment(text: str, now: datetime) -> datetime:
    """The moment an engineer means by ``text``, relative to the aware datetime ``now``.

    ``-15m`` / ``15m ago`` / ``15m``: that long before now; ``03:12`` or ``03:12:30``: the
    last time the local clock showed it (today, or yesterday if that is still to come);
    ``2026-11-24 03:12`` or ISO 8601: that moment (local time unless it names a zone).
    Raises ValueError with a message fit for the prompt.
    """
    spec = text.strip().lower()
    if not spec:
        raise ValueError("type a time like 03:12 or -15m")
    local_now = now.astimezone()
    clock = _CLOCK.fullmatch(spec)
    if clock:
        hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"not a time of day: {text.strip()!r}")
        moment = local_now.replace(hour=hour, minute=minute, second=second, microsecond=0)
        return moment - timedelta(days=1) if moment > local_now else moment
    relative = spec.removesuffix("ago").strip().removeprefix("-").strip()
    if relative and relative[0].isdigit() and not relative.replace(".", "").isdigit():
        try:
            return local_now - timedelta(seconds=parse_duration(relative))
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"can't read {text.strip()!r}: use 03:12, -15m, 2h ago or 2026-11-24 03:12"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_now.tzinfo)
    return moment


def count(n: int, noun: str) -> str:
    """``1 endpoint``, ``2 endpoints``: the plural only when there are several (or none)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
