"""The board's watchlist actions: add, edit, delete and save, through the board's state.

Why a mixin of its own: these are the actions that change the file the engineer owns, with
their confirmations and the conflict prompt; keeping them apart keeps ``board.py`` about
showing the board. Each runs a command on the :class:`~gatewatch.board.BoardModel` and posts
what changed (:class:`Commanded`); saving runs in a thread worker (fsync can take a while on
a busy disk). :func:`edit_endpoint` is shared with the detail screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.content import Content
from textual.screen import Screen

from gatewatch import watchlist as wl
from gatewatch.board import BoardModel, Changes
from gatewatch.board.rows import UNHEALTHY
from gatewatch.model import Endpoint
from gatewatch.text import visible
from gatewatch.tui.messages import Commanded
from gatewatch.tui.screens.ack_prompt import AckPrompt
from gatewatch.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from gatewatch.tui.screens.endpoint_form import EndpointForm

if TYPE_CHECKING:
    from gatewatch.tui.widgets.board_table import BoardTable

    _Base = Screen[None]
else:
    _Base = object


def edit_endpoint(
    screen: Screen[Any],
    state: BoardModel,
    name: str,
    then: Callable[[str | None], None] | None = None,
) -> None:
    """Open the form on ``name``; on save, edit it in ``state`` and tell every screen.
    ``then`` gets the endpoint's (new) name, or None when cancelled or refused."""
    original = state.find(name)
    if original is None:
        return

    def edited(endpoint: Endpoint | None) -> None:
        if endpoint is None:
            if then:
                then(None)
            return
        try:
            changes = state.edit(name, endpoint)
        except (wl.WatchlistError, ValueError, KeyError) as exc:
            screen.notify(visible(str(exc)), title="not changed", severity="error", markup=False)
            return
        screen.post_message(Commanded(changes))
        if then:
            then(endpoint.name)

    screen.app.push_screen(EndpointForm(state.watchlist, original), edited)


def acknowledge_endpoint(screen: Screen[Any], state: BoardModel, name: str) -> None:
    """Ask why, then acknowledge ``name`` as the board's user; a healthy one is refused
    with a word (there is nothing to hold)."""
    row = state.rows.get(name)
    if row is None:
        return
    failing = row.state in UNHEALTHY or (row.result is not None and not row.result.ok)
    if not failing:
        screen.notify(f"{visible(name)} is not failing: nothing to acknowledge", markup=False)
        return

    def answered(reason: str | None) -> None:
        if reason:
            screen.post_message(Commanded(state.acknowledge(name, reason)))

    screen.app.push_screen(AckPrompt(name, state.user), answered)


class EditActions(_Base):
    """Add, edit, delete and save, for :class:`gatewatch.tui.screens.board.BoardScreen`."""

    state: BoardModel

    if TYPE_CHECKING:

        table: BoardTable

        def update_status(self) -> None: ...

    def _tell(self, changes: Changes) -> None:
        self.post_message(Commanded(changes))

    def action_add(self) -> None:
        def added(endpoint: Endpoint | None) -> None:
            if endpoint is None:
                return
            try:
                changes = self.state.add(endpoint)
            except (wl.WatchlistError, ValueError) as exc:
                self.notify(visible(str(exc)), title="not added", severity="error", markup=False)
                return
            self._tell(changes)

        self.app.push_screen(EndpointForm(self.state.watchlist), added)

    def action_edit(self) -> None:
        if (name := self.table.highlighted_name) is not None:
            edit_endpoint(self, self.state, name)

    def action_delete(self) -> None:
        name = self.table.highlighted_name
        if name is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                changes = self.state.delete(name)
            except (KeyError, wl.WatchlistError) as exc:
                self.notify(visible(str(exc)), severity="error", markup=False)
                return
            self._tell(changes)

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
        if self.state.watchlist.path is None:
            self.notify("this watchlist has no file to save to", severity="error")
            return
        self._save_worker(force, then)

    @work(thread=True, exclusive=True, group="save")
    def _save_worker(self, force: bool, then: Callable[[], None] | None) -> None:
        try:
            changes = self.state.save(force=force)
        except wl.WatchlistConflict as exc:
            self.app.call_from_thread(self._conflict, exc, then)
            return
        except (wl.WatchlistError, OSError) as exc:
            self.app.call_from_thread(self._save_failed, str(exc))
            return
        self.app.call_from_thread(self._saved, changes, then)

    def _saved(self, changes: Changes, then: Callable[[], None] | None) -> None:
        self._tell(changes)
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
