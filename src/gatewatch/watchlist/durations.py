"""Durations as a watchlist spells them: the one grammar of :mod:`gatewatch.durations`.

Kept as a module so ``gatewatch.watchlist.parse_duration`` stays where callers found it.
"""

from __future__ import annotations

from gatewatch.durations import EXPECTED, MAX_SECONDS, format_duration, parse_duration

__all__ = ["EXPECTED", "MAX_SECONDS", "format_duration", "parse_duration"]
