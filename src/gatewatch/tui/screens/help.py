"""``?``: every key, every symbol, the filter syntax and what each state means.

Why generated from :mod:`gatewatch.tui.keys`: the help must list the keys that actually
work; it reads the same tables the footers and the command palette read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from gatewatch.monitor import State
from gatewatch.tui import keys
from gatewatch.tui.looks import STATE_LOOKS, to_content


def key_name(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "delete": "del"}
    return " ".join(names.get(k, k) for k in binding.key.split(","))


#: A help entry: a section title (right is None) or a key/symbol and what it means.
Entry = tuple[Content, Content | None]


def key_entries(title: str, bindings: Iterable[Binding]) -> list[Entry]:
    entries: list[Entry] = [(Content.styled(title, "bold underline"), None)]
    for binding in bindings:
        text = binding.tooltip or binding.description
        entries.append((Content.styled(key_name(binding), "bold $accent"), Content(text)))
    return entries


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


def help_entries() -> list[Entry]:
    """Every section of the help, as entries; the screen lays them out in two columns so a
    long meaning wraps under itself, not under the key (80 columns is enough)."""
    entries: list[Entry] = []
    entries += key_entries("Board", keys.BOARD)
    entries += key_entries("Endpoint detail", keys.DETAIL)
    entries += key_entries("Troubleshooting checklist", keys.CHECKLIST)
    entries += key_entries(
        "Everywhere",
        (
            *keys.APP,
            Binding("ctrl+p", "", "Command palette: every action, themes, endpoints by name"),
        ),
    )
    entries.append((Content.styled("Symbols", "bold underline"), None))
    for symbol, meaning in keys.LEGEND:
        entries.append((Content.styled(symbol, "bold"), Content(meaning)))
    entries.append((Content.styled("States (failing first)", "bold underline"), None))
    for state, meaning in STATES_EXPLAINED:
        look = STATE_LOOKS[state]
        entries.append((to_content([(f"{look.symbol} {look.word}", look.role)]), Content(meaning)))
    entries.append((Content.styled("Filter (/)", "bold underline"), None))
    for term, meaning in FILTER_HELP:
        entries.append((Content.styled(term, "bold"), Content(meaning)))
    return entries


HOPS_NOTE = "Hops: dns → tcp → tls → proxy → upstream. The first failing hop is where it broke."


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
                for left, right in help_entries():
                    if right is None:
                        yield Static(left, classes="help-title")
                    else:
                        with Horizontal(classes="help-row"):
                            yield Static(left, classes="help-key")
                            yield Static(right, classes="help-meaning")
                yield Static(Content.styled(HOPS_NOTE, "dim"), classes="help-title")

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one("#help-scroll", VerticalScroll)
        if direction == "down":
            scroll.scroll_down(animate=False)
        else:
            scroll.scroll_up(animate=False)
