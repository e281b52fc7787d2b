"""Acknowledgements: alerts stop while checks go on, cleared when UP, kept across a restart."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from gatewatch.checklist import Redactor, render_report
from gatewatch.checklist.past import from_history
from gatewatch.cli.watch import format_message
from gatewatch.monitor import Acknowledged, Alert, History, Message, Monitor, State, StateChanged
from gatewatch.monitor.notify import Notifier
from gatewatch.monitor.sinks import AlertDispatcher
from gatewatch.monitor.state import TransitionEvent
from test_monitor_support import FakeProbe, endpoint, identity, wait_for


class Recorder:
    """An alert sink that keeps what it was sent."""

    name = "recorder"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self.arrived = threading.Event()

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)
        self.arrived.set()

    async def aclose(self) -> None:
        return None


def make(path: Path, probe: FakeProbe, sink: Recorder) -> Monitor:
    return Monitor(
        [endpoint("bad", interval=0.05)],
        probe=probe,
        annotate=identity,
        history=path,
        resolver_check=None,
        sinks=[sink],
    )


def test_an_acknowledged_endpoint_pages_nobody_but_listeners_hear_everything() -> None:
    published: list[Message] = []

    class Dispatcher(AlertDispatcher):
        def send(self, alert: Alert) -> None:
            self.sent += 1

    dispatcher = Dispatcher([], lambda sink, reason, count: None)
    notifier = Notifier(published.append, dispatcher, lambda: datetime.now(UTC))
    down = TransitionEvent(datetime.now(UTC), "bad", State.UP, State.DOWN, None, "refused")
    notifier.acked.add("bad")
    notifier.transition(down, "http://bad.test/")
    assert dispatcher.sent == 0 and published == [StateChanged(down)]
    notifier.acked.discard("bad")  # not told while acknowledged: the next DOWN pages
    notifier.transition(down, "http://bad.test/")
    assert dispatcher.sent == 1


def test_acknowledged_kept_across_a_restart_and_cleared_when_up(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    probe = FakeProbe(failing={"bad"})
    sink = Recorder()
    monitor = make(path, probe, sink)
    inbox = monitor.events()
    with monitor:
        wait_for(inbox, lambda m: isinstance(m, StateChanged) and m.event.to_state == State.DOWN)
        assert sink.arrived.wait(5)  # DOWN paged someone
        monitor.acknowledge("bad", "alice", "failing over the database").result(timeout=5)
        said = wait_for(inbox, lambda m: isinstance(m, Acknowledged))
        assert isinstance(said, Acknowledged) and said.active and said.ack.by == "alice"
        assert monitor.snapshot()["bad"].ack == said.ack
        line = format_message(said, json_lines=True)
        assert line is not None and '"type": "acknowledged"' in line and "alice" in line

    again = make(path, probe, Recorder())
    inbox = again.events()
    with again:
        kept = wait_for(inbox, lambda m: isinstance(m, Acknowledged))
        assert isinstance(kept, Acknowledged) and kept.active
        assert kept.ack.reason == "failing over the database"
        probe.failing.clear()  # fixed: UP again ends the acknowledgement
        ended = wait_for(inbox, lambda m: isinstance(m, Acknowledged) and not m.active)
        assert isinstance(ended, Acknowledged) and ended.reason == "UP again"
        assert again.snapshot()["bad"].ack is None
    with History(path) as history:
        assert history.open_acks() == {}
        assert [a.by for a in history.acks("bad", datetime(2000, 1, 1, tzinfo=UTC))] == ["alice"]
        past = from_history(history, "bad", now=datetime.now(UTC))
    bad = endpoint("bad")
    report = render_report(
        bad,
        result=None,
        past=past,
        steps=(),
        results={},
        progress=None,
        redactor=Redactor.for_endpoint(bad, {}),
        generated_at=datetime.now(UTC),
    )
    assert "## Acknowledged" in report and "| alice | failing over the database |" in report


