"""Durations as a watchlist spells them: numbers are seconds, strings take ms, s, m, h (and d).

Why here: monitor settings (``flap_window = "10m"``) arrive in ``Endpoint.extra`` as the
watchlist parsed them, possibly still as strings. The monitor must accept both without
depending on the watchlist module (the arrows point down only).
"""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.IGNORECASE)


def parse_duration(value: object, *, key: str = "duration") -> float:
    """Seconds in ``value``: ``30``, ``2.5``, ``"500ms"``, ``"30s"``, ``"5m"``, ``"1h30m"``.

    Raises ValueError naming ``key`` for anything else, including negative or infinite values,
    so a typo in a watchlist is reported rather than silently meaning "never".
    """
    if isinstance(value, bool):
        raise ValueError(f"{key}: expected a duration, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_text(text, key)
    else:
        raise ValueError(f"{key}: expected a duration, got {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{key}: expected a non-negative duration, got {value!r}")
    return seconds


def _parse_text(text: str, key: str) -> float:
    position, total = 0, 0.0
    compact = text.replace(" ", "")
    for match in _PART.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        position = match.end()
    if position == 0 or position != len(compact):
        raise ValueError(f"{key}: cannot read {text!r} as a duration (use e.g. 500ms, 30s, 5m, 1h)")
    return total


def format_duration(seconds: float) -> str:
    """Short human form for messages: ``450ms``, ``30s``, ``10m``, ``1h30m``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60 or seconds % 60:
        return f"{seconds:g}s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, rest = divmod(minutes, 60)
    return f"{hours}h{rest}m" if rest else f"{hours}h"
