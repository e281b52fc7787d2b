"""Each sink has one send in flight and a bounded queue: a sink that falls behind gets a
digest, and every alert that does not get through is counted and reported."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gatewatch.monitor.alert_queue import SinkQueue
from gatewatch.monitor.alerts import Alert, transition_alert
from gatewatch.monitor.sinks import SinkError
from gatewatch.monitor.state import State, TransitionEvent
from test_monitor_support import T0


def alert(i: int, frm: State = State.UP, to: State = State.DOWN, name: str = "") -> Alert:
    event = TransitionEvent(T0 + timedelta(seconds=i), name or f"e{i}", frm, to, None, "why")
    return transition_alert(event, None)


class GatedSink:
    """A sink whose sends wait for the test to open the gate (or fail, or hang)."""

    name = "gated"

    def __init__(self, *, fail: bool = False) -> None:
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.received: list[Alert] = []
        self.fail = fail

    async def send(self, alert: Alert) -> None:
        self.received.append(alert)
        self.started.set()
        await self.gate.wait()
        if self.fail:
            raise SinkError("HTTP 500")


class Reports:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, int]] = []

    def __call__(self, sink: str, reason: str, count: int) -> None:
        self.lines.append((sink, reason, count))

    @property
    def total(self) -> int:
        return sum(count for _, _, count in self.lines)


def queue_for(sink: GatedSink, reports: Reports, max_pending: int = 500) -> SinkQueue:
    slots = asyncio.Semaphore(4)
    return SinkQueue(
        sink, reports, slots=lambda: slots, error_types=(SinkError,), max_pending=max_pending
    )


async def test_alerts_that_wait_behind_a_send_go_out_as_one_digest() -> None:
    sink, reports = GatedSink(), Reports()
    queue = queue_for(sink, reports)
    queue.put(alert(0))
    await sink.started.wait()  # e0 is in flight, the sink is slow
    for i in range(1, 13):
        queue.put(alert(i))
    queue.put(alert(13, State.DOWN, State.UP, name="e1"))  # e1 flapped back meanwhile
    sink.gate.set()
    await queue.close(grace=5)
    first, digest = sink.received
    assert first.endpoint == "e0" and digest.type == "digest"
    assert len(digest.covers) == 13
    assert digest.text.startswith("gatewatch: 12 endpoints changed state: e1 UP (was up, 2 ")
    assert digest.to_json()["count"] == 13
    assert (queue.tally.delivered, queue.tally.digested, queue.tally.undelivered) == (1, 13, 0)
    assert reports.lines == []


async def test_a_failed_digest_reports_every_alert_in_it() -> None:
    sink, reports = GatedSink(fail=True), Reports()
    queue = queue_for(sink, reports)
    queue.put(alert(0))
    await sink.started.wait()
    for i in range(1, 6):
        queue.put(alert(i))
    sink.gate.set()
    await queue.close(grace=5)
    assert reports.lines == [
        ("gated", "HTTP 500", 1),
        ("gated", "HTTP 500 (5 alerts in one digest)", 5),
    ]
    assert queue.tally.failed == 6


async def test_a_hung_sink_drops_the_oldest_past_the_bound_and_reports_all_at_exit() -> None:
    sink, reports = GatedSink(), Reports()  # the gate never opens: a webhook that hangs
    queue = queue_for(sink, reports, max_pending=5)
    queue.put(alert(0))
    await sink.started.wait()
    for i in range(1, 9):
        queue.put(alert(i))  # 8 waiting, room for 5: the 3 oldest are dropped
    await queue.close(grace=0.05)
    assert queue.tally.dropped == 9 and queue.tally.delivered == 0
    assert reports.total == 9  # every alert accounted for: 1 in flight + 5 queued + 3 dropped
    assert reports.lines[-1] == (
        "gated",
        "6 alert(s) not delivered: gatewatch stopped while the sink was still busy",
        6,
    )
    assert [a.endpoint for a in sink.received] == ["e0"]


@pytest.mark.parametrize("count", [1, 2, 30])
def test_a_digest_names_endpoints_and_counts_the_rest(count: int) -> None:
    from gatewatch.monitor.alerts import digest_alert

    alerts = [alert(i) for i in range(count)]
    digest = digest_alert(alerts, T0)
    assert digest.covers == tuple(alerts)
    if count > 20:
        assert digest.text.endswith(f", and {count - 20} more")
    assert f"{count} endpoint" in digest.text
