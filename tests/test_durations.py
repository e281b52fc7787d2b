"""One duration grammar for the watchlist, the monitor's settings and the command line."""

from __future__ import annotations

import pytest

from gatewatch import durations
from gatewatch.monitor import durations as monitor_durations
from gatewatch.watchlist import durations as watchlist_durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(".5s", 0.5), ("5.s", 5.0), (".25", 0.25), ("1m 30s", 90.0), ("2D", 172800.0)],
)
def test_the_watchlist_and_the_monitor_read_a_duration_alike(text: str, seconds: float) -> None:
    # ".5s" was half a second for the watchlist and an error for the monitor.
    assert watchlist_durations.parse_duration(text) == seconds
    assert monitor_durations.parse_duration(text, key="flap_window") == seconds


@pytest.mark.parametrize("value", [10**400, 10**20, "9" * 30 + "s", 367 * 86400, "367d"])
def test_a_duration_beyond_a_year_is_refused_not_an_overflow(value: object) -> None:
    with pytest.raises(ValueError, match="can't be longer than 366 days") as caught:
        durations.parse_duration(value)
    assert len(str(caught.value)) < 120  # not 400 digits back at the user


def test_a_key_names_the_setting_in_the_message() -> None:
    with pytest.raises(ValueError, match=r"^flap_window: expected a duration"):
        durations.parse_duration("soon", key="flap_window")


def test_there_is_one_grammar() -> None:
    assert watchlist_durations.parse_duration is durations.parse_duration
    assert monitor_durations.parse_duration is durations.parse_duration
    assert monitor_durations.format_duration is durations.format_duration
