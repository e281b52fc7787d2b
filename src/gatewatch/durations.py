"""The one duration grammar: a watchlist's intervals, the monitor's windows, ``--timeout``.

Why one grammar: an engineer writes ``flap_window = "10m"`` next to ``interval = "30s"`` and
``gatewatch probe --timeout 5s``, and all three must mean the same, or be refused with the
same message. Before this module the watchlist and the monitor each had a parser, and they
disagreed (``".5s"``).

The grammar, exactly:

- a number (``30``, ``2.5``) or a numeric string (``"30"``, ``" 2.5 "``) is seconds;
- a string is one or more ``NUMBER UNIT`` segments, spaces allowed around them:
  ``"500ms"``, ``"1.5s"``, ``"5m"``, ``"1h30m"``, ``"1m 30s"``, ``"2d"``;
  units ``ms s m h d``, any case (``"5M"`` is five minutes: there are no months);
- NUMBER is digits with an optional fraction: ``5``, ``5.``, ``5.25``, and also ``.5``
  (``".5s"`` is half a second: unambiguous, and what a person who wrote it meant);
- negative, infinite and NaN values are refused, and so is anything longer than
  :data:`MAX_SECONDS` (a year): no monitoring interval is that long, and beyond it the
  date arithmetic of a flap window or a maintenance check would overflow;
- booleans are not numbers (``true`` is not ``1``).

Zero is a valid duration here; whether zero makes sense is the caller's rule.
"""

from __future__ import annotations

import math
import re

from gatewatch.excerpt import show

#: The words every duration error starts with, so messages read alike everywhere.
EXPECTED = "expected a duration like 500ms, 30s or 5m"

#: The longest duration anything accepts: 366 days.
MAX_SECONDS = 366 * 86400.0

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_SEGMENT = re.compile(rf"\s*{_NUMBER}\s*(ms|s|m|h|d)", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(rf"\s*{_NUMBER}\s*")
_MULTIPLIER = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object, *, key: str | None = None) -> float:
    """Seconds in ``value`` by the grammar above; raises ValueError otherwise.

    The message is fit to show after a file and key; with ``key`` it starts with
    ``"key: "`` (for callers that have no file:line to put in front).
    """
    try:
        return _parse(value)
    except ValueError as exc:
        if key is None:
            raise
        raise ValueError(f"{key}: {exc}") from None


def _parse(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{EXPECTED}, got {show(value)}")
    if isinstance(value, str):
        seconds = _parse_text(value)
    else:
        try:
            seconds = float(value)
        except OverflowError:  # an integer beyond the float range
            seconds = math.inf
    if math.isnan(seconds) or (isinstance(value, float) and math.isinf(value)):
        raise ValueError(f"{EXPECTED}, got {show(value)}")
    if seconds < 0:
        raise ValueError(f"a duration can't be negative, got {show(value)}")
    if seconds > MAX_SECONDS:
        raise ValueError(
            f"a duration can't be longer than {MAX_SECONDS / 86400:g} days, got {show(value)}"
        )
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
