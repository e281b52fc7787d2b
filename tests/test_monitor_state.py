"""The state machine, transition by transition, without threads or clocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from gatewatch.model import ProbeResult, Verdict
from gatewatch.monitor.maintenance import Window
from gatewatch.monitor.settings import MonitorRules
from gatewatch.monitor.state import (
    State,
    Step,
    Tracker,
    TransitionEvent,
    assess,
    observe,
    set_paused,
    tick,
)
from test_monitor_support import T0, fail_result, ok_result, warn_result

RULES = MonitorRules()


def feed(
    tracker: Tracker, results: list[ProbeResult], rules: MonitorRules = RULES, step_s: float = 30
) -> tuple[Tracker, list[TransitionEvent]]:
    """Observe ``results`` one per ``step_s`` seconds; returns the tracker and all events."""
    events: list[TransitionEvent] = []
    for i, result in enumerate(results):
        now = T0 + timedelta(seconds=i * step_s)
        step = observe(tracker, result, assess(result), rules, now)
        tracker = step.tracker
        events.extend(step.events)
    return tracker, events


def path(events: Sequence[TransitionEvent]) -> list[tuple[State, State]]:
    return [(e.from_state, e.to_state) for e in events]


def test_pending_to_up_on_first_success() -> None:
    tracker, events = feed(Tracker(), [ok_result()])
    assert tracker.shown() == State.UP
    assert path(events) == [(State.PENDING, State.UP)]
    assert events[0].endpoint == "shop"
    assert events[0].at == T0


def test_down_after_n_consecutive_failures_and_back_up_after_m() -> None:
    rules = MonitorRules(down_after=3, up_after=2)
    tracker, events = feed(
        Tracker(),
        [ok_result(), fail_result(), fail_result(), fail_result(), ok_result(), ok_result()],
        rules,
    )
    assert path(events) == [
        (State.PENDING, State.UP),
        (State.UP, State.DOWN),
        (State.DOWN, State.UP),
    ]
    down = events[1]
    assert down.reason.startswith("3 consecutive failures")
    assert down.verdict is not None and down.verdict.kind == "http_500"
    assert "recovered after 2" in events[2].reason
    assert tracker.failures == 0 and tracker.successes == 2


def test_a_success_resets_the_failure_count() -> None:
    tracker, events = feed(Tracker(), [ok_result(), fail_result(), ok_result(), fail_result()])
    assert tracker.shown() == State.UP
    assert path(events) == [(State.PENDING, State.UP)]
    assert tracker.failures == 1


def test_pending_goes_straight_to_down() -> None:
    _tracker, events = feed(Tracker(), [fail_result(), fail_result()])
    assert path(events) == [(State.PENDING, State.DOWN)]


def test_still_down_until_up_after_successes() -> None:
    rules = MonitorRules(down_after=1, up_after=3)
    tracker, _events = feed(Tracker(), [fail_result(), ok_result(), ok_result()], rules)
    assert tracker.shown() == State.DOWN and tracker.successes == 2


@pytest.mark.parametrize(
    "result, why",
    [
        (warn_result(), "tls: expires in 3 days"),
        (
            ok_result().with_verdict(
                Verdict("overload", "slow", "upstream", None, 0.7, "upstream is slow")
            ),
            "upstream is slow",
        ),
        (
            ok_result().with_verdict(
                Verdict("backend", "intermittent", "upstream", None, 0.6, "fails 1 in 3")
            ),
            "fails 1 in 3",
        ),
        # A failed probe that diagnose calls overload (429, 503 + Retry-After) is degraded:
        (
            fail_result().with_verdict(
                Verdict("overload", "rate_limited", "upstream", None, 0.9, "rate limited")
            ),
            "rate limited",
        ),
    ],
)
def test_degraded(result: ProbeResult, why: str) -> None:
    _tracker, events = feed(Tracker(), [ok_result(), result, ok_result()])
    assert path(events) == [
        (State.PENDING, State.UP),
        (State.UP, State.DEGRADED),
        (State.DEGRADED, State.UP),
    ]
    assert events[1].reason == why


def test_degraded_to_down_and_down_to_degraded() -> None:
    _tracker, events = feed(Tracker(), [warn_result(), fail_result(), fail_result(), warn_result()])
    assert path(events) == [
        (State.PENDING, State.DEGRADED),
        (State.DEGRADED, State.DOWN),
        (State.DOWN, State.DEGRADED),
    ]


def test_slow_factor_against_recent_median() -> None:
    fast = [10.0] * 5
    slow = ok_result(total_ms=45.0)
    assert assess(slow, recent_ms=fast, slow_factor=4).health == "degraded"
    assert "4.5×" in assess(slow, recent_ms=fast, slow_factor=4).reason
    assert assess(slow, recent_ms=fast, slow_factor=5).health == "ok"
    assert assess(slow, recent_ms=fast[:3], slow_factor=2).health == "ok"  # too few samples
    assert assess(slow, recent_ms=fast, slow_factor=None).health == "ok"


def test_flapping_after_more_than_threshold_changes_in_window() -> None:
    rules = MonitorRules(down_after=1, flap_threshold=3, flap_window=600)
    results = [ok_result(), fail_result(), ok_result(), fail_result(), ok_result()]
    tracker, events = feed(Tracker(), results, rules, step_s=10)
    # 4 health changes (> 3) within 10 minutes: the fourth one shows as FLAPPING.
    assert path(events) == [
        (State.PENDING, State.UP),
        (State.UP, State.DOWN),
        (State.DOWN, State.UP),
        (State.UP, State.DOWN),
        (State.DOWN, State.FLAPPING),
    ]
    assert "changed state 4 times in 10m" in events[-1].reason
    # While flapping, further changes are quiet.
    step = observe(tracker, fail_result(), assess(fail_result()), rules, T0 + timedelta(seconds=50))
    assert step.events == () and step.tracker.shown() == State.FLAPPING
    assert step.tracker.health == State.DOWN


def test_flapping_calms_down_when_changes_leave_the_window() -> None:
    rules = MonitorRules(down_after=1, flap_threshold=3, flap_window=60)
    results = [ok_result(), fail_result(), ok_result(), fail_result(), ok_result()]
    tracker, _ = feed(Tracker(), results, rules, step_s=1)
    assert tracker.shown() == State.FLAPPING
    # Nothing changes for a while: the changes age out of the 60 s window.
    step = tick(tracker, rules, T0 + timedelta(seconds=63), name="shop")
    assert step.tracker.shown() == State.UP  # 1 change left ≤ 3 // 2
    assert path(step.events) == [(State.FLAPPING, State.UP)]
    assert step.events[0].reason.startswith("stable again")


def test_flap_window_counts_only_recent_changes() -> None:
    rules = MonitorRules(down_after=1, flap_threshold=3, flap_window=60)
    results = [ok_result(), fail_result(), ok_result(), fail_result(), ok_result()]
    _tracker, events = feed(Tracker(), results, rules, step_s=40)  # never 4 changes in 60 s
    assert State.FLAPPING not in [e.to_state for e in events]


def test_pause_overrides_everything_and_resume_starts_over() -> None:
    tracker, _ = feed(Tracker(), [fail_result(), fail_result()])
    assert tracker.shown() == State.DOWN
    step = set_paused(tracker, True, T0, name="shop")
    assert path(step.events) == [(State.DOWN, State.PAUSED)]
    assert step.events[0].reason == "paused by the operator"
    # Results arriving while paused are ignored.
    ignored = observe(step.tracker, ok_result(), assess(ok_result()), RULES, T0)
    assert ignored.tracker == step.tracker and ignored.events == ()
    resumed = set_paused(step.tracker, False, T0, name="shop")
    assert path(resumed.events) == [(State.PAUSED, State.PENDING)]
    assert resumed.tracker.failures == 0
    assert set_paused(resumed.tracker, False, T0, name="shop") == Step(resumed.tracker)


def test_maintenance_window_hides_failures_and_reveals_the_truth_after() -> None:
    rules = MonitorRules(maintenance=_windows("2026-11-24T10:00Z/2026-11-24T10:02Z"))
    tracker = Tracker()
    events: list[TransitionEvent] = []
    for i, result in enumerate([ok_result(), fail_result(), fail_result(), fail_result()]):
        step = observe(tracker, result, assess(result), rules, T0 + timedelta(seconds=i * 30))
        tracker = step.tracker
        events += step.events
    # In the window from the first observation: the failures do not show.
    assert path(events) == [(State.PENDING, State.MAINTENANCE)]
    assert "opened" in events[0].reason
    assert tracker.health == State.DOWN
    step = tick(tracker, rules, T0 + timedelta(minutes=2), name="shop")
    assert path(step.events) == [(State.MAINTENANCE, State.DOWN)]
    assert "closed" in step.events[0].reason
    assert step.tracker.changes == ()  # changes in maintenance do not count as flapping


def test_maintenance_while_paused_stays_paused() -> None:
    rules = MonitorRules(maintenance=_windows("daily 09:00-11:00 UTC"))
    paused = set_paused(Tracker(), True, T0, name="shop").tracker
    step = tick(paused, rules, T0, name="shop")
    assert step.events == () and step.tracker.shown() == State.PAUSED
    resumed = set_paused(step.tracker, False, T0, name="shop")
    assert resumed.tracker.shown() == State.MAINTENANCE


def _windows(*texts: str) -> tuple[Window, ...]:
    from gatewatch.monitor.maintenance import parse_windows

    return parse_windows(list(texts))
