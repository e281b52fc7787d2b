"""The detail screen's "Vantage points" section: each remote vantage point of one endpoint.

Why its own module: the section reads :class:`~gatewatch.remote.vantage.RemoteRow`, not a
probe result, and says things a local probe never does (a prober that stopped reporting, a
verdict nobody could give because the prober is a plain blackbox_exporter). Pure: Content
out of frozen data. Labels and reasons come from someone else's Prometheus: they pass
through ``visible``/``one_line`` and are placed as text, never as markup.
"""

from __future__ import annotations

from textual.content import Content

from gatewatch.board.rows import Row
from gatewatch.remote.vantage import RemoteRow, VantageView
from gatewatch.text import one_line, visible
from gatewatch.tui import format as fmt
from gatewatch.tui.looks import HOP_LOOKS, Piece, to_content

#: How each vantage state looks: symbol, word, colour role (words too: NO_COLOR reads them).
VANTAGE_LOOKS: dict[str, Piece] = {
    "ok": ("✔ ok", "up"),
    "failing": ("✖ TARGET FAILING", "down bold"),
    "vantage_down": ("◌ VANTAGE DOWN", "degraded bold"),
}

#: What the exporter's closed label sets say for "no kind" / "no generator".
_NONE = frozenset({"", "none"})
_HOP_LOOKS = {str(status): look for status, look in HOP_LOOKS.items()}


def _verdict(view: VantageView) -> list[Piece]:
    if view.state == "vantage_down":
        return [("the prober stopped reporting: nothing is known of the target from here", "dim")]
    verdict = view.verdict
    if verdict is None:
        return [("verdict unknown", "muted"), (" (a plain blackbox_exporter: phases only)", "dim")]
    kind = "" if verdict.kind in _NONE else verdict.kind
    text = f"{verdict.cause}/{kind}" if kind else verdict.cause
    pieces: list[Piece] = [
        ("verdict ", "dim"),
        (one_line(text, 80), "down" if view.state == "failing" else ""),
    ]
    if verdict.generator not in _NONE:
        pieces.append((f"  by {one_line(verdict.generator, 40)}", "dim"))
    return pieces


def _timings(view: VantageView) -> list[Piece]:
    if not view.timings:
        return []
    statuses = dict(view.hops)
    pieces: list[Piece] = [("hops  " if view.timing_kind == "hop" else "phases  ", "dim")]
    for index, (name, ms) in enumerate(view.timings):
        if index:
            pieces.append(("  ", ""))
        status = statuses.get(name, "")
        look = _HOP_LOOKS.get(status)
        if look is not None:
            pieces.append((f"{look.symbol} ", look.role))
        if status == "skip":  # the exporter's 0 for a hop that did not run is not a time
            pieces.append((visible(name), "muted"))
        else:
            pieces.append((f"{visible(name)} {fmt.ms_long(ms)}", ""))
    return pieces


def vantage_lines(view: VantageView) -> list[list[Piece]]:
    """Two or three lines: who and in what state (and why), the verdict, the timings."""
    word, role = VANTAGE_LOOKS.get(view.state, (view.state, ""))
    lines: list[list[Piece]] = [
        [
            (one_line(view.vantage, 30), "bold"),
            ("  ", ""),
            (word, role),
            ("  ", ""),
            (one_line(view.reason, 160), "dim"),
        ],
        [("    ", ""), *_verdict(view)],
    ]
    timings = _timings(view)
    if timings:
        lines.append([("    ", ""), *timings])
    return lines


def header(row: Row) -> Content:
    """``◌ REMOTE  shop  (only known to prometheus)``: a row only a source knows."""
    source = row.remote.source if row.remote is not None else "a source"
    return to_content([
        ("◌ REMOTE  ", "info"),
        (visible(row.name), "bold"),
        (f"  only known to {one_line(source, 60)}: not in the watchlist", "dim"),
    ])


def vantages(row: RemoteRow | None) -> Content | None:
    """The section, or None when no source knows the endpoint."""
    if row is None or not row.vantages:
        return None
    head: list[Piece] = [
        (f"{one_line(row.summary, 200)}", "down bold" if row.failing else ""),
        (f"   from {one_line(row.source, 60)}", "dim"),
    ]
    lines = [head]
    for view in row.vantages:
        lines += vantage_lines(view)
    return Content("\n").join(to_content(line) for line in lines)
