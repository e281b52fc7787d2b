"""History: round trip, queries, retention, replay, and a database that fails."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gatewatch.model import Verdict
from gatewatch.monitor import History, HistoryUnavailable, Monitor, ProbeCompleted, State
from gatewatch.monitor.records import to_timestamp
from gatewatch.monitor.state import TransitionEvent
from test_monitor_support import (
    T0,
    FakeProbe,
    endpoint,
    fail_result,
    identity,
    ok_result,
    wait_for,
    wait_until,
)
from virtual_time import VirtualClock

NOW = to_timestamp(T0) + 3600  # queries look back from an hour after T0


def opened(path: str | Path = ":memory:", **kw: Any) -> History:
    kw.setdefault("clock", lambda: NOW)
    return History(path, flush_interval=0.01, **kw).open()


def event(
    at: datetime,
    name: str = "shop",
    frm: State = State.UP,
    to: State = State.DOWN,
    verdict: Verdict | None = None,
) -> TransitionEvent:
    return TransitionEvent(at, name, frm, to, verdict, f"{frm} to {to}")


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with opened(path) as h:
        h.record_probe(ok_result(at=T0, total_ms=12.5), State.UP, 0.7)
        h.record_probe(fail_result(at=T0 + timedelta(seconds=30)), State.UP, 1.5)
        verdict = Verdict(
            "backend",
            "http_500",
            "upstream",
            "nginx",
            0.8,
            "500 from the app",
            ("status 500",),
            ("check the app log",),
        )
        h.record_event(event(T0 + timedelta(seconds=31), verdict=verdict))
        assert h.flush()
    with opened(path) as h:  # reopened: it was on disk
        first, second = h.last_results("shop", 10)
        assert first.at == T0 and first.ok and first.total_ms == 12.5
        assert first.lateness_ms == 0.7 and first.state == State.UP
        assert [hop.name for hop in first.hops] == ["dns", "tcp", "tls", "proxy", "upstream"]
        assert not second.ok
        up = second.hops[-1]
        assert (up.status, up.kind, up.error) == ("fail", "http_500", "upstream broke")
        assert second.verdict is not None
        assert second.verdict.cause == "backend" and second.verdict.summary
        failed_hop = second.to_result().failed_hop
        assert failed_hop is not None and failed_hop.name == "upstream"
        (stored,) = h.events(T0)
        assert stored.verdict == verdict and stored.to_state == State.DOWN
        assert h.last_results("shop", 1) == [second]
        assert h.last_results("other") == []
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_uptime_and_percentiles() -> None:
    with opened() as h:
        for i in range(100):
            at = T0 + timedelta(seconds=30 * i)  # 50 minutes of probes
            if i % 10 == 0:
                h.record_probe(fail_result(at=at), State.UP, 0)
            else:
                h.record_probe(ok_result(at=at, total_ms=float(i)), State.UP, 0)
        h.record_probe(fail_result(at=T0 - timedelta(days=2)), State.DOWN, 0)
        h.record_probe(fail_result(at=T0 + timedelta(seconds=1)), State.MAINTENANCE, 0)
        h.flush()
        up = h.uptimes("shop")
        assert up["1h"] == pytest.approx(90.0)  # maintenance probes do not count
        assert up["7d"] == pytest.approx(90 / 101 * 100)
        assert h.uptime("nobody", 3600) is None
        p = h.hop_percentiles("shop", 3600)
        assert p["dns"][50] == 1.0
        assert p["upstream"][50] == 1.0  # failed hops are not timings
        totals = [float(i) for i in range(100) if i % 10] + [5.0] * 11
        assert p["total"][99] == pytest.approx(sorted(totals)[-1], abs=1.5)


def test_events_window_and_filter() -> None:
    with opened() as h:
        for i, name in enumerate(["a", "b", "a"]):
            h.record_event(event(T0 + timedelta(minutes=i), name=name))
        h.flush()
        assert len(h.events(T0)) == 3
        assert [e.endpoint for e in h.events(T0, T0 + timedelta(seconds=90))] == ["a", "b"]
        assert len(h.events(T0, endpoint="a")) == 2


def test_state_at_replays_the_board() -> None:
    with opened() as h:
        h.record_probe(ok_result("a", at=T0), State.UP, 0)
        h.record_probe(ok_result("b", at=T0), State.UP, 0)
        h.record_event(event(T0, "a", State.PENDING, State.UP))
        h.record_probe(fail_result("a", at=T0 + timedelta(minutes=1)), State.UP, 0)
        h.record_probe(fail_result("a", at=T0 + timedelta(minutes=2)), State.DOWN, 0)
        h.record_event(event(T0 + timedelta(minutes=2, seconds=1), "a", State.UP, State.DOWN))
        h.record_event(event(T0 + timedelta(minutes=5), "b", State.UP, State.PAUSED))
        h.flush()
        early = h.state_at(T0 + timedelta(seconds=90))
        last = early["a"].last_result
        assert early["a"].state == State.UP and last is not None and not last.ok
        assert early["a"].since == T0
        later = h.state_at(T0 + timedelta(minutes=3))
        assert later["a"].state == State.DOWN
        assert later["a"].since == T0 + timedelta(minutes=2, seconds=1)
        assert later["b"].state == State.UP and later["b"].since is None
        assert h.state_at(T0 + timedelta(minutes=6))["b"].state == State.PAUSED
        assert h.state_at(T0 - timedelta(seconds=1)) == {}


def test_retention_is_enforced_in_the_background() -> None:
    now = [NOW]
    h = History(
        ":memory:", retention=600, prune_every=0.05, flush_interval=0.01, clock=lambda: now[0]
    ).open()
    try:
        h.record_probe(ok_result(at=T0), State.UP, 0)  # an hour old
        h.record_probe(ok_result(at=T0 + timedelta(minutes=55)), State.UP, 0)
        h.record_event(event(T0))
        h.flush()
        wait_until(lambda: len(h.last_results("shop")) <= 1)
        assert [r.at for r in h.last_results("shop")] == [T0 + timedelta(minutes=55)]
        assert h.events(T0 - timedelta(days=1)) == []
    finally:
        h.close()


def test_writes_are_batched_off_the_caller() -> None:
    seen: list[tuple[int, str]] = []  # (thread, SQL) of every statement the store runs
    with opened() as h:
        assert h._conn is not None
        h._conn.set_trace_callback(lambda sql: seen.append((threading.get_ident(), sql)))
        for i in range(2000):
            h.record_probe(ok_result(at=T0 + timedelta(seconds=i)), State.UP, 0)
        h.flush()
        assert len(h.last_results("shop", 5000)) == 2000
    caller = threading.get_ident()
    writes = [(thread, sql) for thread, sql in seen if sql.startswith(("BEGIN", "INSERT"))]
    assert writes and all(thread != caller for thread, _ in writes)
    transactions = sum(1 for _, sql in writes if sql == "BEGIN")
    assert 4 <= transactions <= 40  # batches of up to 500 rows, not a commit per probe


# ---------------------------------------------------------------- failures


def failures_of(h: History) -> list[str]:
    seen: list[str] = []
    h.set_listener(seen.append)
    return seen


def test_corrupt_file_falls_back_to_memory(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database, just garbage " * 200)
    h = History(path, flush_interval=0.01).open()
    seen = failures_of(h)
    try:
        assert len(seen) == 1 and "keeping rows in memory" in seen[0]
        assert str(path) in seen[0]
        h.record_probe(ok_result(), State.UP, 0)
        h.flush()
        assert len(h.last_results("shop")) == 1  # still answers, from memory
    finally:
        h.close()
    assert path.read_bytes().startswith(b"this is not a database")  # never overwritten


def test_unwritable_location_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    h = History(blocker / "sub" / "history.sqlite3").open()
    seen = failures_of(h)
    h.close()
    assert len(seen) == 1
    assert "NotADirectoryError" in seen[0] or "FileExistsError" in seen[0]


def test_locked_database_is_reported_once_and_never_blocks_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    h = History(path, busy_timeout=0.1, flush_interval=0.01).open()
    seen = failures_of(h)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        t0 = time.perf_counter()
        h.record_probe(ok_result(), State.UP, 0)
        assert time.perf_counter() - t0 < 0.01
        assert h.flush()
        h.record_probe(ok_result(at=T0 + timedelta(seconds=1)), State.UP, 0)
        h.flush()
        assert len(seen) == 1 and "locked" in seen[0]
        assert len(h.last_results("shop")) == 2  # the failed batch was kept, in memory
    finally:
        other.execute("ROLLBACK")
        other.close()
        h.close()


def test_engine_carries_on_with_a_corrupt_database(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(bytes(range(256)) * 64)
    monitor = Monitor(
        [endpoint("a", interval=0.05)],
        probe=FakeProbe(),
        annotate=identity,
        history=path,
        resolver_check=None,
    )
    inbox = monitor.events()
    with monitor:
        problem = wait_for(inbox, lambda m: isinstance(m, HistoryUnavailable), timeout=2)
        for _ in range(3):
            wait_for(inbox, lambda m: isinstance(m, ProbeCompleted), timeout=2)
        monitor.history.flush()
        assert len(monitor.history.last_results("a")) >= 3
    assert isinstance(problem, HistoryUnavailable)
    assert "unusable" in problem.reason
    others = []
    while not inbox.empty():
        others.append(inbox.get())
    assert not any(isinstance(m, HistoryUnavailable) for m in others)  # reported once


def test_engine_records_probes_and_transitions() -> None:
    history = History(":memory:", flush_interval=0.01).open()
    probe = FakeProbe(failing={"bad"})
    clock = VirtualClock()
    monitor = Monitor(
        [endpoint("good", interval=0.05), endpoint("bad", interval=0.05)],
        probe=probe,
        annotate=identity,
        history=history,
        resolver_check=None,
        loop_factory=clock.loop_factory,
    )
    with monitor:
        clock.advance(0.4)
        clock.release()
    # A History passed in stays open (flushed) for the caller.
    records = history.last_results("bad", 100)
    assert len(records) >= 3 and not any(r.ok for r in records)
    assert records[-1].state == State.DOWN and records[-1].lateness_ms is not None
    since = datetime(2000, 1, 1, tzinfo=UTC)
    transitions = [(e.endpoint, e.to_state) for e in history.events(since)]
    assert ("bad", State.DOWN) in transitions and ("good", State.UP) in transitions
    history.close()


def test_stored_result_keeps_its_status_code() -> None:
    """Replay shows the HTTP code the board showed then: it must survive storage."""
    from datetime import UTC, datetime

    from gatewatch.model import Hop, ProbeResult, Response
    from gatewatch.monitor.history import History
    from gatewatch.monitor.state import State

    history = History(":memory:", flush_interval=0.01).open()
    hops = tuple(Hop(name=n, status="ok", ms=1.0) for n in ("dns", "tcp", "tls", "proxy"))
    result = ProbeResult(
        name="shop",
        url="http://shop.test/",
        started_at=datetime.now(UTC),
        hops=(*hops, Hop(name="upstream", status="fail", ms=2.0, kind="unexpected_status")),
        total_ms=5.0,
        response=Response(
            http_version="HTTP/1.1", status_code=502, reason="Bad Gateway", headers=()
        ),
    )
    history.record_probe(result, State.DOWN, None)
    history.flush()
    [record] = history.last_results("shop", 1)
    assert record.status_code == 502 and record.to_result().status_code == 502
    history.close()


def test_uptime_all_matches_uptime_per_endpoint() -> None:
    """The board's one-query uptime agrees with the per-endpoint query."""
    from datetime import UTC, datetime

    from gatewatch.model import Hop, HopStatus, ProbeResult
    from gatewatch.monitor.history import History
    from gatewatch.monitor.state import State

    history = History(":memory:", flush_interval=0.01).open()
    now = datetime.now(UTC)
    for name, oks in (("a", [True, True, False, True]), ("b", [False, False])):
        for ok in oks:
            status: HopStatus = "ok" if ok else "fail"
            hops = tuple(Hop(name=n, status="ok") for n in ("dns", "tcp", "tls", "proxy"))
            result = ProbeResult(
                name=name,
                url=f"http://{name}.test/",
                started_at=now,
                hops=(*hops, Hop(name="upstream", status=status)),
                total_ms=1.0,
            )
            history.record_probe(result, State.UP if ok else State.DOWN)
    assert history.flush()
    everyone = history.uptime_all(3600)
    assert everyone == {"a": 75.0, "b": 0.0}
    assert everyone["a"] == history.uptime("a", 3600)
    history.close()
