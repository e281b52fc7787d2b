"""Durations as a watchlist spells them: numbers are seconds, strings take ms, s, m, h.

Why a grammar of our own: an interval typed as ``"30"`` or ``"5 min"`` must be either
read exactly or refused with a message, never guessed. ``d`` (days) and upper-case units
are accepted too, so every duration in one file reads alike: the monitor's own keys
(``flap_window = "1d"``) use the same spelling (gatewatch.monitor.durations).
"""

from __future__ import annotations

import math
import re

from gatewatch.watchlist.errors import show

#: The words every duration error starts with, so messages read alike everywhere.
EXPECTED = "expected a duration like 500ms, 30s or 5m"

_SEGMENT = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*")
_MULTIPLIER = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """Seconds in ``value``: ``30``, ``2.5``, ``"500ms"``, ``"1.5s"``, ``"5m"``, ``"1m30s"``.

    A bare number (or a numeric string) is seconds. Negative, infinite and NaN values are
    refused, as is anything that is not a number or a string (``true`` is not ``1``).
    Zero is a valid duration here; whether zero makes sense is the caller's rule.
    Raises ValueError with a message fit to show after a file and key.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{EXPECTED}, got {show(value)}")
    seconds = _parse_text(value) if isinstance(value, str) else float(value)
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"{EXPECTED}, got {show(value)}")
    if seconds < 0:
        raise ValueError(f"a duration can't be negative, got {show(value)}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest readable spelling of ``seconds`` that parses back to it.

    ``0.5`` → ``"500ms"``, ``30`` → ``"30s"``, ``90`` → ``"1m30s"``, ``300`` → ``"5m"``,
    ``5400`` → ``"1h30m"``. Precision is kept to the microsecond; callers that need the
    exact float back compare ``parse_duration(format_duration(x)) == x``.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"format_duration() takes seconds as a number, got {seconds!r}")
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        raise ValueError(f"not a duration: {seconds!r}")
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return _number(seconds * 1000, 3) + "ms"
    hours, rest = divmod(float(seconds), 3600.0)
    minutes, secs = divmod(rest, 60.0)
    parts = []
    if hours:
        parts.append(f"{int(hours)}h")
    if minutes:
        parts.append(f"{int(minutes)}m")
    secs = round(secs, 6)
    if secs >= 1:
        parts.append(_number(secs, 6) + "s")
    elif secs > 0:
        parts.append(_number(secs * 1000, 3) + "ms")
    return "".join(parts)


def _parse_text(text: str) -> float:
    plain = _PLAIN_NUMBER.fullmatch(text)
    if plain:
        return float(plain.group(1))
    if text.strip().startswith("-"):
        try:
            _parse_text(text.strip()[1:])
        except ValueError:
            pass
        else:
            raise ValueError(f"a duration can't be negative, got {show(text)}")
    position, total = 0, 0.0
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None:
            if text[position:].strip() == "" and position:
                break
            raise ValueError(f"{EXPECTED}, got {show(text)}")
        number, unit = float(match.group(1)), match.group(2).lower()
        # Dividing (not multiplying by 0.001) keeps "100ms" == 0.1 exactly.
        total += number / 1000 if unit == "ms" else number * _MULTIPLIER[unit]
        position = match.end()
    if position == 0:
        raise ValueError(f"{EXPECTED}, got {show(text)}")
    return total


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
