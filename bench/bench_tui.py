"""Benchmark the board: 1,000 endpoints being probed, what does the UI cost?

    PYTHONPATH=src python bench/bench_tui.py                  # the full run (~2 min)
    PYTHONPATH=src python bench/bench_tui.py --quick          # 200 endpoints, short phases
    PYTHONPATH=src python bench/bench_tui.py --json out.json  # also write the numbers

Three numbers, and how each is taken:

1. Time to first frame: from constructing the app (watchlist already parsed) to the first
   frame the compositor produces with all rows in the table; the engine starts at the same
   time, as in ``gatewatch``. Goal < 1 s.
2. Key-to-screen latency while results stream in: ``j`` (cursor down) is posted every
   ``--key-gap`` seconds; the latency is the time until the first frame is produced in which
   the table's cursor is on the new row. Goal p95 < 50 ms.
3. Timing error the UI adds to probes: the same endpoints are probed headless (the engine
   alone, a subscriber that only appends) and then with the board (same engine settings,
   keys being pressed); for endpoints whose server waits a known ``/delay/D``, the upstream
   hop's measured time minus D is the timing error. The UI's cost is the difference of the
   two distributions (p50, p95) and of the engine's lateness. Goal Δp95 < 1 ms.

Honesty notes: the app runs headless (no terminal), so Textual skips writing escape
sequences; this script adds that cost back by rendering every frame's segments to a string
(``CompositorUpdate.render_segments``), which is what a terminal write would cost minus
the write itself. The lab runs in a separate process (``python -m gatewatch.lab --json``).
Exit status 0 when every goal is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labproc import start_lab, stop_lab
from textual import events

from gatewatch import watchlist as wl
from gatewatch.cli.board import tune_process
from gatewatch.monitor import Monitor, ProbeCompleted
from gatewatch.monitor.stats import percentile
from gatewatch.monitor.workers import default_workers
from gatewatch.probe import Prober
from gatewatch.tui.app import GatewatchApp

GOALS = {"first_frame_s": 1.0, "key_p95_ms": 50.0, "timing_error_delta_p95_ms": 1.0}
SIZE = (160, 50)


# --------------------------------------------------------------------------- lab and endpoints


def watchlist_text(ports: dict[str, Any], count: int, interval: float, delay_ms: int) -> str:
    """A mix like a real board: most fast, a fifth with a known delay, some https, some broken."""
    host = ports["host"]
    http = f"http://{host}:{ports['http_port']}"
    https = f"https://{host}:{ports['https_ports']['valid']}"
    lines = ["version = 1", "", "[defaults]", f'interval = "{interval:g}s"', 'timeout = "5s"', ""]
    for i in range(count):
        kind = i % 10
        if kind in (0, 5):
            url = f"{http}/delay/{delay_ms}"
        elif kind == 3:
            url = f"{https}/ok"
        elif kind == 7 and i % 20 == 7:
            url = f"{http}/status/502"
        else:
            url = f"{http}/ok"
        lines += ["[[endpoint]]", f'name = "ep-{i:04d}"', f'url = "{url}"']
        if url.startswith("https"):
            lines.append(f'ca_bundle = "{ports["ca_bundle"]}"')
        lines.append(f'tags = ["{"slow" if "delay" in url else "fast"}"]')
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- collecting


@dataclass
class Collected:
    """Appended to on the engine thread; read after the phase."""

    delay_ms: int
    errors: list[float] = field(default_factory=list)
    lateness: list[float] = field(default_factory=list)
    probes: int = 0
    #: Failed probes by "hop/kind" (the lab's /status/502 endpoints fail by design).
    failures: dict[str, int] = field(default_factory=dict)

    def __call__(self, message: object) -> None:
        if not isinstance(message, ProbeCompleted):
            return
        self.probes += 1
        self.lateness.append(message.lateness_ms)
        result = message.result
        failed = result.failed_hop
        if not result.ok and failed is not None:
            label = f"{failed.name}/{failed.kind}"
            self.failures[label] = self.failures.get(label, 0) + 1
        upstream = result.hop("upstream").ms
        if result.ok and upstream is not None and "/delay/" in result.url:
            self.errors.append(upstream - self.delay_ms)


def pcts(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else None,
    }


def new_monitor(
    watchlist: wl.Watchlist, folder: Path, name: str, args: argparse.Namespace
) -> Monitor:
    return Monitor(
        watchlist.endpoints,
        # Workers build their own Prober (no proxies: main() clears them from the env).
        prober=None if args.workers else Prober(environ={}),
        history=folder / f"{name}.sqlite3",
        resolver_check=None,
        concurrency=args.concurrency,
        workers=args.workers,
    )


# --------------------------------------------------------------------------- phases


def headless_phase(watchlist: wl.Watchlist, folder: Path, args: argparse.Namespace) -> Collected:
    got = Collected(args.delay_ms)
    monitor = new_monitor(watchlist, folder, "headless", args)
    monitor.start()
    # Warm-up: every endpoint is probed at once on start, then joins its spread grid
    # within 1.5 intervals.
    time.sleep(1.5 * args.interval)
    monitor.subscribe(got)
    time.sleep(args.duration)
    monitor.stop()
    return got


@dataclass
class Frames:
    """Every frame the compositor produced: (time, cursor row)."""

    times: list[tuple[float, int]] = field(default_factory=list)
    first_full: float | None = None
    full: asyncio.Event = field(default_factory=asyncio.Event)


def instrument(app: GatewatchApp, frames: Frames, rows: int) -> None:
    """Record frames, and pay for the terminal output a headless app skips."""
    original: Callable[..., None] = app._display

    def display(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        if renderable is None:
            return
        render_segments = getattr(renderable, "render_segments", None)
        if render_segments is not None:
            render_segments(app.console)
        now = time.perf_counter()
        board = app.screen_stack[0] if app.screen_stack else None
        table = getattr(board, "table", None) if board is not None and board.is_mounted else None
        if table is None:
            return
        if frames.first_full is None and table.row_count >= rows:
            frames.first_full = now
            frames.full.set()
        frames.times.append((now, table.cursor_row))

    # Instrumentation: this one instance's method is wrapped on purpose.
    app._display = display  # type: ignore[method-assign]


async def ui_phase(
    watchlist: wl.Watchlist, folder: Path, args: argparse.Namespace
) -> tuple[Collected, float, list[float], dict[str, Any]]:
    got = Collected(args.delay_ms)
    monitor = new_monitor(watchlist, folder, "ui", args)
    frames = Frames()
    count = len(watchlist.endpoints)
    t0 = time.perf_counter()
    app = GatewatchApp(watchlist, monitor, config_dir=folder / "config")
    instrument(app, frames, count)
    drains: list[float] = []
    drain = app.drain

    def timed_drain() -> None:
        start = time.perf_counter()
        drain()
        drains.append((time.perf_counter() - start) * 1000)

    app.drain = timed_drain  # type: ignore[method-assign]  # timed on purpose, this instance only
    latencies: list[float] = []
    async with app.run_test(size=SIZE, headless=True) as pilot:
        await frames.full.wait()
        assert frames.first_full is not None
        first_frame = frames.first_full - t0
        await asyncio.sleep(1.5 * args.interval)  # warm-up, as headless
        monitor.subscribe(got)
        table = app.board.table
        deadline = time.monotonic() + args.duration
        while time.monotonic() < deadline:
            target = table.cursor_row + 1
            if target >= table.row_count:
                table.move_cursor(row=0)
                await pilot.pause()
                continue
            seen = len(frames.times)
            sent = time.perf_counter()
            app.post_message(events.Key("j", "j"))
            while True:
                await asyncio.sleep(0.001)
                hit = next((t for t, row in frames.times[seen:] if row == target), None)
                if hit is not None:
                    latencies.append((hit - sent) * 1000)
                    break
                if time.perf_counter() - sent > 2:
                    latencies.append(2000.0)
                    break
            await asyncio.sleep(args.key_gap)
        extra = {"drain_ms": pcts(drains), "frames": len(frames.times)}
    return got, first_frame, latencies, extra


# --------------------------------------------------------------------------- report


def run(args: argparse.Namespace) -> dict[str, Any]:
    lab, ports = start_lab()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            path = folder / "watchlist.toml"
            path.write_text(watchlist_text(ports, args.endpoints, args.interval, args.delay_ms))
            watchlist = wl.load(path)
            headless = headless_phase(watchlist, folder, args)
            ui, first_frame, keys, extra = asyncio.run(ui_phase(watchlist, folder, args))
    finally:
        stop_lab(lab)
    e_head, e_ui = pcts(headless.errors), pcts(ui.errors)
    l_head, l_ui = pcts(headless.lateness), pcts(ui.lateness)

    def delta(a: dict[str, float | None], b: dict[str, float | None], key: str) -> float | None:
        before, after = a[key], b[key]
        return None if before is None or after is None else after - before

    report = {
        "endpoints": args.endpoints,
        "interval_s": args.interval,
        "probes_per_s": args.endpoints / args.interval,
        "first_frame_s": first_frame,
        "key_to_screen_ms": pcts(keys),
        "timing_error_ms": {"headless": e_head, "ui": e_ui},
        "timing_error_delta_ms": {
            "p50": delta(e_head, e_ui, "p50"),
            "p95": delta(e_head, e_ui, "p95"),
        },
        "lateness_ms": {"headless": l_head, "ui": l_ui},
        "probes": {"headless": headless.probes, "ui": ui.probes},
        "failures": {"headless": headless.failures, "ui": ui.failures},
        **extra,
        "switch_interval_s": sys.getswitchinterval(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    key_p95 = report["key_to_screen_ms"]["p95"]
    err_p95 = report["timing_error_delta_ms"]["p95"]
    report["goals"] = {
        "first_frame_s": first_frame < GOALS["first_frame_s"],
        "key_p95_ms": key_p95 is not None and key_p95 < GOALS["key_p95_ms"],
        "timing_error_delta_p95_ms": err_p95 is not None
        and err_p95 < GOALS["timing_error_delta_p95_ms"],
    }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between probes")
    parser.add_argument("--duration", type=float, default=40.0, help="seconds measured per phase")
    parser.add_argument("--delay-ms", type=int, default=20)
    parser.add_argument("--key-gap", type=float, default=0.05, help="seconds between keys")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="probe worker processes, as the board's --workers (default: the board's, one "
        "per core but one; 0: the engine's thread probes, sharing the GIL with the UI)",
    )
    parser.add_argument("--quick", action="store_true", help="200 endpoints, 5 s interval, 15 s")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="GIL switch interval for both phases (default: the board's, 1 ms)",
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    if args.workers is None:
        args.workers = default_workers(board=True)
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        os.environ.pop(name, None)  # loopback targets, and workers inherit the environment
    if args.quick:
        args.endpoints, args.interval, args.duration = 200, 5.0, 15.0
    # Both phases run tuned as the board runs (run_board → tune_process); --switch-interval
    # overrides the GIL interval for both, e.g. 0.005 for Python's default.
    tune_process()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    report = run(args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if all(report["goals"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
