"""``gatewatch [WATCHLIST]`` and ``gatewatch demo``: the board, and the board over the lab.

Why here: building the board is composition (a watchlist, a monitor, the Textual app), and
the demo is the one place where the fault lab meets the UI; neither ``tui`` nor ``board``
knows the lab exists (import-linter keeps it so). Textual is imported only when a board
actually starts, so the headless commands never pay for it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from gatewatch import watchlist as wl

if TYPE_CHECKING:
    from gatewatch.board import News
    from gatewatch.lab import Lab
    from gatewatch.remote.watcher import RemoteWatcher
    from gatewatch.tui.app import GatewatchApp
    from gatewatch.watchlist.sources import Source

#: GIL hand-over interval for a process that hosts the board and the engine. Python's
#: default (5 ms) lets a busy UI thread hold the engine thread, woken by a socket, for up to
#: 5 ms, which lands in the hop being timed; at 1 ms bench/bench_tui.py measures no timing
#: error added by the board (Δp95 0.01 ms against 0.5 ms at the default).
SWITCH_INTERVAL = 0.001


def tune_process() -> None:
    """The monitor's GC settings (full collections stop every thread) and a short GIL
    switch interval, so the board costs the probes' timings nothing measurable. Process-wide:
    only for the real board, never in tests."""
    import sys

    from gatewatch.monitor.gctune import tune_gc

    tune_gc()
    sys.setswitchinterval(SWITCH_INTERVAL)


def skip_httpx_cli() -> None:
    """Mark httpx's command line absent before httpx is imported. httpx imports it when
    click is installed, and with it rich.syntax and pygments (~30 ms at start here, before
    the first frame); a board never runs it. Idempotent; nothing changes once httpx is in."""
    import sys

    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def run_board(watchlist_path: Path | None, *, workers: int | None = 0) -> int:
    """The board over a watchlist file (default: the user's).

    A missing file starts an empty board that saves there; a malformed one is reported
    with file, line and key on stderr and exits 2 without touching the file. ``workers``:
    probe worker processes (0: the engine's thread probes; None: the board's default for
    this watchlist, ``default_workers(board=True, endpoints=…)``).
    """
    import sys

    skip_httpx_cli()
    from gatewatch.monitor import Monitor, default_history_path
    from gatewatch.monitor.watchlist_check import load_checked
    from gatewatch.tui.app import GatewatchApp

    path = watchlist_path if watchlist_path is not None else wl.default_path()
    try:
        watchlist = load_checked(path)  # the same checks as `check` and `watch`
    except FileNotFoundError:
        watchlist = wl.Watchlist.empty(path)
    except wl.WatchlistError as exc:
        print(exc.describe_all(), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if workers is None:
        from gatewatch.monitor.workers import default_workers

        workers = default_workers(board=True, endpoints=watchlist.endpoints)
    try:
        monitor = Monitor(
            watchlist.endpoints,
            history=default_history_path(),
            alerts=watchlist.alerts,
            workers=workers,
        )
    except ValueError as exc:  # monitor settings in the file (down_after …) that don't parse
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    feeds: list[RemoteWatcher] = []
    app = GatewatchApp(
        watchlist,
        monitor,
        on_engine_started=tune_process,
        handle_signals=True,
        remote=remote_feed(watchlist.sources, feeds),
    )
    try:
        return app.run() or 0
    finally:
        for watcher in feeds:  # the app stops it on unmount; a crash must not leave it
            watcher.stop()


def remote_feed(
    sources: Sequence[Source], started: list[RemoteWatcher] | None = None
) -> Callable[[Callable[[News], None]], RemoteWatcher] | None:
    """What the app calls on mount to read the watchlist's ``[[source]]`` tables (None: no
    sources). Each watcher made is appended to ``started``, so the caller can stop it
    even when the app ends without unmounting."""
    if not sources:
        return None
    from gatewatch.remote.watcher import RemoteWatcher

    def build(on_event: Callable[[News], None]) -> RemoteWatcher:
        watcher = RemoteWatcher(sources, on_event)
        if started is not None:
            started.append(watcher)
        return watcher

    return build


def write_demo_watchlist(lab: Lab, folder: Path) -> wl.Watchlist:
    """A watchlist file of the lab's demo endpoints in ``folder``; returns it as saved.

    A real file, so adding, editing and saving work in the demo exactly as they will on
    the user's own watchlist."""
    from gatewatch.lab.demo import demo_endpoints

    watchlist = wl.Watchlist.empty(folder / "watchlist.toml")
    for endpoint in demo_endpoints(lab):
        watchlist = watchlist.with_endpoint(endpoint)
    return wl.save(watchlist)


def demo_app(lab: Lab, folder: Path, **options: Any) -> GatewatchApp:
    """The demo board over a running lab, its watchlist and history in ``folder``."""
    from gatewatch.monitor import Monitor
    from gatewatch.tui.app import GatewatchApp

    watchlist = write_demo_watchlist(lab, folder)
    monitor = Monitor(
        watchlist.endpoints, history=folder / "history.sqlite3", resolver_check_interval=10.0
    )
    return GatewatchApp(watchlist, monitor, **options)


def run_demo() -> int:
    """The fault lab in this process and the board over its endpoints."""
    import tempfile

    skip_httpx_cli()
    from gatewatch.lab import Lab

    with Lab() as lab, tempfile.TemporaryDirectory(prefix="gatewatch-demo-") as folder:
        app = demo_app(lab, Path(folder), on_engine_started=tune_process, handle_signals=True)
        return app.run() or 0


def cmd_board(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = Path(args.watchlist) if args.watchlist else None
    return run_board(path, workers=args.workers)  # None: decided with the watchlist in hand


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return run_demo()
