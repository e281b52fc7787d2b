"""Keys nobody reads: warned about, with the closest known key, and kept.

Why warn: a misspelt ``timout`` is silently not a timeout, and what is monitored quietly
changes. But a key may also belong to a newer gatewatch, so it is a warning, never an
error, and a save keeps it. The watchlist knows its own keys; the monitor, which sits
above it, names the keys it reads (``down_after``, ``[alerts]``) when it checks a loaded
file (:meth:`gatewatch.watchlist.Watchlist.checked`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from gatewatch.watchlist.errors import KeyPath

#: Top-level keys and tables a watchlist of this version knows.
TOP_KEYS = ("version", "defaults", "endpoint", "alerts", "source")


def unknown_keys(
    document: Mapping[str, Any], *, endpoint_keys: tuple[str, ...], alert_keys: tuple[str, ...]
) -> list[tuple[KeyPath, str]]:
    """``(key path, message)`` for every key nobody reads: top level, ``[defaults]``,
    ``[alerts]``, then each endpoint."""
    found = _unknown(document, (), TOP_KEYS)
    defaults = document.get("defaults")
    if isinstance(defaults, dict):
        found += _unknown(defaults, ("defaults",), endpoint_keys)  # name/url there: an error
    alerts = document.get("alerts")
    if isinstance(alerts, dict):
        found += _unknown(alerts, ("alerts",), alert_keys)
    tables = document.get("endpoint")
    if isinstance(tables, list):
        for index, table in enumerate(tables):
            if isinstance(table, dict):
                found += _unknown(table, ("endpoint", index), endpoint_keys)
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
