"""Remote vantage points on the board's state, without an app: rows change only from the
RemoteWatcher's events (through the same ``apply`` as the engine's), a local endpoint carries
its remote summary, endpoints only a source knows get rows of their own, sources that fail
become a banner, and the Vantage column has its place in the layout."""

from __future__ import annotations

from rich.console import Console

from gatewatch import watchlist as wl
from gatewatch.board import BoardState
from gatewatch.board import remote as rm
from gatewatch.board.rows import ordered
from gatewatch.model import Endpoint
from gatewatch.monitor import State
from gatewatch.tui.looks import Palette
from gatewatch.tui.theming import STATUS_DEFAULTS
from gatewatch.tui.widgets.board_cells import CELLS, CellLook, layout, needs
from remote_board_samples import changed, cleared, problem, remote_row
from test_tui_samples import FakeEngine, cases, clock, messages


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


def look() -> CellLook:
    return CellLook(Palette.from_variables(dict(STATUS_DEFAULTS)), clock(), Console())


def test_a_local_row_carries_its_remote_summary_and_keeps_its_own_state() -> None:
    state, _ = board_state()
    before = state.rows["checkout"]
    changes = state.apply([changed(remote_row("checkout", failing=("us",), ok=("eu",)))])
    row = state.rows["checkout"]
    assert changes.results == {"checkout"} and not changes.endpoints
    assert row.state == before.state == State.DOWN and row.result is before.result
    assert row.remote is not None and row.remote.failing == ("us",)
    assert rm.cell(row.remote) == "1/2 ✖"
    assert not row.remote_only and "checkout" in state.watchlist.names


def test_a_remote_endpoint_named_by_the_local_url_matches_too() -> None:
    state, _ = board_state()
    url = state.rows["shop"].endpoint.url  # a /probe scrape names it by its instance: the URL
    state.apply([changed(remote_row(url, ok=("eu", "us")))])
    assert state.rows["shop"].remote is not None and url not in state.rows
    assert rm.cell(state.rows["shop"].remote) == "2 ok"


def test_vantage_down_is_not_target_failing() -> None:
    row = remote_row("shop", ok=("us",), down=("eu",))
    assert row.state == "vantage_down" and not row.failing
    assert rm.cell(row) == "vantage down (eu)"
    both = remote_row("shop", failing=("us",), ok=("ap",), down=("eu",))
    assert rm.cell(both) == "1/3 ✖ +1 down"


def test_the_same_endpoint_from_two_sources_is_one_row_of_their_vantage_points() -> None:
    state, _ = board_state()
    state.apply([
        changed(remote_row("checkout", "eu", ok=("eu",))),
        changed(remote_row("checkout", "us", failing=("us",))),
    ])
    remote = state.rows["checkout"].remote
    assert remote is not None and remote.source == "eu+us"
    assert [v.vantage for v in remote.vantages] == ["eu", "us"]
    assert rm.cell(remote) == "1/2 ✖"


def test_an_endpoint_only_a_source_knows_gets_a_row_marked_remote() -> None:
    state, engine = board_state()
    changes = state.apply([changed(remote_row("partner-eu", failing=("eu",), ok=("us",)))])
    row = state.rows["partner-eu"]
    assert changes.endpoints == {"partner-eu"}
    assert row.remote_only and row.state is None and state.find("partner-eu") is None
    assert row.summary == "remote only · 1 of 2 failing (eu)"
    # Failing from a vantage point sorts it among the failing, not after the paused.
    names = [r.name for r in ordered(state.rows.values(), "state")]
    assert names.index("partner-eu") < names.index("shop")
    # Nothing to pause, probe or acknowledge here; the engine is not asked.
    calls = list(engine.calls)
    for notices in (
        state.toggle_pause("partner-eu").notices,
        state.probe_now("partner-eu").notices,
        state.acknowledge("partner-eu", "on it").notices,
    ):
        assert notices and "only known to a remote source" in notices[0]
    assert engine.calls == calls
    # Added to the watchlist, it becomes a local row that keeps its vantage points.
    state.add(Endpoint(name="partner-eu", url="https://partner-eu.example/ok"))
    added = state.rows["partner-eu"]
    assert not added.remote_only and added.remote is not None
    assert added.remote.failing == ("eu",)
    # Deleted again, the source still knows it: back as a remote-only row.
    gone = state.delete("partner-eu")
    assert state.rows["partner-eu"].remote_only and "partner-eu" in gone.endpoints


