"""Keys the watchlist carries for other layers, checked at load by those layers' own rules;
and every other key, warned about (with the closest known key) and kept.

Why at load: `gatewatch check` used to accept a file whose ``down_after = 0`` or
``[alerts] webhook_retries = 11`` then crashed `gatewatch watch` and the board. The monitor
owns what its keys mean (:func:`gatewatch.monitor.settings.setting_problems`,
:func:`gatewatch.monitor.alerts.alert_problems`); the watchlist asks it once, while it still
knows the file and the line, so every command refuses the same file with the same
``file:line:key`` message and exit 2.

Why warn about unknown keys: a misspelt ``timout`` is silently not a timeout, and what is
monitored quietly changes. But a key may also belong to a newer gatewatch, so it is a
warning, never an error, and a save keeps it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from gatewatch.watchlist.errors import KeyPath
from gatewatch.watchlist.fields import RULES

#: Top-level keys and tables a watchlist of this version knows.
TOP_KEYS = ("version", "defaults", "endpoint", "alerts")


def monitor_keys() -> tuple[str, ...]:
    from gatewatch.monitor.settings import MONITOR_KEYS

    return MONITOR_KEYS


def alert_keys() -> tuple[str, ...]:
    from gatewatch.monitor.alerts import ALERT_KEYS

    return ALERT_KEYS


def endpoint_keys() -> tuple[str, ...]:
    """Every key an ``[[endpoint]]`` table may hold."""
    return (*RULES, *monitor_keys())


def setting_problems(table: Mapping[str, Any], where: KeyPath) -> list[tuple[KeyPath, str]]:
    """The monitor's verdict on its keys in ``table`` (``[defaults]`` or one endpoint)."""
    from gatewatch.monitor.settings import setting_problems as check

    return [((*where, exc.key), exc.reason) for exc in check(table)]


def alert_problems(table: Mapping[str, Any]) -> list[tuple[KeyPath, str]]:
    """The monitor's verdict on the ``[alerts]`` table."""
    from gatewatch.monitor.alerts import alert_problems as check

    return [(("alerts", exc.key), exc.reason) for exc in check(table)]


def unknown_keys(document: Mapping[str, Any]) -> list[tuple[KeyPath, str]]:
    """``(key path, message)`` for every key this gatewatch does not use, in file order
    of tables: top level, ``[defaults]``, ``[alerts]``, then each endpoint."""
    found = _unknown(document, (), TOP_KEYS)
    defaults = document.get("defaults")
    if isinstance(defaults, dict):
        found += _unknown(defaults, ("defaults",), endpoint_keys())  # name/url: an error
    alerts = document.get("alerts")
    if isinstance(alerts, dict):
        found += _unknown(alerts, ("alerts",), alert_keys())
    tables = document.get("endpoint")
    if isinstance(tables, list):
        known = endpoint_keys()
        for index, table in enumerate(tables):
            if isinstance(table, dict):
                found += _unknown(table, ("endpoint", index), known)
    return found


def _unknown(
    table: Mapping[str, Any], where: KeyPath, known: Iterable[str]
) -> list[tuple[KeyPath, str]]:
    known = tuple(known)
    out = []
    for key in table:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        if close:
            message = f"unknown key: did you mean `{close[0]}`? (kept as written, not used)"
        else:
            message = "unknown key: this gatewatch does not use it (kept as written)"
        out.append(((*where, key), message))
    return out
