"""The endpoint state machine: results, pauses and maintenance windows in, transitions out.

Pure functions over frozen data, so every transition is a unit test without threads or
clocks: the engine passes ``now`` in. The states::

    PENDING ──ok──▶ UP ◀──────── up_after successes ───────┐
       │             │ ▲                                     │
       │      warn / slow / overload                         │
       │             ▼ │                                     │
       └──────────▶ DEGRADED ──── down_after failures ──▶ DOWN
    FLAPPING     overrides the above while the state changed more than flap_threshold
                 times within flap_window (and until it calms down to half of that);
    MAINTENANCE  overrides them while a maintenance window is open (probes go on, quietly);
    PAUSED       overrides everything; resuming starts again from PENDING.

Underneath the displayed state the tracker keeps the *health* (PENDING, UP, DEGRADED or
DOWN) that the probes alone say, so leaving MAINTENANCE or FLAPPING lands on the truth.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from gatewatch.model import ProbeResult, Verdict
from gatewatch.monitor.durations import format_duration
from gatewatch.monitor.maintenance import in_maintenance
from gatewatch.monitor.settings import MonitorRules


class State(StrEnum):
    PENDING = "pending"
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    FLAPPING = "flapping"
    PAUSED = "paused"
    MAINTENANCE = "maintenance"


#: Transitions into and out of these states are worth telling someone about.
ALERT_STATES = frozenset({State.DOWN, State.DEGRADED, State.FLAPPING})

#: A verdict with one of these causes or kinds means "working, but not well".
#: ``blocked`` (a bot challenge, a WAF block) is not an outage: the service works, it
#: refuses this client (issue 17), so it is DEGRADED, never DOWN.
DEGRADED_CAUSES = frozenset({"overload", "blocked"})
DEGRADED_KINDS = frozenset({"slow", "intermittent", "rate_limited", "overloaded"})

#: How many recent successful totals a slow_factor baseline needs before it is trusted.
SLOW_BASELINE_MIN = 5

Health = Literal["ok", "degraded", "fail"]


@dataclass(frozen=True)
class TransitionEvent:
    """One change of an endpoint's displayed state, with the verdict and reason behind it."""

    at: datetime
    endpoint: str
    from_state: State
    to_state: State
    verdict: Verdict | None
    reason: str
    #: The HTTP version the latest probe spoke ("2", "1.1"), when one did.
    http_version: str | None = None


@dataclass(frozen=True)
class Assessment:
    """What one result says about health, and why, in words for an engineer."""

    health: Health
    reason: str


@dataclass(frozen=True)
class Tracker:
    """Everything the machine remembers about one endpoint. Replace, never mutate."""

    state: State = State.PENDING
    health: State = State.PENDING
    failures: int = 0
    successes: int = 0
    #: When the health changed, newest last, pruned to the flap window.
    changes: tuple[datetime, ...] = ()
    flapping: bool = False
    paused: bool = False
    #: The text of the open maintenance window, if any.
    maintenance: str | None = None
    since: datetime | None = None
    verdict: Verdict | None = None
    #: The HTTP version of the latest probe (ProbeResult.http_version).
    http_version: str | None = None

    def shown(self) -> State:
        """The state the board shows: pause, then maintenance, then flapping, then health."""
        if self.paused:
            return State.PAUSED
        if self.maintenance is not None:
            return State.MAINTENANCE
        if self.flapping:
            return State.FLAPPING
        return self.health


@dataclass(frozen=True)
class Step:
    tracker: Tracker
    events: tuple[TransitionEvent, ...] = ()


def assess(
    result: ProbeResult,
    *,
    recent_ms: Sequence[float] = (),
    slow_factor: float | None = None,
) -> Assessment:
    """Classify one (annotated) result as ok, degraded or a failure.

    A failed probe whose verdict says *overload* is degraded, not a failure: the service
    answered (429, 503 with Retry-After …), and paging for DOWN would send the engineer
    looking for an outage. ``recent_ms`` are totals of recent successful probes, the
    baseline for ``slow_factor``.
    """
    verdict = result.verdict
    if verdict is not None and (
        verdict.cause in DEGRADED_CAUSES or (verdict.kind or "") in DEGRADED_KINDS
    ):
        return Assessment("degraded", verdict.summary or f"{verdict.cause}: {verdict.kind}")
    if not result.ok:
        return Assessment("fail", _failure_text(result))
    warn = next((h for h in result.hops if h.status == "warn"), None)
    if warn is not None:
        return Assessment("degraded", f"{warn.name}: {warn.error or warn.kind or 'warning'}")
    if slow_factor is not None and len(recent_ms) >= SLOW_BASELINE_MIN:
        median = statistics.median(recent_ms)
        if median > 0 and result.total_ms > slow_factor * median:
            return Assessment(
                "degraded",
                f"slow: {result.total_ms:.0f} ms, {result.total_ms / median:.1f}× "
                f"the recent median of {median:.0f} ms",
            )
    return Assessment("ok", "probe succeeded")


