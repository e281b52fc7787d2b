"""The board's cells: one function per column, and what each cell depends on.

Why per column, with keys: a board of a thousand endpoints gets a hundred results a
second; redrawing a row costs, so a cell is drawn again only when what it shows changed
(its key). Cells are Rich ``Text`` with concrete theme colours; the text of a cell is
never parsed as markup, and untrusted text passes through ``visible``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.color import Color as RichColor
from rich.console import Console
from rich.text import Text
from textual.renderables.sparkline import Sparkline

from gatewatch.board.rows import UNHEALTHY, Row, latencies
from gatewatch.secrets import redact_url
from gatewatch.text import one_line, visible
from gatewatch.tui import format as fmt
from gatewatch.tui.looks import Palette, Piece, hop_strip_compact, state_pieces, to_text

#: Column key, header, width. The hop header lines up over the 6-cell hop segments.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("state", "State", 10),
    ("name", "Name", 20),
    ("code", "HTTP", 4),
    ("hops", "dns   tcp   tls   prx   ups", 29),
    ("spark", "Recent", 8),
    ("uptime", "Up 24h", 6),
    ("since", "Since", 5),
    ("verdict", "Verdict", 56),
    ("url", "URL", 48),
)
SPARK_SAMPLES = 16


@dataclass(frozen=True)
class CellLook:
    """What a cell needs besides its row: colours, the time now, a console to render with."""

    palette: Palette
    now: datetime | None
    console: Console


def _state(row: Row, look: CellLook) -> Text:
    return to_text(state_pieces(row.state), look.palette)


def _name(row: Row, look: CellLook) -> Text:
    return Text(visible(row.name), no_wrap=True, end="")


def _code(row: Row, look: CellLook) -> Text:
    status, result = row.status_code, row.result
    code: list[Piece]
    if status is None:
        code = [("-", "muted")]
    else:
        code = [(str(status), "" if result is None or result.ok else "down bold")]
    return to_text(code, look.palette)


def _hops(row: Row, look: CellLook) -> Text:
    return to_text(hop_strip_compact(row.result), look.palette)


def _spark(row: Row, look: CellLook) -> Text:
    return spark(latencies(row.samples)[-SPARK_SAMPLES:], look)


def _uptime(row: Row, look: CellLook) -> Text:
    return Text(fmt.percent(row.uptime), no_wrap=True, end="", justify="right")


def _since_cell(row: Row, look: CellLook) -> Text:
    return Text(_since(row, look.now), no_wrap=True, end="", justify="right")


def _verdict(row: Row, look: CellLook) -> Text:
    summary = row.summary
    role = "down" if row.state in UNHEALTHY else ""
    return to_text([(one_line(summary, 200), role)] if summary else [], look.palette)


def _url(row: Row, look: CellLook) -> Text:
    return Text(visible(redact_url(row.endpoint.url)), no_wrap=True, end="")


def _result_key(row: Row) -> tuple[Any, ...] | None:
    result = row.result
    return None if result is None else (result.started_at, result.total_ms, result.name)


#: Per column: how to draw the cell, and what the drawing depends on. A cell is redrawn
#: only when its key changes, because every DataTable update invalidates its render cache.
CELLS: tuple[tuple[Callable[[Row, CellLook], Text], Callable[[Row, CellLook], Any]], ...] = (
    (_state, lambda row, look: row.state),
    (_name, lambda row, look: row.name),
    (_code, lambda row, look: (row.status_code, _result_key(row))),
    (_hops, lambda row, look: _result_key(row)),
    (_spark, lambda row, look: (len(row.samples), row.samples[-1] if row.samples else None)),
    (_uptime, lambda row, look: row.uptime),
    (_since_cell, lambda row, look: _since(row, look.now)),
    (_verdict, lambda row, look: (row.state, row.summary)),
    (_url, lambda row, look: row.endpoint.url),
)


def cells(row: Row, look: CellLook) -> list[Any]:
    """The cells of ``row`` in COLUMNS order."""
    return [draw(row, look) for draw, _ in CELLS]


def keys(row: Row, look: CellLook) -> tuple[Any, ...]:
    """What each cell of ``row`` depends on; equal keys draw equal cells."""
    return tuple(key(row, look) for _, key in CELLS)


def _since(row: Row, now: datetime | None) -> str:
    if row.since is None or now is None:
        return "-"
    return fmt.ago((now - row.since).total_seconds())


def spark(values: Sequence[float], look: CellLook, width: int = 8) -> Text:
    """Recent latency as Textual's Sparkline renderable, flattened into a cell's Text."""
    if len(values) < 2:
        return Text("·" * width if not values else "", style="dim", no_wrap=True, end="")
    # Fewer samples than cells: one bar per sample, right-aligned, rather than stretched.
    pad = max(0, width - len(values))
    width -= pad
    low = look.palette.styles["muted"].color or RichColor.from_rgb(128, 128, 128)
    high = look.palette.styles["info"].color or RichColor.from_rgb(200, 200, 200)
    renderable = Sparkline(
        list(values), width=width, min_color=_truecolor(low), max_color=_truecolor(high)
    )
    options = look.console.options.update(width=width, height=1)
    text = Text(" " * pad, no_wrap=True, end="")
    for segment in look.console.render(renderable, options):
        if segment.text != "\n":
            text.append(segment.text, segment.style)
    return text


def _truecolor(colour: RichColor) -> RichColor:
    triplet = colour.get_truecolor()
    return RichColor.from_rgb(*triplet)
