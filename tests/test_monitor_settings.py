"""Monitor settings from Endpoint.extra: durations, thresholds, maintenance windows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gatewatch.monitor.durations import format_duration, parse_duration
from gatewatch.monitor.maintenance import (
    AbsoluteWindow,
    RecurringWindow,
    in_maintenance,
    parse_window,
)
from gatewatch.monitor.settings import MonitorRules, rules_for
from test_monitor_support import endpoint


@pytest.mark.parametrize(
    "value, seconds",
    [
        (30, 30.0),
        (2.5, 2.5),
        ("500ms", 0.5),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        (" 10m ", 600.0),
        ("45", 45.0),
        ("1.5s", 1.5),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "10 minutes", "5x", "m5", -1, True, None, "inf", "1h-5m"])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="flap_window"):
        parse_duration(value, key="flap_window")


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0.25, 30, 90, 600, 3600, 5400)] == [
        "250ms",
        "30s",
        "1m30s",
        "10m",
        "1h",
        "1h30m",
    ]


def test_rules_defaults_and_overrides() -> None:
    assert rules_for(endpoint()) == MonitorRules()
    rules = rules_for(
        endpoint(
            down_after=3,
            up_after=2,
            flap_threshold=4,
            flap_window="10m",
            slow_factor=3,
            maintenance="Sat 02:00-04:00 UTC",
        )
    )
    assert (rules.down_after, rules.up_after, rules.flap_threshold) == (3, 2, 4)
    assert rules.flap_window == 600 and rules.slow_factor == 3.0
    assert len(rules.maintenance) == 1


@pytest.mark.parametrize(
    "extra, key",
    [
        ({"down_after": 0}, "down_after"),
        ({"up_after": "2"}, "up_after"),
        ({"flap_window": "soon"}, "flap_window"),
        ({"slow_factor": 0.5}, "slow_factor"),
        ({"maintenance": ["Caturday 02:00-04:00"]}, "maintenance"),
        ({"maintenance": 5}, "maintenance"),
    ],
)
def test_rules_errors_name_endpoint_and_key(extra: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=f"shop: {key}"):
        rules_for(endpoint(**extra))


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_weekly_window() -> None:
    w = parse_window("Sat 02:00-04:00 UTC")
    # 2026-11-28 is a Saturday.
    assert not w.contains(utc(2026, 11, 28, 1, 59))
    assert w.contains(utc(2026, 11, 28, 2, 0))
    assert w.contains(utc(2026, 11, 28, 3, 59))
    assert not w.contains(utc(2026, 11, 28, 4, 0))
    assert not w.contains(utc(2026, 11, 27, 3, 0))  # Friday


def test_daily_window_and_day_ranges() -> None:
    daily = parse_window("daily 03:00-03:30 UTC")
    assert all(daily.contains(utc(2026, 11, d, 3, 15)) for d in range(23, 30))
    weekdays = parse_window("Mon-Fri 12:00-13:00")
    assert weekdays.contains(utc(2026, 11, 27, 12, 30))  # Friday
    assert not weekdays.contains(utc(2026, 11, 28, 12, 30))  # Saturday
    wrap = parse_window("Sat-Mon 00:00-24:00")  # ranges wrap around the week
    assert isinstance(wrap, RecurringWindow)
    assert wrap.days == frozenset({5, 6, 0})
    listed = parse_window("sat,sunday 10:00-11:00")
    assert isinstance(listed, RecurringWindow)
    assert listed.days == frozenset({5, 6})


def test_window_across_midnight() -> None:
    w = parse_window("Fri 23:00-01:00 UTC")
    assert w.contains(utc(2026, 11, 27, 23, 30))  # Friday night
    assert w.contains(utc(2026, 11, 28, 0, 30))  # Saturday early: still Friday's window
    assert not w.contains(utc(2026, 11, 28, 23, 30))


def test_window_time_zones() -> None:
    paris = parse_window("daily 02:00-04:00 Europe/Paris")  # UTC+1 in November
    assert paris.contains(utc(2026, 11, 24, 1, 30))
    assert not paris.contains(utc(2026, 11, 24, 3, 30))
    offset = parse_window("daily 02:00-04:00 +05:30")
    assert offset.contains(utc(2026, 11, 23, 21, 0))


def test_absolute_window() -> None:
    w = parse_window("2026-12-01T02:00Z/2026-12-01T04:00Z")
    assert isinstance(w, AbsoluteWindow)
    assert w.contains(utc(2026, 12, 1, 3, 0))
    assert not w.contains(utc(2026, 12, 1, 4, 0))
    assert in_maintenance([parse_window("daily 05:00-06:00"), w], utc(2026, 12, 1, 2, 0)) is w


@pytest.mark.parametrize(
    "text",
    [
        "Sat 02:00",
        "Sat 25:00-26:00",
        "Sat 02:00-04:00 Mars/Olympus",
        "2026-12-01T04:00Z/2026-12-01T02:00Z",
        "2026-13-01/2026-12-02",
        "someday 01:00-02:00",
    ],
)
def test_bad_windows(text: str) -> None:
    with pytest.raises(ValueError, match="maintenance"):
        parse_window(text)
