"""The monitor's half of loading a watchlist: its keys judged at load, with file:line:key.

Why: `gatewatch check` used to accept a file whose ``down_after = 0`` or ``[alerts]
webhook_retries = 11`` then crashed `gatewatch watch` and the board with a traceback. The
monitor owns what its keys mean; the watchlist owns the file and its lines. Every command
that reads a watchlist (check, watch, the board, anything later) loads it through
:func:`load_checked` (or passes a loaded one to :func:`check_watchlist`), so they all
refuse the same file with the same message and exit 2, and all warn about the same
misspelt keys.
"""

from __future__ import annotations

import os
from typing import Any

from gatewatch.monitor.alerts import ALERT_KEYS, alert_problems
from gatewatch.monitor.settings import MONITOR_KEYS, setting_problems
from gatewatch.watchlist import Watchlist, load
from gatewatch.watchlist.errors import KeyPath


def check_watchlist(watchlist: Watchlist) -> Watchlist:
    """``watchlist`` with the monitor's settings checked: raises WatchlistError naming the
    file, line and key of each bad one; else the watchlist, now warning about every key
    neither the watchlist nor the monitor reads."""
    document = watchlist.document
    problems: list[tuple[KeyPath, str]] = []
    defaults = document.get("defaults")
    if isinstance(defaults, dict):
        problems += _settings(defaults, ("defaults",))
    alerts = document.get("alerts")
    if isinstance(alerts, dict):
        problems += [(("alerts", e.key), e.reason) for e in alert_problems(alerts)]
    tables = document.get("endpoint")
    if isinstance(tables, list):
        for index, table in enumerate(tables):
            if isinstance(table, dict):
                problems += _settings(table, ("endpoint", index))
    return watchlist.checked(problems, endpoint_keys=MONITOR_KEYS, alert_keys=ALERT_KEYS)


def load_checked(path: str | os.PathLike[str]) -> Watchlist:
    """:func:`gatewatch.watchlist.load`, then :func:`check_watchlist`."""
    return check_watchlist(load(path))


def _settings(table: dict[str, Any], where: KeyPath) -> list[tuple[KeyPath, str]]:
    return [((*where, e.key), e.reason) for e in setting_problems(table)]
