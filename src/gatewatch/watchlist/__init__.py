"""The watchlist: which endpoints to watch, read from and written to a TOML file.

Why a package of its own: the file is the on-call engineer's, and must never be lost or
silently changed. Loading validates everything and reports file, line and key; editing
returns new immutable values; saving is atomic, keeps a ``.bak`` and every key it does not
know, and never writes the value behind an ``env:VAR`` secret.

    wl = load(default_path())
    wl = wl.with_endpoint(Endpoint(name="shop", url="https://shop.example/health"))
    wl = save(wl)
"""

from __future__ import annotations

from gatewatch.watchlist.document import Watchlist
from gatewatch.watchlist.durations import format_duration, parse_duration
from gatewatch.watchlist.errors import WatchlistConflict, WatchlistError
from gatewatch.watchlist.fields import RULES, endpoint_errors
from gatewatch.watchlist.reader import load, loads
from gatewatch.watchlist.writer import default_path, save

#: The endpoint keys this module owns (and validates); any other key goes to Endpoint.extra.
ENDPOINT_KEYS: tuple[str, ...] = tuple(RULES)

__all__ = [
    "ENDPOINT_KEYS",
    "Watchlist",
    "WatchlistConflict",
    "WatchlistError",
    "default_path",
    "endpoint_errors",
    "format_duration",
    "load",
    "loads",
    "parse_duration",
    "save",
]
