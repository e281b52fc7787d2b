"""The command palette (ctrl+p): every board action, every theme, every endpoint by name.

Why a Provider of our own: the palette is how an engineer finds an action without
remembering its key, so it lists the same actions the keys run (from
:mod:`gatewatch.tui.keys`), plus "Theme: …" and "Go to: <endpoint>". Endpoint names come
from the watchlist: they are shown as plain Content with our own highlighting, because
Textual's ``Matcher.highlight`` parses its candidate as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content

from gatewatch.text import visible
from gatewatch.tui import keys
from gatewatch.tui.messages import OpenDetail
from gatewatch.tui.screens.board import BoardScreen


def plain_highlight(matcher: Matcher, text: str) -> Content:
    """``text`` as Content with the matched letters highlighted, never parsed as markup."""
    content = Content(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    if not score:
        return content
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class BoardCommands(Provider):
    """Board actions, themes and endpoints."""

    def commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        board = self.app.screen_stack[0] if self.app.screen_stack else None
        if not isinstance(board, BoardScreen):
            return
        for command in keys.COMMANDS:
            run: Callable[[], object]
            if command.action.startswith("app."):
                run = partial(self.app.run_action, command.action.removeprefix("app."))
            else:
                run = partial(board.run_action, command.action)
            yield command.title, command.help, run
        for name in sorted(self.app.available_themes):
            yield (
                f"Theme: {name}",
                "Switch to this theme (remembered)",
                partial(setattr, self.app, "theme", name),
            )
        for row in board.state.rows.values():
            yield (
                f"Go to: {visible(row.name)}",
                "Open this endpoint's detail",
                partial(self.app.post_message, OpenDetail(row.name)),
            )

    async def discover(self) -> Hits:
        for title, help_text, run in self.commands():
            if not title.startswith("Go to: "):
                yield DiscoveryHit(Content(title), run, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, plain_highlight(matcher, title), run, text=title, help=help_text)
