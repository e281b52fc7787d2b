"""Durations in monitor settings (``flap_window = "10m"``): the one grammar of
:mod:`gatewatch.durations`, shared with the watchlist and the command line.

Kept as a module so callers that imported it here keep working.
"""

from __future__ import annotations

from gatewatch.durations import format_duration, parse_duration

__all__ = ["format_duration", "parse_duration"]
