"""The board over the real engine and real servers: results cross from the engine thread.

These run the Monitor (its own thread and loop) against the loopback lab, so pause, probe
now and the demo are checked on the wire, not against a fake.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from gatewatch.cli.board import demo_app
from gatewatch.lab import Lab
from gatewatch.model import Endpoint
from gatewatch.monitor import Monitor, State
from gatewatch.tui.app import GatewatchApp
from test_tui_samples import watchlist_for

SIZE = (120, 36)


async def until(pilot: Pilot[int], condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


async def test_live_results_pause_and_probe_now_on_the_wire(lab: Lab, tmp_path: Path) -> None:
    resolvers = (f"{lab.host}:{lab.dns_port}",)
    endpoints = [
        Endpoint(name="ok", url=lab.url("/ok"), interval=0.5, timeout=2),
        Endpoint(name="bad", url=lab.url("/status/502"), interval=60, timeout=2),
        Endpoint(
            name="nx",
            url=f"http://nx.lab.test:{lab.http_port}/ok",
            resolvers=resolvers,
            interval=0.5,
            timeout=2,
        ),
    ]
    watchlist = watchlist_for(endpoints, tmp_path / "watchlist.toml")
    monitor = Monitor(
        watchlist.endpoints, history=tmp_path / "history.sqlite3", resolver_check=None
    )
    app = GatewatchApp(watchlist, monitor, config_dir=tmp_path / "config", refresh_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        rows = app.state.rows
        await until(pilot, lambda: rows["ok"].result is not None and rows["nx"].result is not None)
        assert rows["ok"].result is not None and rows["ok"].result.ok
        nx = rows["nx"].result
        assert nx is not None and nx.hop("dns").kind == "nxdomain"

        # probe now: "bad" is due only within the next minute, so its result is ours
        app.board.table.restore_cursor("bad")
        await pilot.press("r")
        await until(pilot, lambda: rows["bad"].result is not None)
        bad = rows["bad"].result
        assert bad is not None and bad.status_code == 502 and bad.verdict is not None
        assert app.board.table.order[-1] == "ok"  # healthy last

        # pause: the engine says PAUSED, and probes stop
        app.board.table.restore_cursor("ok")
        await pilot.press("p")
        await until(pilot, lambda: rows["ok"].state == State.PAUSED)
        count = len(rows["ok"].samples)
        await asyncio.sleep(1.2)
        await pilot.pause()
        assert len(rows["ok"].samples) == count
        await pilot.press("p")
        await until(pilot, lambda: len(rows["ok"].samples) > count)
    assert not monitor.running  # the app stopped the engine it started


async def test_demo_shows_every_lesson_within_seconds(lab: Lab, tmp_path: Path) -> None:
    app = demo_app(lab, tmp_path, config_dir=tmp_path / "config", refresh_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        rows = app.state.rows
        await until(pilot, lambda: all(r.result is not None for r in rows.values()), 15)
        results = {name: row.result for name, row in rows.items()}

        def hop(name: str, hop_name: str) -> tuple[str, str | None]:
            result = results[name]
            assert result is not None
            found = result.hop(hop_name)
            return found.status, found.kind

        assert results["shop"] is not None and results["shop"].ok
        assert hop("api (DNS)", "dns") == ("fail", "nxdomain")
        assert hop("legacy (cert expired)", "tls")[0] == "fail"
        assert hop("billing (cert expiring)", "tls") == ("warn", "expiring_soon")
        checkout, partner = results["checkout (gateway 502)"], results["partner (rate limited)"]
        assert checkout is not None and partner is not None
        assert checkout.status_code == 502
        assert checkout.origin is not None
        assert partner.status_code == 429
        slow = results["search (slow)"]
        assert slow is not None
        slow_ms = slow.hop("upstream").ms
        assert slow_ms is not None and slow_ms > 1000
        # saving works: the demo's watchlist is a real file
        app.board.table.restore_cursor("shop")
        await pilot.press("ctrl+d", "y", "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "shop" not in (tmp_path / "watchlist.toml").read_text()
