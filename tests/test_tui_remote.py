"""Remote vantage points on the board, through Pilot: the Vantage column, the inspector at
80 columns, the detail's "Vantage points" section, the source-problem banner, and labels
from someone else's Prometheus shown literally (``[/]`` is text, ESC is made visible).

The remote feed is a fake with the RemoteWatcher's shape; its events are sent from a thread
of their own, as the watcher sends them, and reach the board through the app's inbox.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.widgets import Static

from gatewatch.board import News
from gatewatch.tui.app import GatewatchApp
from gatewatch.tui.screens.detail import DetailScreen
from gatewatch.tui.widgets.banner import Banner
from remote_board_samples import changed, cleared, problem, remote_row
from test_tui_samples import FakeEngine, cases, messages, quiet_app, watchlist_for


class FakeFeed:
    """What the app needs of a RemoteWatcher: start, stop, and events through a callback."""

    def __init__(self, on_event: Callable[[News], None]) -> None:
        self.on_event = on_event
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped = True

    def send(self, events: Iterable[News]) -> None:
        """From a thread of its own, as the watcher does; returns once they are sent."""
        thread = threading.Thread(target=lambda: [self.on_event(e) for e in events])
        thread.start()
        thread.join()


def make_app(tmp_path: Path) -> tuple[GatewatchApp, FakeEngine, list[FakeFeed]]:
    items = cases()
    endpoints = [c.endpoint for c in items]
    engine = FakeEngine(endpoints)
    feeds: list[FakeFeed] = []

    def remote(on_event: Callable[[News], None]) -> FakeFeed:
        feeds.append(FakeFeed(on_event))
        return feeds[-1]

    watchlist = watchlist_for(endpoints, tmp_path / "watchlist.toml")
    app = quiet_app(watchlist, engine, tmp_path, tick_interval=3600, user="alice", remote=remote)
    return app, engine, feeds


def table_lines(app: GatewatchApp) -> list[str]:
    table = app.board.table
    return [table.render_line(y).text for y in range(table.row_count + 1)]


def line_of(app: GatewatchApp, name: str) -> str:
    return next(line for line in table_lines(app) if f" {name} " in line)


def text_of(static: Static) -> str:
    return str(static.render())


REMOTE = [
    changed(remote_row("checkout", failing=("us",), ok=("eu",))),
    changed(remote_row("shop", ok=("us",), down=("eu",))),
    changed(remote_row("partner-eu", failing=("eu",), ok=("us",), blackbox=True)),
]


async def test_the_vantage_column_at_160_and_the_inspector_at_80(tmp_path: Path) -> None:
    app, engine, feeds = make_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        (feed,) = feeds
        assert feed.started
        engine.publish(messages(cases()))
        feed.send(REMOTE)
        app.drain()
        await pilot.pause()
        table = app.board.table
        assert "vantage" in table.columns
        assert "Vantage" in table_lines(app)[0]
        assert "1/2 ✖" in line_of(app, "checkout")
        assert "vantage down (eu)" in line_of(app, "shop")
        remote_only = line_of(app, "partner-eu")
        assert "◌ REMOTE" in remote_only and "remote only · 1 of 2 failing (eu)" in remote_only
        assert "1/2 ✖" in remote_only

        status = text_of(app.board.query_one("#status-line", Static))
        assert "✖ 2 failing remotely  ◌ 1 vantage down" in status
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "vantage" not in table.columns
        table.restore_cursor("checkout")
        await pilot.pause()
        inspector = text_of(app.board.query_one("#inspector", Static))
        assert "remote: 1 of 2 failing (us)" in inspector
    assert feed.stopped  # the app stops its feed when it ends


async def test_the_detail_lists_each_vantage_point(tmp_path: Path) -> None:
    app, engine, feeds = make_app(tmp_path)
    async with app.run_test(size=(120, 60)) as pilot:
        engine.publish(messages(cases()))
        feeds[0].send(REMOTE)
        app.drain()
        await pilot.pause()
        app.board.table.restore_cursor("checkout")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        section = app.screen.query_one("#detail-vantages", Static)
        assert section.display
        text = text_of(section)
        assert "1 of 2 failing (us)" in text
        assert "us  ✖ TARGET FAILING" in text and "eu  ✔ ok" in text
        assert "verdict backend/upstream_refused  by nginx" in text
        assert "hops  ✔ dns 1.5 ms  ✔ tcp 0.50 ms  · tls  ✖ upstream 7.0 ms" in text
        assert "    verdict healthy\n" in text  # not "healthy/none by none"
        await pilot.press("escape")

        app.board.table.restore_cursor("partner-eu")  # a plain blackbox_exporter: phases
        await pilot.pause()
        inspector = text_of(app.board.query_one("#inspector", Static))
        assert inspector == "◌ partner-eu  — remote only · 1 of 2 failing (eu)"
        await pilot.press("enter")
        await pilot.pause()
        text = text_of(app.screen.query_one("#detail-vantages", Static))
        assert "verdict unknown" in text and "phases  resolve 1.5 ms" in text
        assert "processing 7.0 ms" in text
        verdict = text_of(app.screen.query_one("#detail-verdict", Static))
        assert "only a remote source knows this endpoint" in verdict
        head = text_of(app.screen.query_one("#detail-head", Static))
        assert head.startswith("◌ REMOTE  partner-eu  only known to global")
        await pilot.press("escape")

        app.board.table.restore_cursor("shop")
        await pilot.press("enter")
        await pilot.pause()
        text = text_of(app.screen.query_one("#detail-vantages", Static))
        assert "eu  ◌ VANTAGE DOWN  up == 0 (job=gatewatch)" in text
        assert "the prober stopped reporting" in text


async def test_a_failing_source_is_a_banner_and_hostile_labels_stay_text(tmp_path: Path) -> None:
    app, engine, feeds = make_app(tmp_path)
    hostile = "eu[/]\x1b[31m"
    async with app.run_test(size=(160, 45)) as pilot:
        engine.publish(messages(cases()))
        feeds[0].send([
            changed(remote_row("checkout", failing=(hostile,), ok=("us",))),
            changed(remote_row("[b]x[/b]\x1b]0;t\x07", ok=("us",), down=(hostile,))),
            problem("eu[/]", "http://prom.eu:9090: answered 200 without the API's JSON [/]\x1b[2J",
                    "bad_json"),
        ])
        app.drain()
        await pilot.pause()
        banner = app.board.query_one("#banner-sources", Banner)
        assert banner.shown
        said = text_of(banner)
        assert "SOURCE PROBLEM" in said and "eu[/]: http://prom.eu:9090" in said
        assert "[/]␛[2J" in said and "\x1b" not in said
        lines = table_lines(app)
        assert not any("\x1b" in line or "\x07" in line for line in lines)
        assert any("[b]x[/b]␛]0;t␇" in line for line in lines)
        assert "vantage down (eu[/]␛[…" in "\n".join(lines)  # 22 cells at most

        app.board.table.restore_cursor("checkout")
        await pilot.press("enter")
        await pilot.pause()
        text = text_of(app.screen.query_one("#detail-vantages", Static))
        assert "eu[/]␛[31m  ✖ TARGET FAILING" in text and "\x1b" not in text
        await pilot.press("escape")

        feeds[0].send([cleared("eu[/]")])
        app.drain()
        await pilot.pause()
        assert not app.board.query_one("#banner-sources", Banner).shown
