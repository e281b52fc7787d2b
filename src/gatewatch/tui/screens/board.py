"""The board: every endpoint on one screen, failing first, live, with its hop strip.

Why it is built this way:

- Rows come from the :class:`~gatewatch.board.BoardModel` handed in at construction (or,
  in replay, from the history's ``state_at``); order and filter are pure functions
  (:mod:`gatewatch.board.rows`); the table (:class:`BoardTable`) redraws only what changed
  and keeps the cursor on its row.
- Commands go to the state (add, edit, delete, pause, probe now, save), which returns what
  changed; rows change when the engine answers (:class:`BoardChanged`), so the board shows
  what the engine did, not what was asked.
- Disk and history work runs in thread workers; nothing here blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from gatewatch.board import BoardModel, Changes
from gatewatch.board.rows import (
    SORT_MODES,
    Row,
    SortMode,
    parse_query,
    replay_rows,
    visible_rows,
)
from gatewatch.model import format_time
from gatewatch.monitor import State
from gatewatch.tui import keys, theming
from gatewatch.tui.looks import Palette
from gatewatch.tui.messages import BoardChanged, Commanded, OpenChecklist, OpenDetail
from gatewatch.tui.screens import board_lines as lines
from gatewatch.tui.screens.board_edits import EditActions, acknowledge_endpoint
from gatewatch.tui.screens.replay_prompt import ReplayPrompt
from gatewatch.tui.widgets.banner import Banner
from gatewatch.tui.widgets.board_cells import CellLook
from gatewatch.tui.widgets.board_table import BoardTable

#: Orders that a new result (not only a state change) can change.
MOVES_WITH_RESULTS = frozenset({"code", "latency", "failures", "uptime", "since", "verdict"})
#: Actions that need a selected endpoint; those that change it are off in replay.
NEEDS_ROW = {"detail", "edit", "delete", "pause", "probe_now", "checklist", "acknowledge"}
LIVE_ONLY = {"edit", "delete", "add", "pause_all", "checklist"}
#: Keys that cannot apply to the past: in replay they say so instead of doing nothing.
NOT_IN_REPLAY = {
    "probe_now": "replay shows the past: nothing to probe (esc returns to live)",
    "pause": "replay shows the past: nothing to pause (esc returns to live)",
    "acknowledge": "replay shows the past: acknowledge live (esc returns to live)",
}
FILTER_DELAY = 0.15


class BoardScreen(EditActions, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(keys.BOARD)

    sort_mode: reactive[SortMode] = reactive("state", init=False)
    query_text: reactive[str] = reactive("", init=False)

    def __init__(self, state: BoardModel, *, tick_interval: float = 5.0) -> None:
        super().__init__(id="board-screen")
        self.state = state
        self.tick_interval = tick_interval
        self.palette = Palette.from_variables(theming.STATUS_DEFAULTS)
        self.replay_at: datetime | None = None
        self._replay: list[Row] = []
        self._filter_timer: Timer | None = None
        self._lines: dict[Static, tuple[str, object]] = {}
        # The screen keeps its widgets rather than querying for them: results drained
        # while the screen is being composed or torn down (a loaded machine widens both
        # windows) then update a detached widget, harmlessly, instead of raising NoMatches.
        self.table = BoardTable(id="board")
        self._banner_replay = Banner(id="banner-replay", classes="banner")
        self._banner_local = Banner(id="banner-local", classes="banner")
        self._banner_history = Banner(id="banner-history", classes="banner")
        self._banner_sources = Banner(id="banner-sources", classes="banner")
        self._inspector = Static(id="inspector")
        self._empty = Static(id="empty-board")
        self._status_line = Static(id="status-line")

    def compose(self) -> ComposeResult:
        yield self._banner_replay
        yield self._banner_local
        yield self._banner_history
        yield self._banner_sources
        yield Input(
            placeholder="filter: text, #tag, state:down   (enter: keep, esc: clear)",
            id="filter",
            compact=True,
        )
        yield self._empty
        yield self.table
        yield self._inspector
        yield self._status_line
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._recolour())
        self._recolour()
        self.table.focus()
        # Ages ("down for 3m") move on even when no result arrives.
        self.set_interval(self.tick_interval, self.refresh_board, name="tick")

    def _recolour(self) -> None:
        """The theme's colours, once its CSS variables are in place; every cell again."""

        def recolour() -> None:
            self.palette = Palette.from_variables(self.app.get_css_variables())
            self.update_banners()
            self.refresh_board()
            self.redraw()

        self.call_after_refresh(recolour)

    # ------------------------------------------------------------------ drawing

    def rows(self) -> list[Row]:
        source = self._replay if self.replay_at is not None else self.state.rows.values()
        return visible_rows(source, parse_query(self.query_text), self.sort_mode)

    def look(self) -> CellLook:
        now = self.replay_at if self.replay_at is not None else self.state.now()
        return CellLook(palette=self.palette, now=now, console=self.app.console)

    def refresh_board(self, changed: set[str] | None = None, *, reorder: bool = True) -> None:
        """Show the rows; ``changed`` limits redrawing to those endpoints (None: check all).

        ``reorder=False`` keeps the listed order (no state changed, so failing-first and
        by-name orders still hold): no sorting a thousand rows for every batch.
        """
        if not self.is_mounted:
            return  # on_mount draws everything there is
        live = self.state.rows
        order = self.table.order
        if reorder or self.replay_at is not None or len(order) != len(live):
            rows = self.rows()
        else:
            rows = [live[name] for name in order if name in live]
        self.table.present(rows, self.look(), changed)
        self.update_status(rows)
        self.update_inspector()

    def redraw(self) -> None:
        """Every cell again (the theme changed)."""
        if self.is_mounted:
            self.table.redraw_all(self.rows(), self.look())
            self.update_inspector()

    @on(BoardChanged)
    def _board_changed(self, message: BoardChanged) -> None:
        self.show_changes(message.changes)

    def show_changes(self, changes: Changes) -> None:
        """Redraw what ``changes`` touched."""
        if not self.is_mounted:
            return  # on_mount draws everything there is
        if changes.banners:
            self.update_banners()
        if self.replay_at is None and (changes.names or changes.removed):
            # Only a state change moves a row in failing-first order; slowest-first moves
            # with every result; a filter may match differently after any change.
            reorder = (
                changes.reorders
                or self.sort_mode in MOVES_WITH_RESULTS
                or bool(self.query_text)
            )
            self.refresh_board(changes.names, reorder=reorder)
        else:
            self.update_status()
        if changes.focus is not None and self.replay_at is None:
            self.table.restore_cursor(changes.focus)

    def update_banners(self) -> None:
        self._banner_local.show(lines.local_banner(self.state.local_problem))
        self._banner_history.show(lines.history_banner(self.state.history_failure))
        self._banner_sources.show(lines.source_banner(self.state.source_banner()))
        self._banner_replay.show(lines.replay_banner(self.replay_at))
        self.set_class(self.replay_at is not None, "-replay")

    def update_empty(self) -> None:
        """A first run: say which file was looked for, and how to see the board at work."""
        empty = not self.state.rows and self.replay_at is None
        self._empty.display = empty
        if empty:
            path = self.state.watchlist.path
            missing = path is not None and not Path(path).exists()  # a stat, on a first run
            self._empty.update(lines.first_run(path, missing=missing))

    def update_status(self, rows: list[Row] | None = None) -> None:
        self.update_empty()
        if rows is None:
            rows = self.rows()
        total = len(self._replay) if self.replay_at is not None else len(self.state.rows)
        text = lines.status(
            rows,
            total,
            replaying=self.replay_at is not None,
            query=self.query_text,
            dirty=self.state.dirty,
            sort_mode=self.sort_mode,
            history_in_memory=self.state.history_failure is not None,
            alerts_undelivered=self.state.alerts_undelivered,
        )
        self.set_line(self._status_line, text)

    def update_inspector(self) -> None:
        self.set_line(self._inspector, lines.inspector(self.selected_row(), self.state.now()))

    def set_line(self, line: Static, content: Content) -> None:
        """Update a one-line Static only when it changes, and without a layout pass (its
        height is fixed): with a thousand endpoints this runs on every batch of results."""
        if self._lines.get(line) == (content.plain, content.spans):
            return
        self._lines[line] = (content.plain, content.spans)
        line.update(content, layout=False)

    def selected_row(self) -> Row | None:
        name = self.table.highlighted_name
        if name is None:
            return None
        if self.replay_at is not None:
            return self.replayed_row(name)
        return self.state.rows.get(name)

    def neighbour(self, name: str, step: int) -> Row | None:
        """The row ``step`` places from ``name`` in the board's order (wrapping), with the
        cursor moved there, so ``esc`` from the detail lands on the endpoint last shown."""
        order = self.table.order
        if not order:
            return None
        here = order.index(name) if name in order else -1
        target = order[(here + step) % len(order)]
        self.table.restore_cursor(target)
        if self.replay_at is not None:
            return self.replayed_row(target)
        return self.state.rows.get(target)

    def replayed_row(self, name: str) -> Row | None:
        """``name``'s row in the replay on show (None when not replaying)."""
        return next((r for r in self._replay if r.name == name), None)

    @on(BoardTable.Highlighted)
    def _highlighted(self) -> None:
        self.update_inspector()

    @on(BoardTable.Selected)
    def _selected(self) -> None:
        self.action_detail()

    def watch_sort_mode(self) -> None:
        self.table.set_sort(self.sort_mode)
        self.refresh_board()

    @on(BoardTable.SortBy)
    def _sort_by(self, message: BoardTable.SortBy) -> None:
        self.action_sort(message.sort)

    def watch_query_text(self) -> None:
        self.refresh_board()

    # ------------------------------------------------------------------ filter

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        value = event.value
        self._filter_timer = self.set_timer(
            FILTER_DELAY, lambda: setattr(self, "query_text", value)
        )

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self.query_text = event.value
        box = self.query_one("#filter", Input)
        box.display = bool(event.value)
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if self._filter_timer is not None:
            self._filter_timer.stop()
        box.value = ""
        box.display = False
        self.query_text = ""
        self.table.focus()

    def action_back(self) -> None:
        """esc: first the filter, then replay."""
        box = self.query_one("#filter", Input)
        if box.has_focus or self.query_text:
            self.action_clear_filter()
        elif self.replay_at is not None:
            self.action_live()

    # ------------------------------------------------------------------ order and cursor

    def action_cycle_sort(self) -> None:
        self.sort_mode = SORT_MODES[(SORT_MODES.index(self.sort_mode) + 1) % len(SORT_MODES)]

    def action_sort(self, mode: str) -> None:
        for known in SORT_MODES:
            if mode == known:
                self.sort_mode = known

    def action_cursor(self, where: str) -> None:
        table = self.table
        moves: dict[str, Callable[[], None]] = {
            "down": table.action_cursor_down,
            "up": table.action_cursor_up,
            "top": lambda: table.move_cursor(row=0),
            "bottom": lambda: table.move_cursor(row=max(0, table.row_count - 1)),
        }
        moves[where]()
        # Now, not on the table's Highlighted message: the inspector then changes in the
        # cursor's frame instead of the next one (at 60 frames a second a frame that was
        # just drawn makes the next key wait for the following one).
        self.update_inspector()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LIVE_ONLY and self.replay_at is not None:
            return None
        if action in NEEDS_ROW and self.table.highlighted_name is None:
            return None
        return True

    # ------------------------------------------------------------------ engine commands

    def action_detail(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.post_message(OpenDetail(row.name, self.replay_at))

    def action_checklist(self) -> None:
        if (name := self.table.highlighted_name) is not None:
            self.post_message(OpenChecklist(name))

    def action_pause(self) -> None:
        if self._in_replay("pause"):
            return
        if (name := self.table.highlighted_name) is not None:
            self.toggle_pause(name)

    def toggle_pause(self, name: str) -> None:
        self.post_message(Commanded(self.state.toggle_pause(name)))

    def action_pause_all(self) -> None:
        rows = self.state.rows.values()
        if any(r.state != State.PAUSED for r in rows):
            self.action_pause_all_now()
        else:
            self.action_resume_all_now()

    def action_pause_all_now(self) -> None:
        self.post_message(Commanded(self.state.pause_all()))

    def action_resume_all_now(self) -> None:
        self.post_message(Commanded(self.state.resume_all()))

    def _in_replay(self, action: str) -> bool:
        if self.replay_at is None:
            return False
        self.notify(NOT_IN_REPLAY[action], severity="warning")
        return True

    def action_acknowledge(self) -> None:
        if self._in_replay("acknowledge"):
            return
        if (name := self.table.highlighted_name) is not None:
            acknowledge_endpoint(self, self.state, name)

    def action_probe_now(self) -> None:
        if self._in_replay("probe_now"):
            return
        if (name := self.table.highlighted_name) is not None:
            self.post_message(Commanded(self.state.probe_now(name)))

    # ------------------------------------------------------------------ replay

    def action_replay(self) -> None:
        if self.state.history is None:
            self.notify("no history to replay from", severity="warning")
            return

        def chosen(moment: datetime | None) -> None:
            if moment is not None:
                self._load_replay(moment)

        self.app.push_screen(ReplayPrompt(self.state.now), chosen)

    @work(thread=True, exclusive=True, group="replay")
    def _load_replay(self, moment: datetime) -> None:
        history = self.state.history
        assert history is not None
        try:
            entries = history.state_at(moment)
        except Exception as exc:
            self.app.call_from_thread(self._save_failed, f"replay failed: {exc}")
            return
        rows = replay_rows(entries, self.state.watchlist.endpoints)
        self.app.call_from_thread(self.show_replay, moment, rows)

    def show_replay(self, moment: datetime, rows: list[Row]) -> None:
        keep = self.table.highlighted_name
        self.replay_at = moment
        self._replay = rows
        self.update_banners()
        self.refresh_board()
        self.table.restore_cursor(keep)
        self.refresh_bindings()
        self.notify(f"replaying {format_time(moment)}; esc returns to live")

    def action_live(self) -> None:
        if self.replay_at is None:
            return
        keep = self.table.highlighted_name
        self.replay_at = None
        self._replay = []
        self.update_banners()
        self.refresh_board()
        self.table.restore_cursor(keep)
        self.refresh_bindings()
