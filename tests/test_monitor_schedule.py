"""Scheduling: the grid, jitter bounds, no drift, no overlap, the cap, isolation.

Unit tests drive :class:`Schedule` directly; engine tests use fake probes that sleep, on
an engine loop whose clock is virtual (tests/virtual_time.py): exact, and fast.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatewatch.model import Endpoint, ProbeResult
from gatewatch.monitor import Monitor, ProbeCompleted, State, StateChanged
from gatewatch.monitor.events import Message
from gatewatch.monitor.runners import ProbeFn
from gatewatch.monitor.schedule import Schedule
from test_monitor_support import FakeProbe, drain, endpoint, identity
from virtual_time import VirtualClock


def make(endpoints: list[Endpoint], probe: ProbeFn, **kw: Any) -> Monitor:
    kw.setdefault("history", ":memory:")
    kw.setdefault("annotate", identity)
    kw.setdefault("resolver_check", None)
    kw.setdefault("seed", 7)
    return Monitor(endpoints, probe=probe, **kw)


# ---------------------------------------------------------------- the grid, pure


def test_first_slot_is_spread_over_the_interval() -> None:
    rng = random.Random(1)
    firsts = [Schedule(10, 100.0, rng=rng).due for _ in range(1000)]
    assert min(firsts) >= 100.0 and max(firsts) < 110.0
    # Spread, not bunched: every second of the interval gets some endpoints.
    assert {int(f - 100) for f in firsts} == set(range(10))


def test_first_now_probes_at_once_then_joins_a_spread_grid() -> None:
    rng = random.Random(3)
    seconds = []
    for _ in range(1000):
        s = Schedule(10, 100.0, rng=rng, jitter=0.0, first_now=True)
        assert s.due == 100.0  # the first probe: at once
        second = s.advance(100.2)  # that probe took 0.2 s
        assert 105.0 <= second < 115.0  # half an interval to one and a half later
        assert s.advance(second + 0.1) == second + 10  # then the grid, no drift
        seconds.append(second)
    # The second probes are spread over a whole interval, not bunched.
    assert {int(x - 105) for x in seconds} == set(range(10))
    assert s.skipped == 0


@pytest.mark.parametrize("jitter", [0.0, 0.1, 0.3])
def test_jitter_is_bounded_and_never_accumulates(jitter: float) -> None:
    s = Schedule(5.0, 0.0, jitter=jitter, rng=random.Random(2), spread=False)
    offsets = []
    for _ in range(10_000):
        due = s.advance(s.due)  # a probe that takes no time
        offsets.append(due - s.base(s.slot))
    assert s.slot == 10_000  # no slot skipped, no drift: slot k sits at anchor + k·interval
    assert max(abs(o) for o in offsets) <= jitter * 5.0 + 1e-9
    if jitter:
        assert abs(statistics.mean(offsets)) < 0.02 * jitter * 5.0 * 10
        assert max(offsets) > 0.8 * jitter * 5.0  # the whole range is used


@pytest.mark.parametrize(("interval", "jitter"), [(5.0, 0.1), (0.5, 0.05), (1.0, 0.0)])
def test_jittered_due_times_sit_on_the_quantum_inside_their_window(
    interval: float, jitter: float
) -> None:
    """Probes due within one quantum start together (fewer wake-ups); never outside the
    jitter window, and no quantum at all when the window is narrower than two quanta."""
    quantum = 0.02
    s = Schedule(interval, 0.0, jitter=jitter, rng=random.Random(3), spread=False, quantum=quantum)
    plain = Schedule(interval, 0.0, jitter=jitter, rng=random.Random(3), spread=False)
    on_quantum = 0
    for _ in range(2_000):
        due = s.advance(s.due)
        assert abs(due - s.base(s.slot)) <= jitter * interval + 1e-9
        assert abs(due - plain.advance(plain.due)) <= quantum + 1e-9
        on_quantum += abs(due / quantum - round(due / quantum)) < 1e-6
    assert s.slot == 2_000 and s.skipped == 0
    if jitter * interval >= 2 * quantum:
        assert on_quantum == 2_000
    else:  # 25 ms or no window: left exactly where the grid (and jitter) put it
        assert on_quantum < 2_000 or jitter == 0.0


def test_overrun_skips_past_slots_and_counts_them() -> None:
    s = Schedule(1.0, 0.0, jitter=0.0, spread=False)
    assert s.due == 0.0
    due = s.advance(3.5)  # the probe of slot 0 took 3.5 s
    assert due == 4.0 and s.slot == 4 and s.skipped == 3


def test_reanchor() -> None:
    s = Schedule(1.0, 0.0, jitter=0.0, spread=False)
    s.advance(0.1)
    s.reanchor(2.0, 50.0, spread=False)
    assert (s.due, s.slot, s.interval) == (50.0, 0, 2.0)
    assert s.advance(50.1) == 52.0


def test_schedule_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        Schedule(0, 0.0)
    with pytest.raises(ValueError):
        Schedule(1, 0.0, jitter=0.7)


# ---------------------------------------------------------------- the engine
#
# The engine's loop runs on virtual time (tests/virtual_time.py): ``clock.advance(1.0)``
# lets a second pass and returns once everything due in it has run, so counts and
# timings are exact however busy the machine is.


@contextlib.contextmanager
def running(monitor: Monitor, clock: VirtualClock) -> Iterator[Monitor]:
    monitor.start()
    try:
        yield monitor
    finally:
        clock.release()  # stop's own timeouts must be able to fire
        monitor.stop()


def virtual(endpoints: list[Endpoint], probe: ProbeFn, **kw: Any) -> tuple[Monitor, VirtualClock]:
    clock = VirtualClock()
    return make(endpoints, probe, loop_factory=clock.loop_factory, **kw), clock


def completed(messages: list[Message], name: str | None = None) -> list[ProbeCompleted]:
    return [
        m
        for m in messages
        if isinstance(m, ProbeCompleted) and (name is None or m.endpoint_name == name)
    ]


def test_probes_of_one_endpoint_never_overlap() -> None:
    probe = FakeProbe(delay=0.25)
    monitor, clock = virtual([endpoint("slow", interval=0.1)], probe, jitter=0.0)
    with running(monitor, clock):
        clock.advance(1.0)
    assert probe.overlaps == 0
    starts = probe.starts["slow"]
    assert len(starts) >= 3
    # Each probe starts at the first slot of the grid after the last one ended.
    assert all(b - a >= 0.25 for a, b in itertools.pairwise(starts))
    assert all(b - a <= 0.3 + 1e-9 for a, b in itertools.pairwise(starts))
    assert monitor.stats().skipped_slots >= 2


def test_concurrency_cap() -> None:
    probe = FakeProbe(delay=0.1)
    endpoints = [endpoint(f"e{i}", interval=0.1) for i in range(12)]
    monitor, clock = virtual(endpoints, probe, concurrency=3)
    with running(monitor, clock):
        clock.advance(0.8)
    assert probe.peak == 3
    # Waiting for a free slot is lateness, and it shows.
    lateness_max_ms = monitor.stats().lateness_max_ms
    assert lateness_max_ms is not None and lateness_max_ms > 50


def test_a_hanging_endpoint_does_not_delay_the_others() -> None:
    probe = FakeProbe(delay=0.005)
    probe.delay["hang"] = 3600  # never answers: only the engine's backstop ends it
    monitor, clock = virtual(
        [endpoint("hang", interval=0.1, timeout=0.3), endpoint("fast", interval=0.1)],
        probe,
        deadline_grace=0.1,
        jitter=0.0,
    )
    inbox = monitor.events()
    with running(monitor, clock):
        clock.advance(0.7)  # the backstop fires 0.4 s after the hanging probe starts
    seen = drain(inbox)
    hung = completed(seen, "hang")
    assert hung, "the hanging probe was never ended"
    done = hung[0]
    assert done.result.verdict is not None and done.result.verdict.kind == "deadline"
    assert not done.result.ok
    fast = probe.starts["fast"][1:]  # after the first probe, made at once on start
    gaps = [b - a for a, b in itertools.pairwise(fast)]
    assert len(fast) >= 5
    assert max(abs(g - 0.1) for g in gaps) < 1e-6  # on the grid, never held up by "hang"
    assert max(m.lateness_ms for m in completed(seen, "fast")) < 1


def test_no_drift_over_many_cycles() -> None:
    probe = FakeProbe(delay=0.03)  # a probe's duration must not push the next one back
    monitor, clock = virtual([endpoint("tick", interval=0.05)], probe, jitter=0.0)
    with running(monitor, clock):
        clock.advance(1.0)
    # The first probe is immediate; the grid starts with the second.
    starts = probe.starts["tick"][1:]
    assert len(starts) >= 18
    errors = [s - (starts[0] + k * 0.05) for k, s in enumerate(starts)]
    assert max(abs(e) for e in errors) < 1e-6, errors
    lateness_p95_ms = monitor.stats().lateness_p95_ms
    assert lateness_p95_ms is not None and lateness_p95_ms < 1


def test_jitter_stays_within_bounds_in_the_engine() -> None:
    probe = FakeProbe()
    monitor, clock = virtual([endpoint("j", interval=0.1)], probe, jitter=0.2)
    with running(monitor, clock):
        clock.advance(1.0)
    starts = probe.starts["j"]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Consecutive probes: interval ± 2·jitter·interval, and jitter is really applied.
    assert min(gaps) >= 0.06 - 1e-9 and max(gaps) <= 0.14 + 1e-9
    assert len({round(g, 6) for g in gaps}) > 1
    assert len(starts) >= 8


def test_warm_up_runs_before_the_first_probe() -> None:
    order: list[str] = []
    probe = FakeProbe()

    async def warm_up() -> None:
        order.append("warm-up")

    async def recording(ep: Endpoint) -> ProbeResult:
        order.append("probe")
        return await probe(ep)

    monitor, clock = virtual([endpoint(interval=0.05)], recording, warm_up=warm_up)
    with running(monitor, clock):
        clock.advance(0.2)
    assert order[0] == "warm-up" and order.count("warm-up") == 1 and "probe" in order


def test_probe_now_pause_resume() -> None:
    probe = FakeProbe()
    monitor, clock = virtual([endpoint("a", interval=60)], probe, seed=3)
    inbox = monitor.events()
    with running(monitor, clock):
        clock.settle()  # the probe every endpoint gets on start
        assert len(completed(drain(inbox))) == 1
        monitor.probe_now("a").result(1)
        clock.settle()
        assert len(completed(drain(inbox))) == 1  # one more now, not in 30–90 s
        assert monitor.snapshot()["a"].state == State.UP
        monitor.pause("a").result(1)
        clock.settle()
        changes = [m for m in drain(inbox) if isinstance(m, StateChanged)]
        assert [(c.event.from_state, c.event.to_state) for c in changes] == [
            (State.UP, State.PAUSED)
        ]
        monitor.probe_now("a").result(1)
        count = len(probe.starts["a"])
        clock.advance(120)
        assert len(probe.starts["a"]) == count  # paused: neither probe_now nor the schedule
        monitor.resume("a").result(1)
        clock.settle()  # resuming probes at once
        seen = drain(inbox)
        assert len(completed(seen)) == 1
        transitions = [
            (m.event.from_state, m.event.to_state) for m in seen if isinstance(m, StateChanged)
        ]
        assert transitions[0] == (State.PAUSED, State.PENDING)
        monitor.pause_all().result(1)
        assert monitor.snapshot()["a"].state == State.PAUSED
        monitor.resume_all().result(1)
    with pytest.raises(KeyError):
        monitor.pause("nope")


def test_add_update_remove_while_running() -> None:
    probe = FakeProbe()
    monitor, clock = virtual([endpoint("a", interval=0.05)], probe, jitter=0.0)
    with running(monitor, clock):
        monitor.add(endpoint("b", interval=0.05)).result(1)
        clock.advance(0.3)
        assert len(probe.starts.get("b", [])) >= 5
        with pytest.raises(ValueError, match="already"):
            monitor.add(endpoint("b"))
        with pytest.raises(ValueError, match="down_after"):
            monitor.add(endpoint("c", down_after=0))
        monitor.update(endpoint("b", interval=10)).result(1)
        clock.settle()
        slowed = len(probe.starts["b"])
        clock.advance(5)
        assert len(probe.starts["b"]) <= slowed + 1  # 10 s now (first slot spread over it)
        monitor.remove("a").result(1)
        clock.settle()
        gone = len(probe.starts["a"])
        clock.advance(1)
        assert len(probe.starts["a"]) == gone
        assert set(monitor.snapshot()) == {"b"}


def test_stop_is_bounded_and_cancels_in_flight_probes() -> None:
    cancelled = threading.Event()
    started = threading.Event()

    async def hang(ep: Endpoint) -> ProbeResult:
        import asyncio

        started.set()
        try:
            await asyncio.sleep(3600)
            raise AssertionError("an hour-long probe was never cancelled")
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monitor = make([endpoint("hang", interval=0.05, timeout=3600)], hang)
    monitor.start()
    assert started.wait(2)
    t0 = time.monotonic()
    monitor.stop()
    assert time.monotonic() - t0 < 2
    assert cancelled.is_set()
    assert not monitor.running


def test_crashing_probe_and_diagnosis_never_stop_the_engine() -> None:
    calls = {"n": 0}
    probe = FakeProbe()

    async def flaky(ep: Endpoint) -> ProbeResult:
        calls["n"] += 1
        if calls["n"] % 2:
            raise RuntimeError("bug in a probe")
        return await probe(ep)

    def bad_annotate(result: ProbeResult, history: list[ProbeResult]) -> ProbeResult:
        raise ZeroDivisionError

    monitor, clock = virtual([endpoint("x", interval=0.05)], flaky, annotate=bad_annotate)
    inbox = monitor.events()
    with running(monitor, clock):
        clock.advance(0.4)
    results = [m.result for m in completed(drain(inbox))]
    kinds = {r.verdict.kind if r.verdict else None for r in results}
    assert "probe_error" in kinds and len(results) >= 7


def test_a_bad_setup_becomes_a_config_error_result() -> None:
    async def setup_error(ep: Endpoint) -> ProbeResult:
        raise ValueError("shop: environment variable 'TOKEN' is not set")

    monitor, clock = virtual([endpoint("x", interval=0.05)], setup_error)
    inbox = monitor.events()
    with running(monitor, clock):
        clock.advance(0.1)
    done = completed(drain(inbox))[0]
    assert done.result.verdict is not None
    assert done.result.verdict.kind == "config_error"
    assert "TOKEN" in done.result.verdict.summary


def test_history_kept_in_memory_is_slim_but_the_latest_result_is_whole() -> None:
    from gatewatch.model import Hop, Response
    from gatewatch.monitor.recent import pack_for_history, unpack_history
    from gatewatch.monitor.settings import MonitorRules
    from gatewatch.monitor.status import Slot, for_history
    from test_monitor_support import fail_result, ok_result, warn_result

    body = b"x" * 65536
    response = Response("HTTP/1.1", 502, "Bad Gateway", (("Server", "nginx"),), body, len(body))
    result = fail_result().replace(response=response, origin=fail_result())
    result = result.replace(
        hops=(
            *result.hops[:-1],
            Hop(
                "upstream",
                "fail",
                3.0,
                "502",
                "http_502",
                {"first_byte_ms": 2.5, "headers": ["big"]},
            ),
        )
    )
    slot = Slot(endpoint=endpoint(), rules=MonitorRules())
    slot.remember(result)
    latest = slot.status().last_result
    assert latest is not None and latest.response is not None
    assert slot.last_result is result and latest.response.body == body
    kept = for_history(result)  # what a runner keeps as diagnose's history
    assert kept.response is not None
    # … kept packed, and unpacked to exactly that when a full diagnosis reads it.
    for sample in (result, fail_result(), ok_result(), warn_result()):
        assert unpack_history(pack_for_history(sample)) == for_history(sample)
    assert kept.response.body == b"" and kept.response.headers == ()
    assert kept.response.status_code == 502 and kept.response.body_size == len(body)
    assert kept.origin is None and kept.ok == result.ok
    assert dict(kept.hop("upstream").detail) == {"first_byte_ms": 2.5}
    assert [(h.name, h.status, h.ms, h.kind) for h in kept.hops] == [
        (h.name, h.status, h.ms, h.kind) for h in result.hops
    ]
    assert kept.verdict is not None and result.verdict is not None
    assert kept.verdict.kind == result.verdict.kind and kept.verdict.evidence == ()


def test_a_listener_may_command_the_engine_from_its_own_thread() -> None:
    monitor, clock = virtual([endpoint("a", interval=0.05)], FakeProbe())
    paused = threading.Event()

    def on_message(message: Message) -> None:
        if isinstance(message, ProbeCompleted) and not paused.is_set():
            monitor.pause("a").result(timeout=1)  # would deadlock if it were posted
            paused.set()

    monitor.subscribe(on_message)
    with running(monitor, clock):
        clock.advance(0.1)
        assert paused.is_set()
        assert monitor.snapshot()["a"].state == State.PAUSED


def test_rename_keeps_state_and_history(tmp_path: Path) -> None:
    """Renaming on the board must not lose the endpoint's state or its stored probes."""
    probe = FakeProbe(failing={"old"})
    monitor, clock = virtual(
        [endpoint("old", interval=0.1)], probe, history=tmp_path / "history.sqlite3"
    )
    inbox = monitor.events()
    with running(monitor, clock):
        clock.advance(1.0)
        assert any(
            isinstance(m, StateChanged) and m.event.to_state == State.DOWN for m in drain(inbox)
        )
        assert monitor.history.flush()
        stored_before = len(monitor.history.last_results("old", 100))
        renamed = endpoint("new", interval=0.1)
        probe.failing.add("new")
        monitor.rename("old", renamed).result(timeout=5)
        with pytest.raises(ValueError):
            monitor.rename("new", endpoint("new", interval=0.1))
        with pytest.raises(KeyError):
            monitor.rename("old", endpoint("other", interval=0.1))
        clock.advance(0.2)
        assert completed(drain(inbox), "new")
        snapshot = monitor.snapshot()
        assert "old" not in snapshot and snapshot["new"].state == State.DOWN  # no PENDING
        assert monitor.history.flush()
        assert monitor.history.last_results("old", 100) == []
        assert len(monitor.history.last_results("new", 100)) > stored_before > 0


