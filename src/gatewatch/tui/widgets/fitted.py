"""A Static whose content is laid out for its own width, again whenever that changes.

Why: a verdict's evidence lines and next steps are long, and Textual wraps a long line
back to the left edge, under the bullet or the step's number, where an engineer scanning
the list mid-incident reads it as a new item. The detail screen builds those lines with a
hanging indent for a given width (``detail_parts.verdict(result, width)``); this widget
asks for them at its current width and on every resize.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.content import Content
from textual.widgets import Static

#: Kept free on the right: a scrollbar that appears after the update takes a column or
#: two, and a line built for the full width would then be wrapped again by Textual.
SPARE_COLUMNS = 2


class FittedStatic(Static):
    """``show(make)``: ``make(width)`` is drawn now and redrawn on resize (None: unknown)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._make: Callable[[int | None], Content] | None = None

    def show(self, make: Callable[[int | None], Content]) -> None:
        self._make = make
        self._draw()

    def _draw(self) -> None:
        assert self._make is not None
        width = self.content_size.width - SPARE_COLUMNS
        self.update(self._make(width if width > 20 else None))

    def on_resize(self, event: events.Resize) -> None:
        if self._make is not None:
            self._draw()
