"""``?``: every key, every symbol, the filter syntax and what each state means.

Why generated from :mod:`gatewatch.tui.keys`: the help must list the keys that actually
work; it reads the same tables the footers and the command palette read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from gatewatch.monitor import State
from gatewatch.tui import keys
from gatewatch.tui.looks import STATE_LOOKS, to_content

KEY_WIDTH = 14


def key_name(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "delete": "del"}
    return " ".join(names.get(k, k) for k in binding.key.split(","))


def key_lines(title: str, bindings: Iterable[Binding]) -> list[Content]:
    lines = [Content.styled(title, "bold underline")]
    for binding in bindings:
        text = binding.tooltip or binding.description
        lines.append(
            Content.assemble((f"  {key_name(binding):<{KEY_WIDTH}}", "bold $accent"), (text, ""))
        )
    lines.append(Content(""))
    return lines


STATES_EXPLAINED: tuple[tuple[State, str], ...] = (
    (State.DOWN, "failed down_after probes in a row (default 2); alerts fire"),
    (State.FLAPPING, "changed state more than flap_threshold times within flap_window"),
    (State.DEGRADED, "answering, but slowly, rate-limited, overloaded or with a warning"),
    (State.PENDING, "no result yet (just added or resumed)"),
    (State.UP, "the last probe passed every hop"),
    (State.MAINTENANCE, "inside a maintenance window: probed, not alerted"),
    (State.PAUSED, "not probed until resumed (p)"),
)

FILTER_HELP: tuple[tuple[str, str], ...] = (
    ("text", "part of a name, URL, tag or verdict (case-insensitive)"),
    ("#prod", "endpoints tagged prod (also tag:prod)"),
    ("state:down", "endpoints in that state (down, degraded, flapping, up, paused …)"),
    ("a b", "every term must match"),
)


def help_lines() -> list[Content]:
    lines: list[Content] = []
    lines += key_lines("Board", keys.BOARD)
    lines += key_lines("Endpoint detail", keys.DETAIL)
    lines += key_lines("Troubleshooting checklist", keys.CHECKLIST)
    lines += key_lines(
        "Everywhere",
        (
            *keys.APP,
            Binding("ctrl+p", "", "Command palette: every action, themes, endpoints by name"),
        ),
    )
    lines.append(Content.styled("Symbols", "bold underline"))
    for symbol, meaning in keys.LEGEND:
        lines.append(Content.assemble((f"  {symbol:<{KEY_WIDTH}}", "bold"), (meaning, "")))
    lines.append(Content(""))
    lines.append(Content.styled("States (failing first)", "bold underline"))
    for state, meaning in STATES_EXPLAINED:
        look = STATE_LOOKS[state]
        word = to_content([(f"  {look.symbol} {look.word:<{KEY_WIDTH - 2}}", look.role)])
        lines.append(word + Content(meaning))
    lines.append(Content(""))
    lines.append(Content.styled("Filter (/)", "bold underline"))
    for term, meaning in FILTER_HELP:
        lines.append(Content.assemble((f"  {term:<{KEY_WIDTH}}", "bold"), (meaning, "")))
    lines.append(Content(""))
    lines.append(
        Content.styled(
            "Hops: dns → tcp → tls → proxy → upstream. The first failing hop is where it broke.",
            "dim",
        )
    )
    return lines


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
        Binding("j", "scroll('down')", "Down", show=False),
        Binding("k", "scroll('up')", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog"):
            yield Label(Content("gatewatch — help  (esc to close)"), classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(Content("\n").join(help_lines()), id="help-text")

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one("#help-scroll", VerticalScroll)
        if direction == "down":
            scroll.scroll_down(animate=False)
        else:
            scroll.scroll_up(animate=False)