def test_on_start_every_endpoint_is_probed_at_once_within_the_cap() -> None:
    """Issue 14 §3: a board opened on 40 endpoints every 10 minutes fills every row as fast
    as the cap allows, not over the next 10 minutes; each is probed once, then waits for
    its place on the spread grid (at least half an interval away)."""
    probe = FakeProbe(delay=0.01)
    names = [f"e{i}" for i in range(40)]
    monitor, clock = virtual(
        [endpoint(n, interval=600) for n in names], probe, concurrency=4, jitter=0.0
    )
    inbox = monitor.events()
    with running(monitor, clock):
        clock.advance(0.1)  # 40 probes of 10 ms, 4 at a time: 0.1 s of (virtual) time
        first = completed(drain(inbox))
        assert sorted(m.endpoint_name for m in first) == sorted(names)
        assert probe.peak == 4
        monitor.add(endpoint("late", interval=600)).result(5)  # added while running: at once
        clock.advance(0.02)
        assert [m.endpoint_name for m in completed(drain(inbox))] == ["late"]
        clock.advance(299.0)  # the next slots are at least 300 s after the first probes
        assert completed(drain(inbox)) == []
        clock.advance(600.0)  # … and within 900 s every endpoint had its second
        assert {m.endpoint_name for m in completed(drain(inbox))} == {*names, "late"}
    assert all(len(probe.starts[n]) >= 2 for n in names)


