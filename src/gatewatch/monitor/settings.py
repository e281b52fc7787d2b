"""Per-endpoint monitor settings, read once from ``Endpoint.extra`` and validated.

Why: the watchlist merges ``[defaults]`` into each endpoint's ``extra`` but does not know
what the monitor needs. Reading them here, once, turns a typo into an error when the
endpoint is added, and gives the hot path plain typed fields instead of a dict of strings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gatewatch.excerpt import show
from gatewatch.model import Endpoint
from gatewatch.monitor.durations import parse_duration
from gatewatch.monitor.maintenance import Window, parse_windows

DEFAULT_DOWN_AFTER = 2
DEFAULT_UP_AFTER = 1
DEFAULT_FLAP_THRESHOLD = 5
DEFAULT_FLAP_WINDOW = 600.0
#: A threshold past this is a typo (nobody waits 10,000 failures before calling it DOWN).
MAX_COUNT = 10_000

#: The endpoint keys the monitor reads from ``Endpoint.extra``. A watchlist checks them at
#: load with :func:`setting_problems`, so `check`, `watch` and the board refuse the same
#: file with the same file:line:key message.
MONITOR_KEYS = (
    "down_after",
    "up_after",
    "flap_threshold",
    "flap_window",
    "maintenance",
    "slow_factor",
    "debug_requests",
)


class SettingError(ValueError):
    """One bad setting: ``key`` and ``reason`` apart, so a caller can add file and line.

    ``str()`` reads ``shop: down_after: expected …`` (the name when known).
    """

    def __init__(self, key: str, reason: str, *, name: str | None = None) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{name}: {key}: {reason}" if name else f"{key}: {reason}")


def setting_problems(extra: Mapping[str, Any]) -> list[SettingError]:
    """Every bad monitor setting in ``extra`` (by the checks of :meth:`MonitorRules.from_extra`);
    empty when all are good. Keys the monitor does not read are not looked at."""
    return problems_by_key(extra, MONITOR_KEYS, MonitorRules.from_extra)


def problems_by_key(
    table: Mapping[str, Any], keys: Iterable[str], parse: Callable[[Mapping[str, Any]], object]
) -> list[SettingError]:
    """Every key of ``keys`` in ``table`` that ``parse`` refuses on its own: each error, not
    just the first (a watchlist's author fixes them all in one go)."""
    problems = []
    for key in keys:
        if key in table:
            try:
                parse({key: table[key]})
            except SettingError as exc:
                problems.append(exc)
    return problems


@dataclass(frozen=True)
class MonitorRules:
    """How one endpoint's results become states (see :mod:`gatewatch.monitor.state`)."""

    #: Consecutive failures before DOWN.
    down_after: int = DEFAULT_DOWN_AFTER
    #: Consecutive successes before leaving DOWN.
    up_after: int = DEFAULT_UP_AFTER
    #: FLAPPING when the state changes more than this many times within ``flap_window``.
    flap_threshold: int = DEFAULT_FLAP_THRESHOLD
    flap_window: float = DEFAULT_FLAP_WINDOW
    maintenance: tuple[Window, ...] = ()
    #: DEGRADED when a successful probe takes more than this many times the recent median.
    #: None turns the check off (diagnose may still call a result slow).
    slow_factor: float | None = None
    #: After a 5xx from a gateway with a documented debug request (Azure Front Door,
    #: Akamai, Cloudflare), make that one request too. Off by default: it is an extra
    #: request, with vendor-specific headers, on every failing probe.
    debug_requests: bool = False

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any], *, name: str | None = None) -> MonitorRules:
        """Rules from a watchlist's ``extra`` mapping; SettingError (a ValueError) says which
        key is wrong, and ``name`` (the endpoint's) starts its message when given."""
        return cls(
            down_after=_count(extra, "down_after", DEFAULT_DOWN_AFTER, name),
            up_after=_count(extra, "up_after", DEFAULT_UP_AFTER, name),
            flap_threshold=_count(extra, "flap_threshold", DEFAULT_FLAP_THRESHOLD, name),
            flap_window=_duration(extra, "flap_window", DEFAULT_FLAP_WINDOW, name),
            maintenance=_windows(extra, name),
            slow_factor=_factor(extra, "slow_factor", name),
            debug_requests=_flag(extra, "debug_requests", name),
        )


def rules_for(endpoint: Endpoint) -> MonitorRules:
    """The validated monitor rules of ``endpoint`` (raises ValueError naming the key)."""
    return MonitorRules.from_extra(endpoint.extra, name=endpoint.name)


def _count(extra: Mapping[str, Any], key: str, default: int, name: str | None) -> int:
    value = extra.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise SettingError(
            key, f"expected a whole number from 1 to {MAX_COUNT:,}, got {show(value)}", name=name
        )
    return value


def _duration(extra: Mapping[str, Any], key: str, default: float, name: str | None) -> float:
    try:
        seconds = parse_duration(extra.get(key, default))
    except ValueError as exc:
        raise SettingError(key, str(exc), name=name) from None
    if seconds <= 0:
        raise SettingError(key, "must be longer than zero", name=name)
    return seconds


def _flag(extra: Mapping[str, Any], key: str, name: str | None) -> bool:
    value = extra.get(key, False)
    if not isinstance(value, bool):
        raise SettingError(key, f"expected true or false, got {show(value)}", name=name)
    return value


def _windows(extra: Mapping[str, Any], name: str | None) -> tuple[Window, ...]:
    try:
        return parse_windows(extra.get("maintenance"), key="maintenance")
    except ValueError as exc:
        reason = str(exc).removeprefix("maintenance: ")
        raise SettingError("maintenance", reason, name=name) from None


def _factor(extra: Mapping[str, Any], key: str, name: str | None) -> float | None:
    value = extra.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value <= 1
        or value > MAX_COUNT  # before isfinite(): a huge int does not fit a float
        or not math.isfinite(value)
    ):
        raise SettingError(key, f"expected a number above 1, got {show(value)}", name=name)
    return float(value)
