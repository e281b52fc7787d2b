"""Small modal questions: yes/no (``ConfirmScreen``) and one of a few (``ChoiceScreen``).

Why modals that dismiss with a value (as Posting's ``confirmation.py``): the caller says
``push_screen(ConfirmScreen(...), callback)`` and gets ``True``/``False`` or the chosen id;
the screen knows nothing of what is being confirmed. The question's body may quote an
endpoint name, so it is Content, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ChoiceScreen(ModalScreen[str]):
    """Ask a question with a few answers; dismisses with the chosen id (esc: ``cancel``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "choose('cancel')", "Cancel", id="modal.cancel")
    ]

    def __init__(
        self,
        title: str,
        body: Content,
        choices: Sequence[tuple[str, str, str]],
        *,
        focus: str | None = None,
    ) -> None:
        """``choices`` are ``(id, label, variant)``; ``focus`` names the default one."""
        super().__init__(classes="modal")
        self._title = title
        self._body = body
        self._choices = tuple(choices)
        self._focus = focus

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(self._title), classes="dialog-title")
            yield Static(self._body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                for ident, label, variant in self._choices:
                    yield Button(Content(label), id=ident, variant=variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        if self._focus is not None:
            self.query_one(f"#{self._focus}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "cancel")

    def action_choose(self, ident: str) -> None:
        self.dismiss(ident)


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no; ``y``/``n`` answer too, esc is no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No", id="confirm.no"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
    ]

    def __init__(
        self, title: str, body: Content, *, yes: str = "Yes", danger: bool = False
    ) -> None:
        super().__init__(classes="modal")
        self._title = title
        self._body = body
        self._yes = yes
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(self._title), classes="dialog-title")
            yield Static(self._body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    Content(f"{self._yes} (y)"),
                    id="yes",
                    variant="error" if self._danger else "primary",
                )
                yield Button(Content("Cancel (n)"), id="no")

    def on_mount(self) -> None:
        # Destructive answers are never the default: enter on a fresh dialog cancels.
        self.query_one("#no" if self._danger else "#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