def test_insert_puts_one_probe_before_the_next_slot_and_keeps_the_grid() -> None:
    s = Schedule(10.0, 0.0, jitter=0.0, spread=False)
    assert s.advance(0.1) == 10.0  # slot 1
    s.insert(2.1)
    assert s.due == 2.1
    s.insert(5.0)  # later than what is already first: no change
    assert s.due == 2.1
    assert s.advance(2.2) == 10.0  # back to slot 1, nothing skipped
    assert (s.slot, s.skipped) == (1, 0)
    s.insert(30.0)  # after the next slot: nothing to do
    assert s.due == 10.0


def test_a_failure_is_confirmed_in_seconds_not_a_whole_interval() -> None:
    """Issue 14 §3: a dead endpoint is DOWN seconds after start (down_after = 2), then
    probed on its grid; a healthy one gets no extra probe."""
    probe = FakeProbe(failing={"dead"})
    monitor, clock = virtual(
        [endpoint("dead", interval=60), endpoint("fine", interval=60)], probe, jitter=0.0
    )
    inbox = monitor.events()
    with running(monitor, clock):
        clock.advance(2.5)
        downs = [
            m.event.at
            for m in drain(inbox)
            if isinstance(m, StateChanged) and m.event.to_state == State.DOWN
        ]
        assert len(downs) == 1 and monitor.snapshot()["dead"].state == State.DOWN
        assert len(probe.starts["dead"]) == 2  # the first probe, and its confirmation
        assert len(probe.starts["fine"]) == 1
        clock.advance(25.0)  # DOWN now: no more confirming, the grid's next slot is ≥ 30 s
        assert len(probe.starts["dead"]) == 2
        clock.advance(62.4)  # 89.9 s: each has had its one grid slot in [30, 90)
        assert len(probe.starts["dead"]) == 3 and len(probe.starts["fine"]) == 2
    starts = probe.starts["dead"]
    assert 1.9 < starts[1] - starts[0] < 2.1


