"""The board's cells: one function per column, and what each cell depends on.

Why per column, with keys: a board of a thousand endpoints gets a hundred results a
second; redrawing a row costs, so a cell is drawn again only when what it shows changed
(its key). Cells are Rich ``Text`` with concrete theme colours; the text of a cell is
never parsed as markup, and untrusted text passes through ``visible``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from gatewatch.board import remote as rm
from gatewatch.board.rows import UNHEALTHY, Row, Sample
from gatewatch.secrets import redact_url
from gatewatch.text import one_line, visible
from gatewatch.tui import format as fmt
from gatewatch.tui.looks import (
    Palette,
    Piece,
    ack_pieces,
    hop_strip_compact,
    state_pieces,
    to_text,
)


@dataclass(frozen=True)
class Column:
    """One column of the board: what it shows, how wide, and how soon it goes.

    ``priority`` 0 columns are always shown (state, name, verdict: at any width a row says
    what it is and what is wrong); the others are dropped, highest priority number first,
    when the terminal is too narrow. A column with ``most`` grows with its content up to it.
    """

    key: str
    header: str
    width: int
    priority: int
    most: int = 0
    #: The sort order a click on its header (or ``s``) picks (board.rows.SORT_MODES).
    sort: str = ""


VANTAGE_MOST = 22

#: In display order. The hop header lines up over the 6-cell hop segments.
COLUMNS: tuple[Column, ...] = (
    Column("state", "State", 10, 0, sort="state"),
    Column("name", "Name", 8, 0, most=28, sort="name"),
    Column("code", "HTTP", 4, 1, sort="code"),
    # Only when a [[source]] told of the rows (needs["vantage"]); width follows the text.
    Column("vantage", "Vantage", 7, 2, most=VANTAGE_MOST, sort="state"),
    Column("hops", "dns   tcp   tls   prx   ups", 29, 4, sort="latency"),
    Column("spark", "Recent", 8, 2, sort="failures"),
    Column("uptime", "Up 24h", 6, 5, sort="uptime"),
    Column("since", "Since", 5, 3, sort="since"),
    Column("verdict", "Verdict", 36, 0, most=100, sort="verdict"),
    Column("url", "URL", 20, 6, most=60, sort="url"),
)
BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
SPARK_SAMPLES = 8
PAD = 1
#: The verdict grows this far before the URL gets a column (then the URL, then the verdict).
VERDICT_BEFORE_URL = 60


def layout(width: int, needs: dict[str, int]) -> list[tuple[Column, int]]:
    """The columns that fit in ``width`` cells, with their widths, in display order.

    ``needs`` are the widths the content asks for (longest name, summary, URL). Always
    state, name and verdict; then the others by priority while the verdict keeps its
    minimum; then the name and the verdict grow to what they need, the URL takes what room
    is left (if enough), and the last column takes the rest so the cursor spans the row.
    """

    def cost(widths: dict[str, int]) -> int:
        return sum(w + 2 * PAD for w in widths.values())

    def wanted(column: Column) -> int:
        return max(column.width, min(column.most, needs.get(column.key, column.width)))

    widths: dict[str, int] = {c.key: c.width for c in COLUMNS if c.priority == 0}
    widths["name"] = min(wanted(BY_KEY["name"]), 20)
    for column in sorted(COLUMNS, key=lambda c: c.priority):
        if column.key == "vantage":  # a fixed column as wide as its widest text, if any
            least = wanted(column) if needs.get("vantage") else 0
            if least and cost(widths) + least + 2 * PAD <= width:
                widths["vantage"] = least
            continue
        if column.priority == 0 or column.most:
            continue
        if cost(widths) + column.width + 2 * PAD <= width:
            widths[column.key] = column.width
    room = width - cost(widths)
    for key, least in (("verdict", 8), ("name", 6)):  # narrower than the three: they give way
        if room < 0:
            give = min(-room, widths[key] - least)
            widths[key] -= give
            room += give
    room = max(0, room)

    def grow(key: str, limit: int) -> None:
        nonlocal room
        more = min(room, min(limit, wanted(BY_KEY[key])) - widths[key])
        if more > 0:
            widths[key] += more
            room -= more

    grow("name", BY_KEY["name"].most)
    grow("verdict", VERDICT_BEFORE_URL)
    url = BY_KEY["url"]
    if room >= url.width + 2 * PAD:
        widths["url"] = url.width
        room -= url.width + 2 * PAD
        grow("url", url.most)
    grow("verdict", BY_KEY["verdict"].most)
    shown = [c for c in COLUMNS if c.key in widths]
    if room > 0:
        widths[shown[-1].key] += room
    return [(c, widths[c.key]) for c in shown]


@dataclass(frozen=True)
class CellLook:
    """What a cell needs besides its row: colours, the time now, a console to render with."""

    palette: Palette
    now: datetime | None
    console: Console


def _state(row: Row, look: CellLook) -> Text:
    if row.remote_only:  # not probed here: its state is its vantage points' (the Vantage column)
        return to_text([("◌ REMOTE", "info")], look.palette)
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
    return spark(row.samples[-SPARK_SAMPLES:], look)


def _uptime(row: Row, look: CellLook) -> Text:
    return Text(fmt.percent(row.uptime), no_wrap=True, end="", justify="right")


def _since_cell(row: Row, look: CellLook) -> Text:
    return Text(_since(row, look.now), no_wrap=True, end="", justify="right")


def _verdict(row: Row, look: CellLook) -> Text:
    summary = row.summary
    failed = row.result is not None and not row.result.ok
    role = "down" if row.state in UNHEALTHY or failed else "degraded"
    pieces: list[Piece] = []
    if row.ack is not None:  # who has it comes first: the next engineer reads that first
        pieces += [*ack_pieces(row.ack, look.now, short=True), ("  ", "")]
    if summary:
        pieces.append((one_line(summary, 200), role))
    return to_text(pieces, look.palette)


def _vantage(row: Row, look: CellLook) -> Text:
    """``1/2 ✖`` in the down colour, ``vantage down (eu)`` as a warning, ``2 ok`` muted."""
    text = rm.cell(row.remote)
    remote = row.remote
    role = "muted"
    if remote is not None and remote.failing:
        role = "down bold"
    elif remote is not None and remote.down:
        role = "degraded"
    return to_text([(visible(text), role)], look.palette)


def _url(row: Row, look: CellLook) -> Text:
    return Text(visible(redact_url(row.endpoint.url)), no_wrap=True, end="")


def _result_key(row: Row) -> tuple[Any, ...] | None:
    result = row.result
    return None if result is None else (result.started_at, result.total_ms, result.name)


Draw = Callable[[Row, CellLook], Text]
Key = Callable[[Row, CellLook], Any]

#: Per column key: how to draw the cell, and what the drawing depends on. A row is drawn
#: again only when one of its keys changes (a thousand rows, a hundred results a second).
CELLS: dict[str, tuple[Draw, Key]] = {
    "state": (_state, lambda row, look: (row.state, row.remote_only)),
    "name": (_name, lambda row, look: row.name),
    "code": (_code, lambda row, look: (row.status_code, _result_key(row))),
    "hops": (_hops, lambda row, look: _result_key(row)),
    "spark": (_spark, lambda row, look: row.samples[-SPARK_SAMPLES:]),
    "uptime": (_uptime, lambda row, look: row.uptime),
    "since": (_since_cell, lambda row, look: _since(row, look.now)),
    "verdict": (
        _verdict,
        lambda row, look: (row.state, row.summary, _result_key(row), row.ack, _ack_age(row, look)),
    ),
    "url": (_url, lambda row, look: row.endpoint.url),
    "vantage": (_vantage, lambda row, look: rm.cell(row.remote)),
}


def cells(row: Row, look: CellLook, keys: Sequence[str] | None = None) -> list[Text]:
    """The cells of ``row`` for these column keys (default: every column, in order)."""
    return [CELLS[k][0](row, look) for k in (keys or [c.key for c in COLUMNS])]


def keys(row: Row, look: CellLook) -> tuple[Any, ...]:
    """What each cell of ``row`` depends on; equal keys draw equal cells."""
    return tuple(key(row, look) for _, key in CELLS.values())


#: The columns that grow with their content, in the order :func:`row_needs` gives them.
GROWING = ("name", "verdict", "url", "vantage")


def row_needs(row: Row) -> tuple[int, int, int, int]:
    """How wide ``row`` would like each growing column (GROWING order)."""
    return (
        len(row.name),
        len(row.summary or ""),
        len(row.endpoint.url),
        len(rm.cell(row.remote)),
    )


def needs(rows: Iterable[Row]) -> dict[str, int]:
    """How wide the growing columns would like to be for ``rows`` (before their caps)."""
    tally = NeedsTally()
    for row in rows:
        tally.update(row)
    return tally.needs()


class NeedsTally:
    """:func:`needs` over the rows on show, kept row by row.

    Why: the widest name, summary and URL decide the columns, and a batch of results
    changes a few rows of a thousand; measuring every row on every batch cost the board's
    loop milliseconds per drain (a key waits behind it). Each column keeps a count of the
    rows per width, so a row that changes moves one count and the widest is found among
    the few distinct widths.
    """

    def __init__(self) -> None:
        self._rows: dict[str, tuple[int, int, int, int]] = {}
        self._counts: tuple[dict[int, int], ...] = tuple({} for _ in GROWING)

    def update(self, row: Row) -> None:
        """Count ``row`` as it is now (replacing what it was)."""
        new = row_needs(row)
        old = self._rows.get(row.name)
        if old == new:
            return
        if old is not None:
            self._uncount(old)
        self._rows[row.name] = new
        for counts, width in zip(self._counts, new, strict=True):
            counts[width] = counts.get(width, 0) + 1

    def discard(self, name: str) -> None:
        """Forget the row called ``name`` (no longer shown)."""
        old = self._rows.pop(name, None)
        if old is not None:
            self._uncount(old)

    def _uncount(self, widths: tuple[int, int, int, int]) -> None:
        for counts, width in zip(self._counts, widths, strict=True):
            left = counts[width] - 1
            if left:
                counts[width] = left
            else:
                del counts[width]

    def needs(self) -> dict[str, int]:
        counted = zip(GROWING, self._counts, strict=True)
        return {key: max(counts, default=0) for key, counts in counted}


def _ack_age(row: Row, look: CellLook) -> str | None:
    if row.ack is None or look.now is None:
        return None
    return fmt.ago((look.now - row.ack.at).total_seconds())


def _since(row: Row, now: datetime | None) -> str:
    if row.since is None or now is None:
        return "-"
    return fmt.ago((now - row.since).total_seconds())


BARS = "▁▂▃▄▅▆▇█"
#: A failed probe in the Recent column: a glyph of its own, so it reads without colour.
FAILED_MARK = "✖"


def spark(samples: Sequence[Sample], look: CellLook, width: int = SPARK_SAMPLES) -> Text:
    """The last probes, oldest first, one cell each: a bar for a good probe's total time
    (scaled between the fastest and slowest shown), ``✖`` in the down colour for a failed
    one. Fewer probes than cells: right-aligned, never stretched."""
    samples = samples[-width:]
    if not samples:
        return Text("·" * width, style="dim", no_wrap=True, end="")
    times = [s.total_ms for s in samples if s.ok and s.total_ms is not None]
    low, high = (min(times), max(times)) if times else (0.0, 0.0)
    pieces: list[Piece] = [(" " * (width - len(samples)), "")]
    for sample in samples:
        if not sample.ok:
            pieces.append((FAILED_MARK, "down bold"))
        elif sample.total_ms is None:
            pieces.append(("·", "muted"))
        else:
            span = high - low
            level = 0 if span <= 0 else round((sample.total_ms - low) / span * (len(BARS) - 1))
            pieces.append((BARS[level], "info"))
    return to_text(pieces, look.palette)
