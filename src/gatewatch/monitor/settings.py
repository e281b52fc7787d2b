"""Per-endpoint monitor settings, read once from ``Endpoint.extra`` and validated.

Why: the watchlist merges ``[defaults]`` into each endpoint's ``extra`` but does not know
what the monitor needs. Reading them here, once, turns a typo into an error when the
endpoint is added, and gives the hot path plain typed fields instead of a dict of strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gatewatch.model import Endpoint
from gatewatch.monitor.durations import parse_duration
from gatewatch.monitor.maintenance import Window, parse_windows

DEFAULT_DOWN_AFTER = 2
DEFAULT_UP_AFTER = 1
DEFAULT_FLAP_THRESHOLD = 5
DEFAULT_FLAP_WINDOW = 600.0


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
    def from_extra(cls, extra: Mapping[str, Any], *, name: str = "endpoint") -> MonitorRules:
        """Rules from a watchlist's ``extra`` mapping; ValueError says which key is wrong."""
        return cls(
            down_after=_count(extra, "down_after", DEFAULT_DOWN_AFTER, name),
            up_after=_count(extra, "up_after", DEFAULT_UP_AFTER, name),
            flap_threshold=_count(extra, "flap_threshold", DEFAULT_FLAP_THRESHOLD, name),
            flap_window=_duration(extra, "flap_window", DEFAULT_FLAP_WINDOW, name),
            maintenance=parse_windows(extra.get("maintenance"), key=f"{name}: maintenance"),
            slow_factor=_factor(extra, "slow_factor", name),
            debug_requests=_flag(extra, "debug_requests", name),
        )


def rules_for(endpoint: Endpoint) -> MonitorRules:
    """The validated monitor rules of ``endpoint`` (raises ValueError naming the key)."""
    return MonitorRules.from_extra(endpoint.extra, name=endpoint.name)


def _count(extra: Mapping[str, Any], key: str, default: int, name: str) -> int:
    value = extra.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: {key}: expected a whole number ≥ 1, got {value!r}")
    return value


def _duration(extra: Mapping[str, Any], key: str, default: float, name: str) -> float:
    seconds = parse_duration(extra.get(key, default), key=f"{name}: {key}")
    if seconds <= 0:
        raise ValueError(f"{name}: {key}: must be longer than zero")
    return seconds


def _flag(extra: Mapping[str, Any], key: str, name: str) -> bool:
    value = extra.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{name}: {key}: expected true or false, got {value!r}")
    return value


def _factor(extra: Mapping[str, Any], key: str, name: str) -> float | None:
    value = extra.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 1:
        raise ValueError(f"{name}: {key}: expected a number above 1, got {value!r}")
    return float(value)
