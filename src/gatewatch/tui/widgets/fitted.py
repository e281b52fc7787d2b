"""A Static whose content is laid out for its own width, again whenever that changes.

Why: a verdict's evidence lines and next steps are long, and Textual wraps a long line
back to the left edge, under the bullet or the step's number, where an engineer scanning
the list mid-incident reads it as a new item. The detail screen builds those lines with a
hanging indent for a given width (:func:`hanging`, used by the detail's verdict and the
checklist's step); this widget asks for them at its current width and on every resize.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from rich.cells import cell_len
from textual import events
from textual.content import Content
from textual.widgets import Static

from gatewatch.tui.looks import Piece


class FittedStatic(Static):
    """``show(make)``: ``make(width)`` is drawn now and redrawn on resize (None: unknown).

    A scrollbar that appears after an update narrows the widget, which is a resize: the
    lines are laid out again for the narrower width (narrower is never shorter, so this
    settles at once)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._make: Callable[[int | None], Content] | None = None

    def show(self, make: Callable[[int | None], Content]) -> None:
        self._make = make
        self._draw()

    def _draw(self) -> None:
        assert self._make is not None
        width = self.content_size.width
        self.update(self._make(width if width > 20 else None))

    def on_resize(self, event: events.Resize) -> None:
        if self._make is not None:
            self._draw()


def hanging(prefix: Piece, text: str, width: int | None) -> list[list[Piece]]:
    """One list item: ``prefix`` then ``text``, its continuation lines indented as far as
    the text starts (``width`` None: one line, left to the widget to wrap)."""
    indent = cell_len(prefix[0])
    if width is None or width - indent < 20 or cell_len(text) <= width - indent:
        return [[prefix, (text, "")]]
    chunks = textwrap.wrap(text, width - indent, break_on_hyphens=False) or [text]
    return [[prefix, (chunks[0], "")], *[[(" " * indent, ""), (c, "")] for c in chunks[1:]]]