def test_recent_results_of_an_unchanged_answer_share_one_shape() -> None:
    """A runner keeps 20 results per endpoint; those of the same answer share all but their
    timings (the memory of a worker at 1,000 endpoints, bench_monitor.py)."""
    import dataclasses
    import math

    from gatewatch.model import frozen_mapping
    from gatewatch.monitor.recent import pack_for_history, unpack_history
    from gatewatch.monitor.status import for_history
    from test_monitor_support import fail_result, ok_result

    first = pack_for_history(ok_result(total_ms=10.0))
    hops = ok_result().hops
    upstream = dataclasses.replace(hops[-1], ms=7.25, detail=frozen_mapping({"first_byte_ms": 7.0}))
    slower = ok_result(total_ms=12.5).replace(hops=(*hops[:-1], upstream))
    second = pack_for_history(ok_result(total_ms=11.0), first)
    third = pack_for_history(slower, second)
    failed = pack_for_history(fail_result(), third)
    assert second.shape is first.shape  # same answer: one shape
    assert third.shape is not second.shape  # a first byte now: another shape
    assert failed.shape != third.shape
    assert unpack_history(third) == for_history(slower)  # the timings are its own
    assert unpack_history(second).total_ms == 11.0
    assert unpack_history(third).hop("upstream").detail["first_byte_ms"] == 7.0
    # A NaN total (an engine failure) and a None hop time come back as they were.
    nan_total = ok_result().replace(
        total_ms=math.nan, hops=(dataclasses.replace(hops[0], ms=None), *hops[1:])
    )
    back = unpack_history(pack_for_history(nan_total, first))
    assert math.isnan(back.total_ms) and back.hops[0].ms is None and back.hops[1].ms == 1.0