def observe(
    tracker: Tracker,
    result: ProbeResult,
    assessment: Assessment,
    rules: MonitorRules,
    now: datetime,
    *,
    name: str | None = None,
) -> Step:
    """Feed one result in (``name`` defaults to the result's). Ignored while paused."""
    if tracker.paused:
        return Step(tracker)
    name = result.name if name is None else name
    step = tick(tracker, rules, now, name=name)
    before = step.tracker
    health, failures, successes = _next_health(before, assessment.health, rules)
    changes = before.changes
    if health != before.health and before.health != State.PENDING and before.maintenance is None:
        changes = (*changes, now)
    after = dataclasses.replace(
        before,
        health=health,
        failures=failures,
        successes=successes,
        changes=changes,
        verdict=result.verdict,
        http_version=result.http_version,
    )
    after = _update_flapping(after, rules, now)
    return _settle(
        step, before, after, now, lambda: _reason(before, after, assessment, rules), name=name
    )


def tick(tracker: Tracker, rules: MonitorRules, now: datetime, *, name: str = "") -> Step:
    """Let time pass: open or close maintenance windows, let flapping calm down."""
    window = in_maintenance(rules.maintenance, now) if rules.maintenance else None
    text = window.text if window else None
    # The common case (no window, none open, not flapping) allocates nothing: this runs
    # for every probe of every endpoint.
    after = (
        tracker if text == tracker.maintenance else dataclasses.replace(tracker, maintenance=text)
    )
    if after.changes or after.flapping:
        after = _update_flapping(after, rules, now)

    def reason() -> str:
        if window is not None and tracker.maintenance is None:
            return f"maintenance window {window.text!r} opened"
        if window is None and tracker.maintenance is not None:
            return f"maintenance window {tracker.maintenance!r} closed"
        return _flap_reason(after, rules)

    return _settle(Step(tracker), tracker, after, now, reason, name=name)


def set_paused(tracker: Tracker, paused: bool, now: datetime, *, name: str) -> Step:
    """Pause (PAUSED overrides everything) or resume (start again from PENDING)."""
    if paused == tracker.paused:
        return Step(tracker)
    if paused:
        after = dataclasses.replace(tracker, paused=True)
        return _settle(
            Step(tracker), tracker, after, now, lambda: "paused by the operator", name=name
        )
    after = Tracker(
        maintenance=tracker.maintenance,
        verdict=tracker.verdict,
        since=tracker.since,
        http_version=tracker.http_version,
    )
    return _settle(Step(tracker), tracker, after, now, lambda: "resumed by the operator", name=name)


def _next_health(tracker: Tracker, health: Health, rules: MonitorRules) -> tuple[State, int, int]:
    if health == "fail":
        failures = tracker.failures + 1
        state = State.DOWN if failures >= rules.down_after else tracker.health
        return state, failures, 0
    successes = tracker.successes + 1
    target = State.UP if health == "ok" else State.DEGRADED
    if tracker.health == State.DOWN and successes < rules.up_after:
        return State.DOWN, 0, successes
    return target, 0, successes


def _update_flapping(tracker: Tracker, rules: MonitorRules, now: datetime) -> Tracker:
    horizon = now - timedelta(seconds=rules.flap_window)
    changes = tuple(t for t in tracker.changes if t > horizon)
    flapping = tracker.flapping
    if not flapping and len(changes) > rules.flap_threshold:
        flapping = True
    elif flapping and len(changes) <= rules.flap_threshold // 2:
        # Hysteresis: calm down to half the threshold before trusting the state again.
        flapping = False
    if changes == tracker.changes and flapping == tracker.flapping:
        return tracker
    return dataclasses.replace(tracker, changes=changes, flapping=flapping)


def _reason(before: Tracker, after: Tracker, assessment: Assessment, rules: MonitorRules) -> str:
    if after.flapping != before.flapping:
        return _flap_reason(after, rules)
    if after.health == State.DOWN and before.health != State.DOWN:
        return f"{after.failures} consecutive failures: {assessment.reason}"
    if before.health == State.DOWN and after.health != State.DOWN:
        return f"recovered after {after.successes} success(es): {assessment.reason}"
    return assessment.reason


def _flap_reason(tracker: Tracker, rules: MonitorRules) -> str:
    window = format_duration(rules.flap_window)
    if tracker.flapping:
        return (
            f"changed state {len(tracker.changes)} times in {window} "
            f"(flap_threshold {rules.flap_threshold})"
        )
    return f"stable again: {len(tracker.changes)} state change(s) in the last {window}"


def _settle(
    step: Step,
    before: Tracker,
    after: Tracker,
    now: datetime,
    reason: Callable[[], str],
    *,
    name: str,
) -> Step:
    """Append a TransitionEvent to ``step`` if the shown state moved from ``before``.

    ``reason`` is worked out only then: this runs for every probe of every endpoint, and
    the shown state moves for few of them."""
    old, new = before.shown(), after.shown()
    if old == new:
        return Step(after, step.events)
    after = dataclasses.replace(after, state=new, since=now)
    event = TransitionEvent(
        at=now,
        endpoint=name,
        from_state=old,
        to_state=new,
        verdict=after.verdict,
        reason=reason(),
        http_version=after.http_version,
    )
    return Step(after, (*step.events, event))


def _failure_text(result: ProbeResult) -> str:
    if result.verdict is not None and result.verdict.summary:
        return result.verdict.summary
    hop = result.failed_hop
    if hop is None:
        return "probe failed"
    detail = hop.error or hop.kind or "failed"
    return f"{hop.name}: {detail}"
