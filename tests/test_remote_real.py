"""Remote vantage points end to end: real Prometheus, two gatewatch exporters, `watch --json`.

eu and us each run ``gatewatch exporter`` over the same watchlist; us resolves the shop's
name to an address where nothing listens, so the shop fails from us only. A real
Prometheus scrapes both (and a blackbox_exporter through its README config). ``gatewatch
watch --json`` reads that Prometheus as a ``[[source]]`` and must print the rows, the
"k of n" summary, vantage down when the us exporter stops, and a source problem when
Prometheus itself goes away. Every wait is a bounded poll on the output, never a sleep.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

from gatewatch.cli.watch import run_watch
from gatewatch.lab import Lab
from gatewatch.model import Endpoint
from gatewatch.watchlist.sources import Source
from prometheus_support import gatewatch_exporter, start_blackbox, start_prometheus
from test_exporter_real import BLACKBOX_CONFIG, README_SCRAPE_CONFIG

Record = dict[str, Any]


class _Lines:
    """``watch --json`` output, written by the watch thread and read by the test."""

    def __init__(self) -> None:
        self._buffer = StringIO()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            return self._buffer.write(text)

    def flush(self) -> None:
        return

    def records(self) -> list[Record]:
        with self._lock:
            text = self._buffer.getvalue()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def wait_for(self, what: str, match: Callable[[Record], bool], deadline: float = 60) -> Record:
        end = time.monotonic() + deadline
        while True:
            for record in self.records():
                if match(record):
                    return record
            if time.monotonic() > end:
                raise AssertionError(f"watch --json never printed {what}; got {self.records()}")
            time.sleep(0.1)


def _remote(endpoint: str, **wanted: object) -> Callable[[Record], bool]:
    def match(record: Record) -> bool:
        return (
            record.get("type") == "remote"
            and record.get("endpoint") == endpoint
            and all(record.get(k) == v for k, v in wanted.items())
        )

    return match


def test_watch_json_shows_remote_rows_k_of_n_vantage_down_and_source_problems(
    lab: Lab, tmp_path: Path
) -> None:
    us_dns = lab.add_dns_server({"app.lab.test": ["127.0.0.2"]})
    shop = Endpoint(name="shop", url=lab.url("/ok", host="app.lab.test"), interval=1.0,
                    timeout=2.0)
    plain = Endpoint(name="plain", url=lab.url("/ok"), interval=1.0, timeout=2.0)
    eu_list = [shop.replace(resolvers=(f"127.0.0.1:{lab.dns_port}",)), plain]
    us_list = [shop.replace(resolvers=(f"127.0.0.1:{us_dns}",)), plain]
    blackbox = start_blackbox(tmp_path / "blackbox", BLACKBOX_CONFIG)
    stop_watch = threading.Event()
    lines = _Lines()
    try:
        with (
            gatewatch_exporter(eu_list, tmp_path / "eu.sqlite") as eu,
            gatewatch_exporter(us_list, tmp_path / "us.sqlite") as us,
        ):
            jobs = (
                "  - job_name: gatewatch\n    static_configs:\n"
                f"      - targets: ['{eu.address}']\n        labels: {{region: eu}}\n"
                f"      - targets: ['{us.address}']\n        labels: {{region: us}}\n"
                + README_SCRAPE_CONFIG.format(
                    target=plain.url, exporter=f"127.0.0.1:{blackbox.ports['http']}"
                )
            )
            config = (
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                f"scrape_configs:\n{jobs}"
            )
            prometheus = start_prometheus(tmp_path / "prometheus", lambda _: config)
            source = Source(
                "global", prometheus.url("").rstrip("/"), vantage_label="region",
                timeout=5.0, interval=0.5,
            )
            watch = threading.Thread(
                target=run_watch,
                args=([], None),
                kwargs={"json_lines": True, "history_path": tmp_path / "watch.sqlite",
                        "out": lines, "stop": stop_watch, "gc_tuning": False,
                        "sources": [source]},
                daemon=True,
            )
            watch.start()
            try:
                partial = lines.wait_for(
                    "the shop failing from us only, with us's verdict",
                    lambda r: _remote("shop", state="partial")(r)
                    and any(v["vantage"] == "us" and v["verdict"] for v in r["vantages"]),
                )
                assert partial["failing"] == ["us"] and partial["down"] == []
                assert partial["summary"] == "1 of 2 failing (us)"
                views = {v["vantage"]: v for v in partial["vantages"]}
                assert views["us"]["verdict"]["cause"] == "network"
                assert views["us"]["verdict"]["kind"] == "refused"
                assert {"name": "tcp", "status": "fail"} in views["us"]["hops"]
                assert views["eu"]["state"] == "ok"
                lines.wait_for("plain ok everywhere", _remote("plain", state="ok",
                                                              summary="0 of 2 failing"))
                # blackbox_exporter: named by its target URL, no verdict (unknown).
                plain_bb = lines.wait_for("the blackbox row", _remote(plain.url))
                assert plain_bb["vantages"][0]["verdict"] is None

                us.stop()  # the us vantage point stops reporting: vantage down, not failing
                down = lines.wait_for(
                    "us vantage down", _remote("plain", state="vantage_down", down=["us"])
                )
                assert down["failing"] == []
                assert down["summary"] == "0 of 2 failing · 1 vantage down (us)"
                reason = {v["vantage"]: v["reason"] for v in down["vantages"]}["us"]
                assert reason.startswith("up == 0 (job=gatewatch")
                shop_down = lines.wait_for("shop: us down", _remote("shop", down=["us"]))
                assert shop_down["failing"] == [] and shop_down["state"] == "vantage_down"
            finally:
                prometheus.stop()
            problem = lines.wait_for(
                "a source problem",
                lambda r: r.get("type") == "source_problem" and r.get("active") is True,
            )
            assert problem["source"] == "global" and problem["kind"] == "refused"
    finally:
        stop_watch.set()
        blackbox.stop()
    watch.join(15)
    assert not watch.is_alive()
