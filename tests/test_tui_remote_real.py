"""The board over a watchlist with a ``[[source]]``, against a real Prometheus.

Two gatewatch exporters (eu, us) scrape the same endpoints; us resolves the shop's name to
an address where nothing listens, so the shop fails from us only. A real Prometheus scrapes
both. The board loads a watchlist file whose ``[[source]]`` is that Prometheus, builds its
RemoteWatcher the way ``run_board`` does (:func:`gatewatch.cli.board.remote_feed`) and must
show the local shop's row with "1/2 ✖" in the Vantage column. Waits are bounded polls on
the board's state, never sleeps that count.
"""

from __future__ import annotations

import time
from pathlib import Path

from gatewatch import watchlist as wl
from gatewatch.cli.board import remote_feed
from gatewatch.lab import Lab
from gatewatch.model import Endpoint
from gatewatch.remote.watcher import RemoteWatcher
from gatewatch.tui.app import GatewatchApp
from prometheus_support import gatewatch_exporter, start_prometheus
from test_tui_samples import FakeEngine


async def test_the_board_shows_one_of_two_vantage_points_failing(
    lab: Lab, tmp_path: Path
) -> None:
    us_dns = lab.add_dns_server({"app.lab.test": ["127.0.0.2"]})
    shop = Endpoint(name="shop", url=lab.url("/ok", host="app.lab.test"), interval=1.0,
                    timeout=2.0)
    eu_list = [shop.replace(resolvers=(f"127.0.0.1:{lab.dns_port}",))]
    us_list = [shop.replace(resolvers=(f"127.0.0.1:{us_dns}",))]
    with (
        gatewatch_exporter(eu_list, tmp_path / "eu.sqlite") as eu,
        gatewatch_exporter(us_list, tmp_path / "us.sqlite") as us,
    ):
        config = (
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: gatewatch\n    static_configs:\n"
            f"      - targets: ['{eu.address}']\n        labels: {{region: eu}}\n"
            f"      - targets: ['{us.address}']\n        labels: {{region: us}}\n"
        )
        prometheus = start_prometheus(tmp_path / "prometheus", lambda _: config)
        try:
            path = tmp_path / "watchlist.toml"
            path.write_text(
                'version = 1\n\n[[endpoint]]\nname = "shop"\n'
                f'url = "{shop.url}"\n\n'
                '[[source]]\nname = "global"\nkind = "prometheus"\n'
                f'url = "{prometheus.url("").rstrip("/")}"\n'
                'vantage_label = "region"\ninterval = "500ms"\ntimeout = "5s"\n'
            )
            watchlist = wl.load(path)
            assert [s.name for s in watchlist.sources] == ["global"]
            started: list[RemoteWatcher] = []
            app = GatewatchApp(
                watchlist,
                FakeEngine(list(watchlist.endpoints)),  # the local probes are not the point
                config_dir=tmp_path / "config",
                start_engine=False,
                uptime_interval=3600,
                tick_interval=3600,
                user="alice",
                remote=remote_feed(watchlist.sources, started),
            )
            async with app.run_test(size=(160, 45)) as pilot:
                end = time.monotonic() + 60  # a failure bound: first samples take ~6 s
                while True:
                    remote = app.state.rows["shop"].remote
                    if remote is not None and remote.failing == ("us",) and len(
                        remote.vantages
                    ) == 2:
                        break
                    assert time.monotonic() < end, f"the board never saw us failing: {remote}"
                    await pilot.pause(0.2)
                await pilot.pause()
                table = app.board.table
                line = next(
                    table.render_line(y).text
                    for y in range(1, table.row_count + 1)
                    if " shop " in table.render_line(y).text
                )
                assert "1/2 ✖" in line, line
                assert not app.board.query_one("#banner-sources").has_class("-shown")
            (watcher,) = started
            assert not watcher.running  # the app stopped it when it ended
        finally:
            prometheus.stop()