def test_a_source_problem_is_a_banner_until_it_clears() -> None:
    state, _ = board_state()
    state.apply([changed(remote_row("checkout", failing=("us",), ok=("eu",)))])
    changes = state.apply([problem("eu", "http://prom.eu:9090: cannot connect")])
    assert changes.banners and set(state.source_problems) == {"eu"}
    assert state.source_banner() == "eu: http://prom.eu:9090: cannot connect"
    assert state.rows["checkout"].remote is not None  # rows keep what the source said last
    assert state.apply([cleared("eu")]).banners and state.source_banner() is None


def test_the_source_banner_makes_control_characters_visible() -> None:
    state, _ = board_state()
    state.apply([problem("eu\x1b[2J", "bad\x1b]0;owned\x07 [/] json", "bad_json")])
    banner = state.source_banner()
    assert banner is not None and "\x1b" not in banner and "\x07" not in banner
    assert "[/]" in banner and "␛" in banner


def test_the_vantage_column_shows_at_160_columns_and_gives_way_at_80() -> None:
    state, _ = board_state()
    without = needs(state.rows.values())
    assert "vantage" not in [c.key for c, _ in layout(160, without)]  # no source: no column
    state.apply([
        changed(remote_row("checkout", failing=("us",), ok=("eu",))),
        changed(remote_row("partner-eu", ok=("us",), down=("eu",))),
    ])
    wanted = needs(state.rows.values())
    wide = layout(160, wanted)
    assert "vantage" in [c.key for c, _ in wide] and sum(w + 2 for _, w in wide) == 160
    assert dict((c.key, w) for c, w in wide)["vantage"] >= len("vantage down (eu)")
    narrow = [c.key for c, _ in layout(80, wanted)]
    assert "vantage" not in narrow and {"state", "name", "verdict"} <= set(narrow)
    draw = CELLS["vantage"][0]
    assert draw(state.rows["checkout"], look()).plain == "1/2 ✖"
    assert draw(state.rows["partner-eu"], look()).plain == "vantage down (eu)"
    assert draw(state.rows["shop"], look()).plain == ""


def test_the_remote_summary_survives_the_engine_reloading_its_snapshot() -> None:
    state, engine = board_state()
    state.apply([changed(remote_row("checkout", failing=("us",), ok=("eu",)))])
    state.load(engine.snapshot())
    assert state.rows["checkout"].remote is not None


def test_timings_are_hops_from_a_gatewatch_exporter_and_phases_from_blackbox() -> None:
    gatewatch = remote_row("shop", failing=("us",), ok=("eu",))
    views = {v.vantage: v for v in gatewatch.vantages}
    assert views["us"].timing_kind == "hop"
    assert views["us"].timings == (("dns", 1.5), ("tcp", 0.5), ("tls", 0.0), ("upstream", 7.0))
    blackbox = remote_row("shop", ok=("eu",), blackbox=True)
    (view,) = blackbox.vantages
    assert view.verdict is None and view.timing_kind == "phase"
    assert [name for name, _ in view.timings] == [
        "resolve", "connect", "tls", "processing", "transfer"
    ]
    down = remote_row("shop", ok=("us",), down=("eu",))
    assert {v.vantage: v.timings for v in down.vantages}["eu"] == ()  # nothing known


def test_run_board_reads_sources_only_when_the_watchlist_has_them() -> None:
    from gatewatch.cli.board import remote_feed
    from gatewatch.remote.watcher import RemoteWatcher
    from gatewatch.watchlist.sources import Source

    assert remote_feed(()) is None
    started: list[RemoteWatcher] = []
    build = remote_feed([Source("eu", "http://127.0.0.1:9")], started)
    assert build is not None
    watcher = build(lambda event: None)
    assert started == [watcher] and not watcher.running  # the app starts it on mount
