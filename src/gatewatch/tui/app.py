"""The Textual app: wiring only — screens, bindings, themes, and the engine's mailbox.

Threads (DESIGN.md, "Threads and time"): the engine probes in its own thread and loop and
calls our listener there; the listener only appends to an :class:`Inbox`. A timer on the
event loop drains it every ``refresh_interval`` seconds and hands the batch to the
screens, so a flood of results costs one redraw per tick and never blocks a key press.
Starting and stopping the engine and reading the history run in thread workers.

Entry points for the CLI: :func:`run_board` and :func:`run_demo`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen

from gatewatch import watchlist as wl
from gatewatch.monitor import History
from gatewatch.text import visible
from gatewatch.tui import keys, theming
from gatewatch.tui.commands import BoardCommands
from gatewatch.tui.live import Inbox, LiveRows
from gatewatch.tui.looks import Palette
from gatewatch.tui.screens.board import BoardScreen
from gatewatch.tui.screens.confirm import ChoiceScreen
from gatewatch.tui.screens.detail import DetailScreen
from gatewatch.tui.screens.help import HelpScreen
from gatewatch.tui.session import Engine, Session
from gatewatch.tui.settings import Settings, default_config_dir, load_settings, save_settings

if TYPE_CHECKING:
    from gatewatch.lab import Lab

UPTIME_WINDOW = 86400.0


class GatewatchApp(App[int]):
    """The board over one watchlist and one engine."""

    CSS_PATH = "gatewatch.tcss"
    TITLE = "gatewatch"
    BINDINGS: ClassVar[list[Binding]] = list(keys.APP)  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {BoardCommands}

    def __init__(
        self,
        watchlist: wl.Watchlist,
        engine: Engine,
        *,
        config_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        start_engine: bool = True,
        refresh_interval: float = 0.25,
        uptime_interval: float = 15.0,
        tick_interval: float = 5.0,
        tune_process: bool = False,
    ) -> None:
        super().__init__()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.engine = engine
        self.session = Session(watchlist, engine)
        self.live = LiveRows(watchlist.endpoints)
        self.inbox = Inbox()
        self.config_dir = config_dir or default_config_dir()
        self.start_engine = start_engine
        self.refresh_interval = refresh_interval
        self.uptime_interval = uptime_interval
        self.tick_interval = tick_interval
        #: Tune the process for exact timings once the engine runs (process-wide, so only
        #: for the real board, never in tests): see :func:`tune_process`.
        self.tune_process = tune_process
        self.palette = Palette.from_variables(theming.STATUS_DEFAULTS)
        self._engine_started = False
        self._unsubscribe: Callable[[], None] | None = None
        self._remembered_theme: str | None = None
        self._problems = self._register_themes()

    # ------------------------------------------------------------------ themes

    def _register_themes(self) -> list[str]:
        """Register shipped and user themes; pick the remembered one. Returns problems."""
        loaded = theming.load_themes(
            [theming.shipped_theme_dir(), theming.user_theme_dir(self.config_dir)]
        )
        for theme in loaded.themes:
            self.register_theme(theme)
        settings, problem = load_settings(self.config_dir)
        problems = list(loaded.failures) + ([problem] if problem else [])
        fallback = "gatewatch-high-contrast" if self.no_color else theming.DEFAULT_THEME
        wanted = settings.theme or fallback
        if wanted not in self.available_themes:
            if settings.theme:
                problems.append(f"theme {settings.theme!r} is not available; using the default")
            wanted = fallback if fallback in self.available_themes else "textual-dark"
        self._remembered_theme = wanted
        self.theme = wanted
        return problems

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theming.status_defaults(self.current_theme)

    def watch_theme(self, name: str) -> None:
        """Recolour the table, and remember a choice made while running (any way: palette,
        Textual's theme picker, code)."""
        self.call_next(self._theme_applied)
        if self.is_running and name != self._remembered_theme:
            self._remembered_theme = name
            self.run_worker(
                partial(self._remember_theme, name), thread=True, exclusive=True, group="settings"
            )

    def _remember_theme(self, name: str) -> None:
        problem = save_settings(self.config_dir, Settings(theme=name))
        if problem:
            self.call_from_thread(self.notify, visible(problem), severity="warning", markup=False)

    def _theme_applied(self) -> None:
        self.palette = Palette.from_variables(self.get_css_variables())
        board = self.screen_stack[0] if self.screen_stack else None
        if isinstance(board, BoardScreen):
            board.redraw()

    def use_theme(self, name: str) -> None:
        """Switch theme (remembered by ``watch_theme``)."""
        if name not in self.available_themes:
            self.notify(f"no theme named {visible(name)}", severity="error", markup=False)
            return
        self.theme = name

    # ------------------------------------------------------------------ screens

    def get_default_screen(self) -> Screen[Any]:
        return BoardScreen()

    @property
    def board(self) -> BoardScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    @property
    def history(self) -> History | None:
        return getattr(self.engine, "history", None)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def open_endpoint(self, name: str) -> None:
        row = self.live.rows.get(name)
        if row is not None:
            self.push_screen(DetailScreen(row))

    def open_checklist(self, name: str) -> None:
        """The troubleshooting checklist of ``name``, from its latest result."""
        from gatewatch.checklist.past import Past, from_history
        from gatewatch.tui.screens.checklist import ChecklistScreen

        row = self.live.rows.get(name)
        if row is None:
            return
        endpoint = self.session.watchlist.find(name) or row.endpoint
        history = self.history

        def past() -> Past:  # called by the checklist in a worker thread (SQLite blocks)
            assert history is not None
            return from_history(history, name, now=self.clock())

        provider = past if history is not None else None
        self.push_screen(ChecklistScreen(endpoint, row.result, provider))

    # ------------------------------------------------------------------ engine

    def on_mount(self) -> None:
        self._unsubscribe = self.engine.subscribe(self.inbox.put)
        self.board.on_live(self.live.load(self.engine.snapshot()))
        if self.start_engine:
            self.run_worker(self._start_engine, thread=True, group="engine")
        self.set_interval(self.refresh_interval, self.drain, name="drain")
        self.set_interval(self.uptime_interval, self.poll_uptimes, name="uptime")
        self.set_interval(self.tick_interval, self.tick, name="tick")
        self.call_after_refresh(self._theme_applied)
        if self._problems:
            self.notify(
                visible("\n".join(self._problems)),
                title="Some settings were not used",
                severity="warning",
                timeout=15,
                markup=False,
            )

    def _start_engine(self) -> None:
        try:
            self.engine.start()
        except Exception as exc:  # the board still shows the watchlist and the history
            reason = f"{exc}" + (f": {exc.__cause__}" if exc.__cause__ else "")
            self.call_from_thread(
                self.notify,
                visible(reason),
                title="The probe engine did not start",
                severity="error",
                timeout=30,
                markup=False,
            )
            return
        self._engine_started = True
        if self.tune_process:
            tune_process()
        self.call_from_thread(self.poll_uptimes)

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._engine_started:
            import asyncio

            await asyncio.to_thread(self.engine.stop)

    def drain(self) -> None:
        """Fold whatever the engine said since the last tick into the rows, then redraw."""
        messages = self.inbox.drain()
        if not messages:
            return
        changes = self.live.apply(messages)
        if not changes:
            return
        for screen in self.screen_stack:
            on_live = getattr(screen, "on_live", None)
            if on_live is not None:
                on_live(changes)
        for alert in changes.alerts:
            self.notify(visible(alert), severity="warning", markup=False)

    def tick(self) -> None:
        """Ages ("down for 3m") move on even when no result arrives."""
        self.board.refresh_board()

    def poll_uptimes(self) -> None:
        if self.history is not None:
            self.run_worker(self._read_uptimes, thread=True, exclusive=True, group="uptime")

    def _read_uptimes(self) -> None:
        history = self.history
        assert history is not None
        now = self.clock().timestamp()
        names = list(self.live.rows)
        try:
            known = history.uptime_all(UPTIME_WINDOW, now=now)  # one GROUP BY query
            uptimes: dict[str, float | None] = {name: known.get(name) for name in names}
        except Exception:  # the history reports its own failures (HistoryUnavailable)
            return
        self.call_from_thread(self._uptimes_read, uptimes)

    def _uptimes_read(self, uptimes: dict[str, float | None]) -> None:
        changed = self.live.set_uptimes(uptimes)
        if changed:
            self.board.refresh_board(changed)

    # ------------------------------------------------------------------ quitting

    async def action_quit(self) -> None:
        if not self.session.dirty:
            self.exit(0)
            return

        def answered(choice: str | None) -> None:
            if choice == "save":
                self.board.save(then=lambda: self.exit(0))
            elif choice == "discard":
                self.exit(0)

        body = Content("The watchlist has changes that are not saved.")
        choices = [
            ("save", "Save and quit", "primary"),
            ("discard", "Quit without saving", "error"),
            ("cancel", "Cancel", "default"),
        ]
        self.push_screen(ChoiceScreen("Unsaved changes", body, choices, focus="save"), answered)


# ---------------------------------------------------------------------- entry points

#: GIL hand-over interval for a process that hosts the board and the engine. Python's
#: default (5 ms) lets a busy UI thread hold the engine thread, woken by a socket, for up to
#: 5 ms, which lands in the hop being timed; at 1 ms bench/bench_tui.py measures no timing
#: error added by the board (Δp95 0.01 ms against 0.5 ms at the default).
SWITCH_INTERVAL = 0.001


def tune_process() -> None:
    """The monitor's GC settings (full collections stop every thread) and a short GIL
    switch interval, so the board costs the probes' timings nothing measurable."""
    import sys

    from gatewatch.monitor.gctune import tune_gc

    tune_gc()
    sys.setswitchinterval(SWITCH_INTERVAL)


def run_board(watchlist_path: Path | None) -> int:
    """``gatewatch [WATCHLIST]``: the board over a watchlist file (default: the user's).

    A missing file starts an empty board that saves there; a malformed one is reported
    with file, line and key on stderr and exits 2 without touching the file.
    """
    import sys

    from gatewatch.monitor import Monitor, default_history_path

    path = watchlist_path if watchlist_path is not None else wl.default_path()
    try:
        watchlist = wl.load(path)
    except FileNotFoundError:
        watchlist = wl.Watchlist.empty(path)
    except wl.WatchlistError as exc:
        print(exc.describe_all(), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        monitor = Monitor(
            watchlist.endpoints, history=default_history_path(), alerts=watchlist.alerts
        )
    except ValueError as exc:  # monitor settings in the file (down_after …) that don't parse
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    return GatewatchApp(watchlist, monitor, tune_process=True).run() or 0


def demo_app(lab: Lab, folder: Path, **options: Any) -> GatewatchApp:
    """The demo board over a running lab, its watchlist and history in ``folder``."""
    from gatewatch.monitor import Monitor
    from gatewatch.tui.demo import write_demo_watchlist

    watchlist = write_demo_watchlist(lab, folder)
    monitor = Monitor(
        watchlist.endpoints, history=folder / "history.sqlite3", resolver_check_interval=10.0
    )
    return GatewatchApp(watchlist, monitor, **options)


def run_demo() -> int:
    """``gatewatch demo``: the fault lab in this process and the board over its endpoints."""
    import tempfile

    from gatewatch.lab import Lab

    with Lab() as lab, tempfile.TemporaryDirectory(prefix="gatewatch-demo-") as folder:
        return demo_app(lab, Path(folder), tune_process=True).run() or 0
