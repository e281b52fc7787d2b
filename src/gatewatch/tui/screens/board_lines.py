"""The board's one-line texts: banners, the first-run hint, the status line, the inspector.

Why pure functions: each is a picture of the board's state in a line or two; apart from the
screen they are unit tests without an app, and ``board.py`` stays about wiring the table.
Untrusted text (names, URLs, reasons) passes through ``visible``/``one_line``; URLs through
the one redaction function.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from textual.content import Content

from gatewatch.board import remote as rm
from gatewatch.board.rows import SORT_NAMES, UNHEALTHY, Row, SortMode
from gatewatch.monitor import State
from gatewatch.secrets import redact_url
from gatewatch.text import one_line, visible
from gatewatch.tui import format as fmt
from gatewatch.tui.looks import Piece, ack_pieces, state_look, to_content


def local_banner(reason: str | None) -> Content | None:
    if not reason:
        return None
    return Content.assemble(
        ("⚠ PROBABLY LOCAL  ", "bold"),
        (one_line(reason, 200), ""),
        ("  — check your own network, VPN and resolvers before paging anyone", ""),
    )


def history_banner(failure: str | None) -> Content | None:
    if not failure:
        return None
    return Content.assemble(("⚠ HISTORY UNAVAILABLE  ", "bold"), (one_line(failure, 200), ""))


def replay_banner(moment: datetime | None) -> Content | None:
    if moment is None:
        return None
    return Content.assemble(
        ("⏪ REPLAY  ", "bold"),
        (f"{moment.astimezone():%Y-%m-%d %H:%M:%S %Z}", "bold"),
        ("  as recorded in the history — not live. esc returns to live.", ""),
    )


def first_run(path: Path | str | None, *, missing: bool) -> Content:
    """No endpoints: which file was looked for, and how to see the board at work."""
    where = visible(str(path)) if path is not None else "no file"
    return Content.assemble(
        ("No endpoints to watch yet.\n\n", "bold"),
        ("Watchlist: ", ""),
        (where, "bold"),
        ("  (no such file yet: ctrl+s creates it)" if missing else "", "dim"),
        ("\n\n", ""),
        ("a", "bold $accent"),
        ("               add an endpoint, then ctrl+s to save it\n", ""),
        ("gatewatch demo", "bold $accent"),
        ("  see the board at work on a built-in lab (no network needed)", ""),
    )


def status(
    rows: Sequence[Row],
    total: int,
    *,
    replaying: bool,
    query: str,
    dirty: bool,
    sort_mode: SortMode,
    history_in_memory: bool = False,
    alerts_undelivered: int = 0,
) -> Content:
    """``8 endpoints  ✖ 3 down  ↯ 1 flapping …``: most important first, since a narrow
    terminal cuts the line's end (the order is also marked in the table's header)."""
    counts: dict[State | None, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    pieces: list[Piece] = [("REPLAY  " if replaying else "", "reverse bold")]
    endpoints = fmt.count(total, "endpoint")
    pieces.append((f"{len(rows)} of {endpoints}" if query else endpoints, "bold"))
    for state in (State.DOWN, State.FLAPPING, State.DEGRADED, State.UP, State.PAUSED):
        if counts.get(state):
            look = state_look(state)
            word = f"{look.symbol} {counts[state]} {look.word.lower()}"
            pieces += [("  ", ""), (word, look.role)]
    remote_failing = sum(1 for row in rows if row.remote is not None and row.remote.failing)
    remote_down = sum(1 for row in rows if row.remote is not None and row.remote.down)
    if remote_failing:
        pieces += [("  ", ""), (f"✖ {remote_failing} failing remotely", "down")]
    if remote_down:
        pieces += [("  ", ""), (f"◌ {remote_down} vantage down", "degraded")]
    if dirty:
        pieces.append(("   ● unsaved changes (ctrl+s)", "$status-degraded bold"))
    if history_in_memory:  # nothing is lost quietly: say so until it is on disk again
        pieces.append(("   history in memory", "$status-degraded bold"))
    if alerts_undelivered:
        pieces.append(
            (f"   {fmt.count(alerts_undelivered, 'alert')} undelivered", "$status-down bold")
        )
    if query:
        pieces.append((f"   filter: {one_line(query, 40)}", "dim"))
    pieces.append((f"   sort: {SORT_NAMES[sort_mode]}", "dim"))
    return to_content(pieces)


def inspector(row: Row | None, now: datetime | None) -> Content:
    """The selected row in full: state, name, URL (redacted), who acknowledged it, verdict."""
    if row is None:
        return Content.styled("no endpoint selected — a to add one", "dim")
    look = state_look(row.state)
    if row.remote_only:
        pieces: list[Piece] = [("◌ ", "info"), (visible(row.name), "bold")]
        return to_content([*pieces, ("  — ", "dim"), (one_line(row.summary or "", 300), "")])
    pieces = [
        (f"{look.symbol} ", look.role),
        (visible(row.name), "bold"),
        ("  ", ""),
        (visible(redact_url(row.endpoint.url)), ""),
    ]
    if row.ack is not None:
        pieces += [("  ", ""), *ack_pieces(row.ack, now)]
    if row.summary:
        pieces += [
            ("  — ", "dim"),
            (one_line(row.summary, 300), "down" if row.state in UNHEALTHY else ""),
        ]
    remote = row.remote
    if remote is not None and not row.remote_only:  # at 80 columns the only place it shows
        role = "down" if remote.failing else "degraded" if remote.down else "dim"
        pieces += [("  · ", "dim"), (one_line(rm.line(remote), 200), role)]
    return to_content(pieces)


def source_banner(problems: str | None) -> Content | None:
    """Sources that do not answer (refused, 401, timeout, bad JSON): their rows keep what
    they last said, so the engineer must know those may be stale."""
    if not problems:
        return None
    return Content.assemble(
        ("⚠ SOURCE PROBLEM  ", "bold"),
        (one_line(problems, 300), ""),
        ("  — remote rows show what the source said last", ""),
    )
