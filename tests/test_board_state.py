"""The board's state and its pure helpers, without an app: commands, columns, sparkline."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.console import Console

from gatewatch import watchlist as wl
from gatewatch.board import BoardState, Row, Sample
from gatewatch.board.rows import SORT_MODES, SortMode, parse_query, visible_rows
from gatewatch.checklist.queue import CheckQueue
from gatewatch.model import Endpoint
from gatewatch.monitor import ProbeCompleted, State, StateChanged
from gatewatch.tui.looks import Palette
from gatewatch.tui.theming import STATUS_DEFAULTS
from gatewatch.tui.widgets.board_cells import CellLook, layout, needs, spark
from test_tui_samples import FakeEngine, cases, clock, event, gateway_502, messages


def board_state() -> tuple[BoardState, FakeEngine]:
    items = cases()
    endpoints = [c.endpoint for c in items]
    watchlist = wl.Watchlist.empty(None)
    for endpoint in endpoints:
        watchlist = watchlist.with_endpoint(endpoint)
    engine = FakeEngine(endpoints)
    state = BoardState(watchlist, engine, clock=clock)
    state.apply(messages(items))
    return state, engine


# --------------------------------------------------------------------------- commands


def test_commands_say_what_changed_and_rows_change_only_from_the_engine() -> None:
    state, engine = board_state()
    engine.listeners.clear()  # the fake answers pause with a transition; hold it back
    changes = state.toggle_pause("shop")
    assert ("pause", "shop") in engine.calls
    assert changes.notices == ["paused shop"] and not changes.names
    assert state.rows["shop"].state == State.UP  # asked, not done: the engine decides
    moved = state.apply([StateChanged(event("shop", State.UP, State.PAUSED, "paused"))])
    shop = state.rows["shop"]
    assert moved.states == {"shop"} and shop.state == State.PAUSED

    added = state.add(Endpoint(name="new", url="https://new.example/health"))
    assert added.endpoints == {"new"} and added.focus == "new" and added.watchlist
    assert state.rows["new"].state == State.PENDING and state.dirty
    assert state.find("new") is not None

    gone = state.delete("legacy")
    assert gone.removed == {"legacy"} and "legacy" not in state.rows
    assert state.find("legacy") is None and ("remove", "legacy") in engine.calls
    assert state.probe_now("nope").notices == []  # unknown: the engine refused, nothing said


def test_a_refused_edit_changes_nothing() -> None:
    state, engine = board_state()
    before = state.watchlist
    with pytest.raises(wl.WatchlistError):
        state.add(Endpoint(name="shop", url="https://dup.example"))
    assert state.watchlist is before and ("add", "shop") not in [c[:2] for c in engine.calls]


# --------------------------------------------------------------------------- verdicts


def test_pending_and_paused_rows_keep_their_verdict() -> None:
    endpoint = Endpoint(name="checkout", url="https://checkout.example/health")
    result = gateway_502("checkout", endpoint.url)
    pending = Row(endpoint=endpoint, state=State.PENDING, result=result)
    paused = replace(pending, state=State.PAUSED)
    assert pending.summary is not None and "nginx" in pending.summary
    assert paused.summary == pending.summary
    healthy = next(c for c in cases() if c.endpoint.name == "shop").result
    assert Row(endpoint=endpoint, state=State.PENDING, result=healthy).summary is None
    assert Row(endpoint=endpoint, state=State.PENDING).summary is None


# --------------------------------------------------------------------------- order


@pytest.mark.parametrize("mode", SORT_MODES)
def test_every_order_is_total_and_keeps_every_row(mode: SortMode) -> None:
    state, _ = board_state()
    rows = visible_rows(state.rows.values(), parse_query(""), mode)
    assert sorted(r.name for r in rows) == sorted(state.rows)
    again = visible_rows(reversed(list(state.rows.values())), parse_query(""), mode)
    assert [r.name for r in again] == [r.name for r in rows]


def test_orders_by_status_code_and_by_recent_failures() -> None:
    state, _ = board_state()
    by_code = visible_rows(state.rows.values(), parse_query(""), "code")
    assert by_code[0].name == "checkout" and by_code[0].status_code == 502
    failures = visible_rows(state.rows.values(), parse_query(""), "failures")
    assert failures[0].recent_failures == 8 and failures[-1].recent_failures == 0


# --------------------------------------------------------------------------- columns


def test_at_80_columns_state_name_and_verdict_always_fit() -> None:
    state, _ = board_state()
    columns = layout(80, needs(state.rows.values()))
    keys = [c.key for c, _ in columns]
    assert keys[:2] == ["state", "name"] and "verdict" in keys
    assert sum(w + 2 for _, w in columns) == 80
    assert dict((c.key, w) for c, w in columns)["verdict"] >= 36
    assert "url" not in keys and "hops" not in keys


def test_wider_terminals_add_columns_by_priority_and_the_url_last() -> None:
    wanted = {"name": 24, "verdict": 70, "url": 40}
    at_160 = [c.key for c, _ in layout(160, wanted)]
    assert {"code", "hops", "spark", "since"} <= set(at_160)
    at_240 = dict((c.key, w) for c, w in layout(240, wanted))
    assert at_240["url"] >= 40 and at_240["name"] == 24 and at_240["verdict"] >= 70


def test_names_get_what_they_need_up_to_a_cap() -> None:
    short = dict((c.key, w) for c, w in layout(160, {"name": 6, "verdict": 40}))
    long = dict((c.key, w) for c, w in layout(160, {"name": 80, "verdict": 40}))
    assert short["name"] == 8 and long["name"] == 28


def test_a_very_narrow_terminal_still_fits() -> None:
    columns = layout(40, {"name": 30, "verdict": 90})
    assert [c.key for c, _ in columns] == ["state", "name", "verdict"]
    assert sum(w + 2 for _, w in columns) <= 40


# --------------------------------------------------------------------------- sparkline


def test_failures_in_the_sparkline_stand_out_by_glyph_and_colour() -> None:
    palette = Palette.from_variables(dict(STATUS_DEFAULTS))
    look = CellLook(palette=palette, now=None, console=Console(no_color=True))
    samples = [
        Sample(total_ms=10.0 + i, hops=(None,) * 5, ok=i % 2 == 0) for i in range(8)
    ]
    text = spark(samples, look)
    assert text.plain[1::2] == "✖✖✖✖" and "✖" not in text.plain[::2]
    down = palette.styles["down"].color
    marks = [span for span in text.spans if text.plain[span.start:span.end] == "✖"]
    assert marks and all(down is not None and down == span.style.color for span in marks)  # type: ignore[union-attr]
    assert spark([], look).plain == "·" * 8


# --------------------------------------------------------------------------- checklist jobs


def test_check_queue_runs_one_at_a_time_in_order() -> None:
    jobs = CheckQueue()
    assert jobs.enqueue(["retry", "dns", "retry"]) == ["retry", "dns"]
    assert jobs.start_next() == "retry" and jobs.start_next() is None
    assert jobs.enqueue(["retry", "tls"]) == ["tls"]
    assert jobs.state("retry") == "running" and jobs.state("dns") == "queued"
    jobs.finished("retry")
    assert jobs.start_next() == "dns" and jobs.state("retry") is None


def test_engine_events_for_unknown_rows_are_ignored() -> None:
    state, _ = board_state()
    result = gateway_502("ghost", "https://ghost.example")
    assert not state.apply([ProbeCompleted("ghost", result, State.DOWN)])
