"""The board's pure parts, without an app: rows, order, filter, formats, themes, session."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gatewatch import watchlist as wl
from gatewatch.board import BoardState, Inbox, build_endpoint
from gatewatch.board.rows import (
    Row,
    parse_query,
    replay_rows,
    visible_rows,
)
from gatewatch.model import Endpoint
from gatewatch.monitor import History, LocalProblem, ProbeCompleted, State
from gatewatch.tui import format as fmt
from gatewatch.tui import theming
from gatewatch.tui.looks import hop_strip_compact, to_content
from gatewatch.tui.settings import Settings, load_settings, save_settings
from gatewatch.tui.widgets import waterfall
from test_tui_samples import NOW, FakeEngine, cases, healthy, messages, watchlist_for


def live_rows() -> BoardState:
    """The samples' board state; its watchlist is in memory (never saved)."""
    items = cases()
    endpoints = [c.endpoint for c in items]
    watchlist = wl.Watchlist.empty(None)
    for endpoint in endpoints:
        watchlist = watchlist.with_endpoint(endpoint)
    live = BoardState(watchlist, FakeEngine(endpoints))
    live.apply(messages(items))
    return live


# --------------------------------------------------------------------------- order and filter


def test_failing_first_then_healthy_then_quiet() -> None:
    rows = visible_rows(live_rows().rows.values(), parse_query(""), "state")
    assert [r.name for r in rows] == [
        "api",
        "checkout",
        "legacy",
        "billing",
        "partner",
        "search",
        "shop",
        "batch",
    ]


def test_sort_by_name_and_latency() -> None:
    rows = live_rows().rows.values()
    assert [r.name for r in visible_rows(rows, parse_query(""), "name")][:3] == [
        "api",
        "batch",
        "billing",
    ]
    slowest = visible_rows(rows, parse_query(""), "latency")
    assert slowest[0].name == "search"  # 240 ms
    assert slowest[-1].name == "batch"  # never probed: last


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("#payments", {"checkout", "billing"}),
        ("tag:prod state:down", {"checkout", "api"}),
        ("nginx", {"checkout"}),  # the verdict's summary is searched too
        ("SHOP.example", {"shop"}),
        ("state:paused", {"batch"}),
        ("zzz", set()),
    ],
)
def test_filter(query: str, expected: set[str]) -> None:
    rows = visible_rows(live_rows().rows.values(), parse_query(query), "state")
    assert {r.name for r in rows} == expected


def test_summary_only_for_unhealthy() -> None:
    live = live_rows()
    assert live.rows["shop"].summary is None
    assert live.rows["api"].summary == "api.example does not exist (NXDOMAIN)"


# --------------------------------------------------------------------------- live rows


def test_live_rows_keep_recent_samples_and_banners() -> None:
    live = live_rows()
    assert len(live.rows["shop"].samples) == 12
    assert live.rows["checkout"].state == State.DOWN
    assert live.rows["checkout"].since == NOW - timedelta(seconds=180)
    changes = live.apply([LocalProblem(True, "every resolver failed")])
    assert changes.banners and live.local_problem == "every resolver failed"
    live.apply([LocalProblem(False, "")])
    assert live.local_problem is None


def test_results_for_removed_endpoints_are_ignored() -> None:
    live = live_rows()
    live.delete("shop")
    changes = live.apply([ProbeCompleted("shop", healthy("shop", "https://x"), State.UP)])
    assert not changes and "shop" not in live.rows


def test_inbox_is_drained_in_order() -> None:
    inbox = Inbox()
    for message in messages(cases()[:2], probes=2):
        inbox.put(message)
    drained = inbox.drain()
    assert len(drained) == 6 and not inbox.drain()


def test_edit_and_rename_keep_history() -> None:
    live = live_rows()
    shop = live.rows["shop"].endpoint
    changes = live.edit("shop", shop.replace(interval=5.0))
    assert changes.endpoints == {"shop"} and not changes.removed
    assert len(live.rows["shop"].samples) == 12
    changes = live.edit("shop", shop.replace(name="shop2"))
    assert changes.removed == {"shop"} and changes.focus == "shop2"
    assert "shop" not in live.rows and len(live.rows["shop2"].samples) == 12
    assert live.rows["shop2"].endpoint.name == "shop2"


# --------------------------------------------------------------------------- replay


def test_replay_rows_from_history() -> None:
    history = History(":memory:").open()
    try:
        for case in cases():
            if case.result is not None:
                history.record_probe(case.result, case.state)
        assert history.flush()
        entries = history.state_at(NOW)
    finally:
        history.close()
    extra = Endpoint(name="new", url="https://new.example")
    rows = {r.name: r for r in replay_rows(entries, [c.endpoint for c in cases()] + [extra])}
    assert rows["checkout"].state == State.DOWN
    assert rows["checkout"].result is not None and rows["checkout"].result.status_code == 502
    assert rows["new"].state is None  # unknown then: NO DATA


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "   -"),
        (0.42, " 0.4"),
        (12.3, "  12"),
        (999.4, " 999"),
        (1234.0, "1.2s"),
        (12345, " 12s"),
    ],
)
def test_ms(value: float | None, text: str) -> None:
    assert fmt.ms(value) == text


def test_ago_and_percent() -> None:
    assert [fmt.ago(s) for s in (5, 125, 7300, 200000)] == ["5s", "2m", "2h", "2d"]
    assert (
        fmt.percent(100.0) == "100%" and fmt.percent(99.5) == "99.5%" and fmt.percent(None) == "-"
    )


