"""How a state or a hop looks: symbol, word and colour role, as data; and styled pieces.

Why symbols *and* words *and* colour: a colour-blind engineer, a monochrome terminal
(NO_COLOR) and a screenshot pasted into a chat must all read DOWN as DOWN. So every state
and hop status has a symbol and a word here, and colour only adds emphasis.

A *piece* is ``(text, role)``; roles name theme colours (``down`` → ``$status-down``) or
text styles (``bold``). :func:`to_content` turns pieces into Textual ``Content`` for widgets
(theme variables resolved at render time); :func:`to_text` into Rich ``Text`` with concrete
colours for DataTable cells, which Rich renders without Textual's variables. Text passed
in pieces is never parsed as markup; callers pass untrusted text through ``visible``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style as RichStyle
from rich.text import Text
from textual.color import Color
from textual.content import Content

from gatewatch.model import Hop, HopStatus, ProbeResult, format_time
from gatewatch.monitor.acks import Ack
from gatewatch.monitor.state import State
from gatewatch.text import one_line
from gatewatch.tui import format as fmt

Piece = tuple[str, str]

#: Colour roles → the theme variable that colours them.
COLOUR_ROLES: Mapping[str, str] = {
    "up": "status-up",
    "degraded": "status-degraded",
    "down": "status-down",
    "flapping": "status-flapping",
    "muted": "status-muted",
    "info": "status-info",
}


@dataclass(frozen=True)
class Look:
    symbol: str
    word: str
    role: str


STATE_LOOKS: Mapping[State | None, Look] = {
    State.UP: Look("✔", "UP", "up"),
    State.DEGRADED: Look("▲", "DEGRADED", "degraded bold"),
    State.DOWN: Look("✖", "DOWN", "down bold"),
    State.FLAPPING: Look("↯", "FLAPPING", "flapping bold"),
    State.PAUSED: Look("‖", "PAUSED", "muted"),
    State.MAINTENANCE: Look("◷", "MAINT", "info"),
    State.PENDING: Look("…", "PENDING", "muted"),
    None: Look("?", "NO DATA", "muted"),
}

HOP_LOOKS: Mapping[HopStatus, Look] = {
    "ok": Look("✔", "ok", "up"),
    "warn": Look("▲", "WARN", "degraded bold"),
    "fail": Look("✖", "FAIL", "down bold"),
    "skip": Look("·", "skip", "muted"),
}

#: Short hop labels for narrow headers; the detail screen spells hops out.
HOP_SHORT: Mapping[str, str] = {
    "dns": "dns",
    "tcp": "tcp",
    "tls": "tls",
    "proxy": "prx",
    "upstream": "ups",
}


def state_look(state: State | None) -> Look:
    return STATE_LOOKS.get(state, STATE_LOOKS[None])


def ack_pieces(ack: Ack, now: datetime | None, *, short: bool = False) -> list[Piece]:
    """``✓ ACK alice 3m: failing over the DB`` — who, when, why (untrusted: made visible)."""
    age = fmt.ago((now - ack.at).total_seconds()) if now is not None else format_time(ack.at)
    head = f"✓ ACK {one_line(ack.by, 20)} {age}"
    return [(head, "info bold"), (": " + one_line(ack.reason, 40 if short else 200), "info")]


# --------------------------------------------------------------------------- piece builders


def state_pieces(state: State | None) -> list[Piece]:
    look = state_look(state)
    return [(f"{look.symbol} {look.word}", look.role)]


def hop_strip_compact(result: ProbeResult | None) -> list[Piece]:
    """Five hops in 29 cells: symbol and milliseconds each (``✔ 1.2 ✔ 0.3 ·     ✖  35``)."""
    if result is None:
        return [("  …    …    …    …    …", "muted")]
    pieces: list[Piece] = []
    for index, hop in enumerate(result.hops):
        look = HOP_LOOKS[hop.status]
        if index:
            pieces.append((" ", ""))
        text = "    " if hop.status == "skip" else fmt.ms(hop.ms)
        pieces.append((look.symbol + text, look.role))
    return pieces


def hop_strip_wide(result: ProbeResult) -> list[Piece]:
    """Five hops spelled out: ``dns ✔ ok 1.2 ms │ tcp ✔ ok 0.3 ms │ … upstream ✖ FAIL``."""
    pieces: list[Piece] = []
    for index, hop in enumerate(result.hops):
        if index:
            pieces.append(("  │  ", "muted"))
        pieces.extend(hop_pieces(hop))
    return pieces


def hop_pieces(hop: Hop) -> list[Piece]:
    look = HOP_LOOKS[hop.status]
    pieces: list[Piece] = [(f"{hop.name} ", "bold"), (f"{look.symbol} {look.word}", look.role)]
    if hop.status != "skip" and hop.ms is not None:
        pieces.append((f" {fmt.ms_long(hop.ms)}", ""))
    return pieces


# --------------------------------------------------------------------------- adapters


def _content_style(role: str) -> str:
    return " ".join(f"${COLOUR_ROLES[t]}" if t in COLOUR_ROLES else t for t in role.split())


def to_content(pieces: Iterable[Piece]) -> Content:
    """Pieces as Content; colour roles become ``$status-*`` variables."""
    return Content.assemble(*((text, _content_style(role)) for text, role in pieces))


@dataclass(frozen=True)
class Palette:
    """Concrete Rich styles for the colour roles, read from the app's theme variables."""

    styles: Mapping[str, RichStyle]

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Palette:
        styles: dict[str, RichStyle] = {}
        for role, name in COLOUR_ROLES.items():
            try:
                colour = Color.parse(variables.get(name, "")).rich_color
            except Exception:  # a broken variable must never break the board
                colour = None
            styles[role] = RichStyle(color=colour)
        return cls(styles)

    def style(self, role: str) -> RichStyle:
        style = RichStyle()
        for token in role.split():
            if token in self.styles:
                style += self.styles[token]
            else:
                style += RichStyle.parse(token)
        return style


def to_text(pieces: Iterable[Piece], palette: Palette) -> Text:
    """Pieces as a Rich Text for a DataTable cell (never parsed as markup)."""
    text = Text(no_wrap=True, end="")
    for part, role in pieces:
        text.append(part, palette.style(role) if role else None)
    return text
