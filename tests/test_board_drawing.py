"""What keeps the board cheap under load, checked for sameness: the inbox rings once per
drain, widths tallied row by row equal a full count, joined segments look the same cell by
cell, and rows changed off screen or restyled are drawn again. Speed is measured in
bench/ (bench_tmux_keys.py, bench_tui.py), never here.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.widgets import Static

from gatewatch.board import Inbox, Row
from gatewatch.model import Endpoint
from gatewatch.monitor import ProbeCompleted, State
from gatewatch.tui.app import GatewatchApp
from gatewatch.tui.widgets.board_cells import NeedsTally, needs
from gatewatch.tui.widgets.board_table import _joined
from test_tui_samples import FakeEngine, gateway_502, healthy, quiet_app, watchlist_for

# --------------------------------------------------------------------------- the inbox


def test_the_inbox_asks_for_a_ring_only_when_it_was_empty() -> None:
    inbox = Inbox()
    first = healthy("a", "http://a/")
    assert inbox.put(ProbeCompleted("a", first, State.UP)) is True
    assert inbox.put(ProbeCompleted("a", first, State.UP)) is False  # a ring is pending
    assert len(inbox.drain()) == 2
    assert inbox.put(ProbeCompleted("a", first, State.UP)) is True  # drained: ring again


# --------------------------------------------------------------------------- widths


def row(name: str, url_length: int, failing: bool) -> Row:
    url = "http://x/" + "p" * url_length
    endpoint = Endpoint(name=name, url=url)
    result = gateway_502(name, url) if failing else healthy(name, url)
    return Row(endpoint=endpoint, state=State.DOWN if failing else State.UP, result=result)


steps = st.lists(
    st.tuples(
        st.sampled_from(["a", "bb", "ccc", "dddd", "eeeee"]),
        st.integers(0, 40),
        st.booleans(),
        st.booleans(),  # True: the row leaves the board
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_widths_tallied_row_by_row_equal_a_full_count(
    changes: list[tuple[str, int, bool, bool]],
) -> None:
    tally = NeedsTally()
    shown: dict[str, Row] = {}
    for name, url_length, failing, leaves in changes:
        if leaves:
            tally.discard(name)
            shown.pop(name, None)
        else:
            shown[name] = row(name, url_length, failing)
            tally.update(shown[name])
        assert tally.needs() == needs(shown.values())


# --------------------------------------------------------------------------- segments


def cells(segments: list[Segment]) -> list[tuple[object, ...]]:
    """What a terminal shows, cell by cell: a space shows only its background and lines."""
    shown: list[tuple[object, ...]] = []
    for text, style, _ in segments:
        style = style or Style.null()
        for char in text:
            if char == " ":
                lines = (style.underline, style.reverse, style.strike, style.overline)
                shown.append((char, style.bgcolor, lines))
            else:
                shown.append((char, style))
    return shown


red, grey = Style(color="red", bold=True), Style(color="grey50")
SEGMENTS = [
    Segment(" ", Style.null()),
    Segment("✖ DOWN", red),
    Segment("   ", Style.null()),
    Segment("·    ", grey),
    Segment(" ", Style.null()),
    Segment("·    ", grey),
    Segment("  ", Style(underline=True)),  # a line under spaces shows: kept apart
    Segment("x", Style(underline=True)),
    Segment("  ", Style(bgcolor="blue")),  # a background shows: kept apart
    Segment("ok", None),
    Segment("  ", Style(color="red", reverse=True)),  # reversed spaces show: kept apart
    Segment("▁▂", Style(color="blue")),
    Segment("▃", Style(color="blue")),
]


def test_joined_segments_look_the_same_cell_by_cell_and_are_fewer() -> None:
    joined = _joined(SEGMENTS)
    assert cells(joined) == cells(SEGMENTS)
    assert len(joined) < len(SEGMENTS) - 4
    assert Segment("▁▂▃", Style(color="blue")) in joined  # one style, one segment


# --------------------------------------------------------------------------- the table


def big_board(tmp_path: Path, count: int) -> tuple[GatewatchApp, FakeEngine]:
    endpoints = [Endpoint(name=f"ep-{i:03d}", url=f"http://ep{i}.example/") for i in range(count)]
    engine = FakeEngine(endpoints)
    watchlist = watchlist_for(endpoints, tmp_path / "watchlist.toml")
    app = quiet_app(watchlist, engine, tmp_path, tick_interval=3600, user="alice")
    return app, engine


def line_of(app: GatewatchApp, name: str) -> str:
    table = app.board.table
    for y in range(1, table.size.height):
        text = table.render_line(y).text
        if f" {name} " in text:
            return text
    return ""


async def test_a_row_that_changed_off_screen_shows_its_news_when_scrolled_to(
    tmp_path: Path,
) -> None:
    app, engine = big_board(tmp_path, 60)
    async with app.run_test(size=(80, 24)) as pilot:
        board = app.board
        board.sort_mode = "name"  # the row stays last, off screen, whatever its state
        engine.publish(
            ProbeCompleted(e.name, healthy(e.name, e.url), State.UP) for e in engine.endpoints
        )
        app.drain()
        await pilot.pause()
        await pilot.press("G")  # the last row is drawn once, as UP …
        await pilot.pause()
        assert "UP" in line_of(app, "ep-059")
        await pilot.press("g")  # … and goes off screen
        await pilot.pause()
        assert line_of(app, "ep-059") == ""
        last = engine.endpoints[-1]
        engine.publish([ProbeCompleted(last.name, gateway_502(last.name, last.url), State.DOWN)])
        app.drain()
        await pilot.pause()
        await pilot.press("G")  # to the bottom
        await pilot.pause()
        line = line_of(app, "ep-059")
        assert "DOWN" in line and "502" in line, line


async def test_lines_are_drawn_again_when_the_cursor_leaves_and_the_theme_changes(
    tmp_path: Path,
) -> None:
    app, engine = big_board(tmp_path, 10)
    async with app.run_test(size=(100, 20)) as pilot:
        engine.publish(
            ProbeCompleted(e.name, healthy(e.name, e.url), State.UP) for e in engine.endpoints
        )
        app.drain()
        await pilot.pause()
        table = app.board.table

        def background(y: int) -> object:
            return next(iter(table.render_line(y))).style.bgcolor  # type: ignore[union-attr]

        on_cursor, off_cursor = background(1), background(3)  # rows 0 and 2: both even
        assert on_cursor != off_cursor
        await pilot.press("j", "j")
        await pilot.pause()
        assert background(1) == off_cursor and background(3) == on_cursor
        dark = background(1)
        app.theme = "gatewatch-light" if app.theme != "gatewatch-light" else "gatewatch-dark"
        await pilot.pause()
        await pilot.pause()
        assert background(1) != dark


async def test_the_inspector_follows_a_key_in_the_same_frame(tmp_path: Path) -> None:
    app, engine = big_board(tmp_path, 5)
    async with app.run_test(size=(100, 20)) as pilot:
        engine.publish(
            ProbeCompleted(e.name, healthy(e.name, e.url), State.UP) for e in engine.endpoints
        )
        app.drain()
        await pilot.pause()
        board = app.board
        first = board.table.highlighted_name
        board.action_cursor("down")  # no await: no message handled, no frame drawn between
        second = board.table.highlighted_name
        assert second is not None and second != first
        inspector = board.query_one("#inspector", Static).content
        assert isinstance(inspector, Content) and second in inspector.plain
