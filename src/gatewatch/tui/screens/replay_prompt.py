"""Ask which past moment to replay: ``03:12``, ``-15m``, ``2h ago`` or a full date.

Why it echoes the moment it understood: "03:12" at 02:00 means yesterday, and an engineer
reconstructing an incident must see that before trusting the board. Dismisses with an
aware datetime, or None when cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from gatewatch.tui import format as fmt
from gatewatch.tui.screens import endpoint_form


class ReplayPrompt(ModalScreen[datetime | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="replay.cancel")
    ]

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__(classes="modal")
        self._clock = clock
        self._moment: datetime | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog replay-dialog"):
            yield Label(Content("Replay the board at…"), classes="dialog-title")
            yield Input(placeholder="03:12, -15m, 2h ago, 2026-11-24 03:12", id="replay-input")
            yield Static(Content(""), id="replay-echo")
            yield Static(
                Content.styled(
                    "enter: replay   esc: cancel   the board returns to live with esc", "dim"
                )
            )

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_blink = endpoint_form.CURSOR_BLINK
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        echo = self.query_one("#replay-echo", Static)
        try:
            self._moment = fmt.parse_moment(event.value, self._clock())
        except ValueError as exc:
            self._moment = None
            echo.update(Content(str(exc)) if event.value.strip() else Content(""))
            echo.set_class(bool(event.value.strip()), "-invalid")
            return
        echo.set_class(False, "-invalid")
        echo.update(Content(f"→ {self._moment.astimezone():%Y-%m-%d %H:%M:%S %Z}"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._moment is not None:
            self.dismiss(self._moment)

    def action_cancel(self) -> None:
        self.dismiss(None)
