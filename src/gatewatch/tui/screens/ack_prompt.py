"""``A``: acknowledge a failing endpoint, with a reason.

Why a reason is required: the acknowledgement is what the next engineer (and the incident
report) reads to learn who has this one and what they are doing about it; "ack" alone says
neither. Dismisses with the reason, or None when cancelled.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from gatewatch.text import visible
from gatewatch.tui.screens import endpoint_form


class AckPrompt(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="ack.cancel")
    ]

    def __init__(self, name: str, user: str) -> None:
        super().__init__(classes="modal")
        self.endpoint_name = name
        self.user = user

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog ack-dialog"):
            yield Label(
                Content.assemble("Acknowledge ", (visible(self.endpoint_name), "bold")),
                classes="dialog-title",
            )
            yield Static(
                Content(
                    f"As {visible(self.user)}: alerts for it stop while its checks go on, "
                    "until it is UP again. Kept in the history and the incident report."
                ),
                classes="dialog-body",
            )
            yield Input(placeholder="why: failing over the database, INC-1234 …", id="ack-reason")
            yield Static(Content.styled("enter: acknowledge   esc: cancel", "dim"))

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_blink = endpoint_form.CURSOR_BLINK
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        reason = " ".join(event.value.split())
        if reason:
            self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
