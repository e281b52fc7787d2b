"""The board's watchlist actions: add, edit, delete (through the session) and save.

Why a mixin of its own: these are the actions that change the file the engineer owns, with
their confirmations and the conflict prompt; keeping them apart keeps ``board.py`` about
showing the board. Saving runs in a thread worker (fsync can take a while on a busy disk).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.content import Content

from gatewatch import watchlist as wl
from gatewatch.model import Endpoint
from gatewatch.text import visible
from gatewatch.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from gatewatch.tui.screens.endpoint_form import EndpointForm

if TYPE_CHECKING:
    from textual.screen import Screen

    from gatewatch.tui.app import GatewatchApp
    from gatewatch.tui.widgets.board_table import BoardTable

    _Base = Screen[None]
else:
    _Base = object


class EditActions(_Base):
    """Add, edit, delete and save, for :class:`gatewatch.tui.screens.board.BoardScreen`."""

    if TYPE_CHECKING:

        @property
        def gw(self) -> GatewatchApp: ...

        table: BoardTable

        def refresh_board(self, changed: set[str] | None = None) -> None: ...

        def update_status(self) -> None: ...

    def action_add(self) -> None:
        def added(endpoint: Endpoint | None) -> None:
            if endpoint is None:
                return
            try:
                self.gw.session.add(endpoint)
            except (wl.WatchlistError, ValueError) as exc:
                self.notify(visible(str(exc)), title="not added", severity="error", markup=False)
                return
            self.gw.live.put_endpoint(endpoint)
            self.refresh_board()
            self.table.restore_cursor(endpoint.name)
            self.notify(f"added {visible(endpoint.name)} (ctrl+s saves)", markup=False)

        self.app.push_screen(EndpointForm(self.gw.session.watchlist), added)

    def action_edit(self) -> None:
        if (name := self.table.highlighted_name) is not None:
            self.edit(name)

    def edit(self, name: str, then: Callable[[str | None], None] | None = None) -> None:
        original = self.gw.session.watchlist.find(name)
        if original is None:
            return

        def edited(endpoint: Endpoint | None) -> None:
            if endpoint is None:
                if then:
                    then(None)
                return
            try:
                self.gw.session.edit(name, endpoint)
            except (wl.WatchlistError, ValueError, KeyError) as exc:
                self.notify(visible(str(exc)), title="not changed", severity="error", markup=False)
                return
            self.gw.live.put_endpoint(endpoint, old_name=name)
            self.refresh_board()
            self.table.restore_cursor(endpoint.name)
            self.notify(f"changed {visible(endpoint.name)} (ctrl+s saves)", markup=False)
            if then:
                then(endpoint.name)

        self.app.push_screen(EndpointForm(self.gw.session.watchlist, original), edited)

    def action_delete(self) -> None:
        name = self.table.highlighted_name
        if name is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.gw.session.delete(name)
            except (KeyError, wl.WatchlistError) as exc:
                self.notify(visible(str(exc)), severity="error", markup=False)
                return
            self.gw.live.remove(name)
            self.refresh_board()
            self.notify(f"deleted {visible(name)} (ctrl+s saves)", markup=False)

        body = Content.assemble(
            ("Stop monitoring ", ""),
            (visible(name), "bold"),
            (" and remove it from the watchlist?", ""),
        )
        self.app.push_screen(
            ConfirmScreen("Delete endpoint", body, yes="Delete", danger=True), answered
        )

    # ------------------------------------------------------------------ saving

    def action_save(self) -> None:
        self.save()

    def save(self, *, force: bool = False, then: Callable[[], None] | None = None) -> None:
        if self.gw.session.watchlist.path is None:
            self.notify("this watchlist has no file to save to", severity="error")
            return
        self._save_worker(force, then)

    @work(thread=True, exclusive=True, group="save")
    def _save_worker(self, force: bool, then: Callable[[], None] | None) -> None:
        try:
            saved = self.gw.session.save(force=force)
        except wl.WatchlistConflict as exc:
            self.app.call_from_thread(self._conflict, exc, then)
            return
        except (wl.WatchlistError, OSError) as exc:
            self.app.call_from_thread(self._save_failed, str(exc))
            return
        self.app.call_from_thread(self._saved, str(saved.path), then)

    def _saved(self, path: str, then: Callable[[], None] | None) -> None:
        self.update_status()
        self.notify(f"saved {visible(path)} (previous version in .bak)", markup=False)
        if then is not None:
            then()

    def _save_failed(self, reason: str) -> None:
        self.notify(visible(reason), title="not saved", severity="error", markup=False, timeout=10)

    def _conflict(self, exc: wl.WatchlistError, then: Callable[[], None] | None) -> None:
        def answered(choice: str | None) -> None:
            if choice == "overwrite":
                self.save(force=True, then=then)

        body = Content.assemble(
            (visible(str(exc.path)), "bold"),
            (
                " changed on disk since it was loaded. Overwrite it?"
                " (the current file is kept as .bak)",
                "",
            ),
        )
        choices = [("overwrite", "Overwrite", "error"), ("cancel", "Cancel", "default")]
        self.app.push_screen(
            ChoiceScreen("Watchlist changed on disk", body, choices, focus="cancel"), answered
        )
