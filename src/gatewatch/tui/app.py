"""The Textual app: wiring only — screens, bindings, themes, and the engine's mailbox.

Threads (DESIGN.md, "Threads and time"): the engine probes in its own thread (or process)
and calls our listener there; the listener appends to an :class:`~gatewatch.board.Inbox`
and posts an :class:`EngineNews` message, which is thread-safe and coalesced. At most every
``refresh_interval`` seconds the app folds the inbox into the
:class:`~gatewatch.board.BoardState` and posts :class:`BoardChanged` to the screens, so a
flood of results costs one redraw per tick and never blocks a key press. Starting and
stopping the engine and reading the history run in thread workers.

Screens are handed the state when they are built and never import this module; they ask
for other screens with messages (:class:`OpenDetail`, :class:`OpenChecklist`). The CLI
(:mod:`gatewatch.cli.board`) builds the app; nothing here knows the lab.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer

from gatewatch import watchlist as wl
from gatewatch.board import BoardState, Changes, Engine, Feed, Inbox, News
from gatewatch.checklist import ProgressStore
from gatewatch.text import visible
from gatewatch.tui import keys, theming
from gatewatch.tui.commands import BoardCommands
from gatewatch.tui.messages import (
    BoardChanged,
    Commanded,
    EngineNews,
    OpenChecklist,
    OpenDetail,
)
from gatewatch.tui.screens.board import BoardScreen
from gatewatch.tui.screens.confirm import ChoiceScreen
from gatewatch.tui.screens.detail import DetailScreen
from gatewatch.tui.screens.help import HelpScreen
from gatewatch.tui.settings import Settings, default_config_dir, load_settings, save_settings
from gatewatch.tui.signals import exit_on_signals
from gatewatch.tui.terminal import safe_driver_class

UPTIME_WINDOW = 86400.0


def current_user() -> str:
    """Who acknowledges from this board: ``$USER`` (or the login name)."""
    import getpass
    import os

    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # no USER and no passwd entry (a bare container)
        return "someone"


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
        checklists: ProgressStore | None = None,
        on_engine_started: Callable[[], None] | None = None,
        user: str | None = None,
        handle_signals: bool = False,
        remote: Callable[[Callable[[News], None]], Feed] | None = None,
    ) -> None:
        super().__init__()
        # A closed terminal must not hang the way out (gatewatch.tui.terminal).
        self.driver_class = safe_driver_class(self.driver_class)
        self.engine = engine
        self.state = BoardState(watchlist, engine, clock=clock, user=user or current_user())
        self.inbox = Inbox()
        #: The checklists' progress (marks, notes, results), shared by every checklist screen
        #: this app opens, so a check that finishes after its screen closed is not lost.
        self.checklists = checklists or ProgressStore()
        self.config_dir = config_dir or default_config_dir()
        self.start_engine = start_engine
        self.refresh_interval = refresh_interval
        self.uptime_interval = uptime_interval
        self.tick_interval = tick_interval
        #: Called in a worker thread once the engine runs (the CLI tunes the process there).
        self.on_engine_started = on_engine_started
        #: SIGTERM/SIGHUP end the app like `q` (the real board and demo; never in tests).
        self.handle_signals = handle_signals
        self._restore_signals: Callable[[], None] | None = None
        #: Builds the remote sources' watcher around our listener (``[[source]]``), if any.
        self.remote = remote
        self._feed: Feed | None = None
        self._engine_started = False
        self._unsubscribe: Callable[[], None] | None = None
        self._drain_timer: Timer | None = None
        self._remembered_theme: str | None = None
        self._problems = self._register_themes()
        # A misspelt key in the watchlist (it loaded, so these are warnings).
        self._problems += [visible(w.describe()) for w in watchlist.warnings]

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
        """Remember a choice made while running (any way: palette, Textual's theme picker,
        code). Screens recolour themselves on ``theme_changed_signal``."""
        if self.is_running and name != self._remembered_theme:
            self._remembered_theme = name
            self.run_worker(
                partial(self._remember_theme, name), thread=True, exclusive=True, group="settings"
            )

    def _remember_theme(self, name: str) -> None:
        problem = save_settings(self.config_dir, Settings(theme=name))
        if problem:
            self.call_from_thread(self.notify, visible(problem), severity="warning", markup=False)

    # ------------------------------------------------------------------ screens

    def get_default_screen(self) -> Screen[Any]:
        return BoardScreen(self.state, tick_interval=self.tick_interval)

    @property
    def board(self) -> BoardScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    @on(OpenDetail)
    def open_detail(self, message: OpenDetail) -> None:
        row = self.state.rows.get(message.name)
        if message.replay_at is not None:
            row = self.board.replayed_row(message.name)
        if row is not None:
            screen = DetailScreen(
                self.state, row, replay_at=message.replay_at, neighbour=self.board.neighbour
            )
            self.push_screen(screen)

    @on(OpenChecklist)
    def open_checklist(self, message: OpenChecklist) -> None:
        """The troubleshooting checklist of ``name``, from its latest result."""
        from gatewatch.checklist.past import Past, from_history
        from gatewatch.tui.screens.checklist import ChecklistScreen

        name = message.name
        row = self.state.rows.get(name)
        if row is None:
            return
        if row.remote_only:  # its URL may be unknown here; the checks would probe from here
            self.notify(
                f"{visible(name)} is only known to a remote source: no checklist from here",
                markup=False,
            )
            return
        endpoint = self.state.find(name) or row.endpoint
        history = self.state.history
        now = self.state.now

        def past() -> Past:  # called by the checklist in a worker thread (SQLite blocks)
            assert history is not None
            return from_history(history, name, now=now())

        provider = past if history is not None else None
        self.push_screen(
            ChecklistScreen(endpoint, row.result, provider, store=self.checklists, board=self.state)
        )

    # ------------------------------------------------------------------ engine

    def on_mount(self) -> None:
        if self.handle_signals:
            self._restore_signals = exit_on_signals(self.exit)
        self._unsubscribe = self.engine.subscribe(self._heard)
        self.broadcast(self.state.load(self.engine.snapshot()))
        if self.remote is not None:  # its own thread; its events join the engine's inbox
            self._feed = self.remote(self._heard)
            self._feed.start()
        if self.start_engine:
            self.run_worker(self._start_engine, thread=True, group="engine")
        self.set_interval(self.uptime_interval, self.poll_uptimes, name="uptime")
        if self._problems:
            self.notify(
                visible("\n".join(self._problems)),
                title="Some settings were not used",
                severity="warning",
                timeout=15,
                markup=False,
            )

    def _heard(self, message: News) -> None:
        """The engine's (and remote sources') listener, on their thread: queue, and ring
        only when the inbox was empty (a message posted from another thread wakes the UI's
        loop; one ring per drain is enough, since the drain takes everything queued)."""
        if self.inbox.put(message):
            self.post_message(EngineNews())

    @on(EngineNews)
    def _news(self) -> None:
        """Drain at most every ``refresh_interval``: one redraw per tick in a flood."""
        if self._drain_timer is None:
            self._drain_timer = self.set_timer(self.refresh_interval, self.drain, name="drain")

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
        if self.on_engine_started is not None:
            self.on_engine_started()
        self.call_from_thread(self.poll_uptimes)

    async def on_unmount(self) -> None:
        if self._restore_signals is not None:
            self._restore_signals()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._feed is not None:
            import asyncio

            await asyncio.to_thread(self._feed.stop)
        if self._engine_started:
            import asyncio

            await asyncio.to_thread(self.engine.stop)

    def drain(self) -> None:
        """Fold whatever the engine said since the last tick into the state, then tell."""
        if self._drain_timer is not None:
            self._drain_timer.stop()  # called directly (tests): the pending tick has no work
            self._drain_timer = None
        messages = self.inbox.drain()
        if messages:
            self.broadcast(self.state.apply(messages))

    def broadcast(self, changes: Changes) -> None:
        """Tell every screen what changed; alerts that failed become warnings."""
        if not changes:
            return
        for screen in self.screen_stack:
            screen.post_message(BoardChanged(changes))
        for notice in changes.notices:
            self.notify(notice, markup=False)
        for alert in changes.alerts:
            self.notify(alert, severity="warning", markup=False)

    @on(Commanded)
    def _commanded(self, message: Commanded) -> None:
        self.broadcast(message.changes)

    def poll_uptimes(self) -> None:
        if self.state.history is not None:
            self.run_worker(self._read_uptimes, thread=True, exclusive=True, group="uptime")

    def _read_uptimes(self) -> None:
        history = self.state.history
        assert history is not None
        now = self.state.now().timestamp()
        names = list(self.state.rows)
        try:
            known = history.uptime_all(UPTIME_WINDOW, now=now)  # one GROUP BY query
            uptimes: dict[str, float | None] = {name: known.get(name) for name in names}
        except Exception:  # the history reports its own failures (HistoryUnavailable)
            return
        self.call_from_thread(lambda: self.broadcast(self.state.set_uptimes(uptimes)))

    # ------------------------------------------------------------------ quitting

    async def action_quit(self) -> None:
        if not self.state.dirty:
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
