"""A one-line banner across the board for conditions that change how to read it.

Why banners and not toasts: "the problem is probably on your side", "history is not being
kept" and "you are looking at the past" stay true until they stop being true; a toast
disappears while they still hold. A banner shows while its text is set and hides when it
is cleared. Its text is built as Content (the reason may quote a server), never markup.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class Banner(Static):
    DEFAULT_CSS = """
    Banner { height: auto; width: 1fr; padding: 0 1; display: none; }
    Banner.-shown { display: block; }
    """

    def show(self, content: Content | None) -> None:
        """Show ``content``, or hide the banner when None."""
        if content is None:
            self.remove_class("-shown")
            self.update(Content(""))
        else:
            self.update(content)
            self.add_class("-shown")

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")