def test_parse_moment() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert fmt.parse_moment("-15m", now) == now - timedelta(minutes=15)
    assert fmt.parse_moment("2h ago", now) == now - timedelta(hours=2)
    local = now.astimezone()
    clock = fmt.parse_moment(f"{local.hour:02d}:{local.minute:02d}", now)
    assert clock == local.replace(second=0, microsecond=0)
    later = (local + timedelta(hours=1)).strftime("%H:%M")
    assert fmt.parse_moment(later, now) < now  # a time still to come today means yesterday
    assert fmt.parse_moment("2026-11-24T03:12:00+00:00", now) == datetime(
        2026, 11, 24, 3, 12, tzinfo=UTC
    )
    for bad in ("", "25:00", "yesterday-ish", "15"):
        with pytest.raises(ValueError):
            fmt.parse_moment(bad, now)


# --------------------------------------------------------------------------- pictures


def test_hop_strip_has_symbols_and_times() -> None:
    result = cases()[1].result
    assert result is not None
    text = to_content(hop_strip_compact(result)).plain
    assert text == "✔ 1.2 ✔ 0.4 ✔ 4.1 ✔   - ✖  35"
    assert len(text) == 29


def test_waterfall_lists_hops_in_hop_order_and_bars_in_time_order() -> None:
    result = cases()[1].result
    assert result is not None
    lines = [to_content(line).plain for line in waterfall.lines(result, 100)]
    labels = [line.split()[0] for line in lines if line[:1] != " "]
    assert labels == ["dns", "tcp", "tls", "proxy", "upstream"]  # as everywhere else
    through = result.replace(
        hops=tuple(
            dataclasses.replace(h, ms=7.0) if h.name == "proxy" else h for h in result.hops
        )
    )
    bars = {bar.label: bar for bar in waterfall.bars(through)}
    # A CONNECT tunnel (forward proxy) happens before TLS: listed after it, drawn before.
    assert bars["proxy"].start_ms < bars["tls"].start_ms
    upstream = next(line for line in lines if line.startswith("upstream"))
    assert "✖ FAIL" in upstream and "35.1 ms" in upstream
    assert any("status 502 Bad Gateway" in line for line in lines)
    assert all(len(line) <= 100 for line in lines)


def test_track_scales_to_time() -> None:
    assert waterfall.track(0, 50, 100, 10) == (0, "█████")
    offset, bar = waterfall.track(50, 1, 100, 10)
    assert offset == 5 and bar == "▏"  # never less than one eighth of a cell


# --------------------------------------------------------------------------- themes


def test_shipped_themes_load_cleanly() -> None:
    loaded = theming.load_themes([theming.shipped_theme_dir()])
    names = {t.name for t in loaded.themes}
    assert {"gatewatch-dark", "gatewatch-light", "gatewatch-high-contrast"} <= names
    assert loaded.failures == ()
    for theme in loaded.themes:
        assert set(theming.STATUS_DEFAULTS) <= set(theme.variables)


def test_bad_theme_files_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('name = "broken"\nprimary = "#zzzzzz"\nbogus = 1\n')
    (tmp_path / "syntax.toml").write_text("name = \n")
    (tmp_path / "vars.toml").write_text(
        'name = "vars"\nprimary = "red"\n[variables]\nstatus-down = "not a colour"\n'
    )
    (tmp_path / "good.toml").write_text('name = "good"\nprimary = "#336699"\ndark = false\n')
    loaded = theming.load_themes([tmp_path, tmp_path / "missing"])
    assert [t.name for t in loaded.themes] == ["good"]
    assert len(loaded.failures) == 3
    broken = next(f for f in loaded.failures if f.startswith("broken.toml"))
    assert "primary: not a colour" in broken and "bogus: unknown key" in broken
    assert any("status-down" in f for f in loaded.failures)


def test_settings_round_trip_and_bad_file(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == (Settings(), None)
    assert save_settings(tmp_path, Settings(theme="gatewatch-light")) is None
    assert load_settings(tmp_path) == (Settings(theme="gatewatch-light"), None)
    (tmp_path / "tui.toml").write_text("theme = [")
    settings, problem = load_settings(tmp_path)
    assert settings == Settings() and problem is not None


# --------------------------------------------------------------------------- session


def test_session_edits_follow_the_watchlist_and_the_engine(tmp_path: Path) -> None:
    items = cases()
    watchlist = watchlist_for([c.endpoint for c in items], tmp_path / "watchlist.toml")
    engine = FakeEngine([c.endpoint for c in items])
    session = BoardState(watchlist, engine)
    assert not session.dirty
    session.add(Endpoint(name="new", url="https://new.example/health"))
    shop, api = watchlist.find("shop"), watchlist.find("api")
    assert shop is not None and api is not None
    session.edit("shop", shop.replace(interval=5.0))
    session.edit("api", api.replace(name="api2"))
    session.delete("batch")
    assert session.dirty
    assert [c[0] for c in engine.calls] == ["add", "update", "rename", "remove"]
    with pytest.raises(wl.WatchlistError):
        session.add(Endpoint(name="new", url="https://dup.example"))
    session.save()
    assert not session.dirty
    text = (tmp_path / "watchlist.toml").read_text()
    assert 'name = "new"' in text and 'name = "api2"' in text and "batch" not in text
    assert (tmp_path / "watchlist.toml.bak").exists()


def test_build_endpoint_uses_the_watchlists_defaults(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text('version = 1\n[defaults]\ninterval = "1m"\ndown_after = 3\n')
    watchlist = wl.load(path)
    endpoint = build_endpoint({"name": "x", "url": "https://x.example"}, watchlist)
    assert endpoint.interval == 60.0 and dict(endpoint.extra) == {}
    with pytest.raises(wl.WatchlistError):
        build_endpoint({"name": "x", "url": "ftp://x"}, watchlist)


def test_row_defaults() -> None:
    row = Row(endpoint=Endpoint(name="a", url="https://a"))
    assert row.state == State.PENDING and row.latency_ms is None and row.summary is None
