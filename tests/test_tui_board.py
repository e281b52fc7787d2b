"""The board in an incident, through Pilot: narrow terminals, engine news, sorting, first run.

Fixed data and a fake engine (test_tui_samples); nothing waits on a clock.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from gatewatch import watchlist as wl
from gatewatch.tui.app import GatewatchApp
from gatewatch.tui.messages import EngineNews
from gatewatch.tui.screens.board import BoardScreen
from gatewatch.tui.screens.detail import DetailScreen
from gatewatch.tui.screens.help import HelpScreen
from test_tui_samples import FakeEngine, cases, clock, messages, quiet_app, watchlist_for


def make_app(tmp_path: Path, *, empty: bool = False) -> tuple[GatewatchApp, FakeEngine]:
    items = [] if empty else cases()
    endpoints = [c.endpoint for c in items]
    path = tmp_path / "watchlist.toml"
    watchlist = wl.Watchlist.empty(path) if empty else watchlist_for(endpoints, path)
    engine = FakeEngine(endpoints)
    return quiet_app(watchlist, engine, tmp_path, tick_interval=3600, user="alice"), engine


def table_lines(board: BoardScreen) -> list[str]:
    table = board.table
    return [table.render_line(y).text for y in range(table.row_count + 1)]


async def test_at_80_columns_every_failing_row_shows_its_verdict(tmp_path: Path) -> None:
    app, engine = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        engine.publish(messages(cases()))
        app.drain()
        await pilot.pause()
        board = app.board
        assert board.table.columns[:2] == ["state", "name"] and "verdict" in board.table.columns
        lines = table_lines(board)
        assert all(len(line) == 80 for line in lines)
        for row in board.rows():
            line = next(line for line in lines if f" {row.name} " in line)
            if row.summary:
                assert row.summary[:20] in line, (row.name, line)
        assert any("DOWN" in line and "api" in line and "NXDOMAIN" in line for line in lines)


async def test_engine_news_is_coalesced_into_one_drain(tmp_path: Path) -> None:
    app, engine = make_app(tmp_path)
    seen: list[Message] = []
    drains: list[int] = []
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        drain = app.drain

        def counted() -> None:
            drains.append(len(app.inbox))
            drain()

        app.drain = counted  # type: ignore[method-assign]
        batch = messages(cases())
        engine.publish(batch)  # from this loop: every EngineNews is queued before one runs
        await pilot.wait_for_scheduled_animations()
        while not drains:  # the drain tick (refresh_interval); bounded by the test timeout
            await pilot.pause(0.05)
        assert sum(isinstance(m, EngineNews) for m in seen) == 1
        assert drains == [len(batch)]  # one drain took the whole batch
        await pilot.pause()
        assert app.board.table.order[:3] == ["api", "checkout", "legacy"]


async def test_a_click_on_a_header_sorts_by_that_column(tmp_path: Path) -> None:
    app, engine = make_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        engine.publish(messages(cases()))
        app.drain()
        await pilot.pause()
        board = app.board
        await pilot.click("#board", offset=(14, 0))  # the Name header
        assert board.sort_mode == "name"
        assert board.table.order == sorted(board.table.order)
        assert "Name ▼" in table_lines(board)[0]
        x = table_lines(board)[0].index("HTTP")
        await pilot.click("#board", offset=(x, 0))
        assert str(board.sort_mode) == "code" and board.table.order[0] == "checkout"


async def test_an_empty_first_run_names_the_watchlist_and_the_demo(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, empty=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = str(app.board.query_one("#empty-board", Static).render())
        assert str(tmp_path / "watchlist.toml") in text.replace("\n", "")
        assert "gatewatch demo" in text and "no such file yet" in text


async def test_the_help_fits_80_columns_and_the_footer_has_no_stray_key(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        keys = list(app.screen.query(FooterKey))
        assert keys and all(key.region.right <= 80 for key in keys)  # none cut off at the edge
        shown = {key.key_display for key in keys}
        assert {"d", "/", "?", "q"} <= shown and "^s" not in shown
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        dialog = app.screen.query_one(".help-dialog")
        assert dialog.region.x >= 0 and dialog.region.right <= 80


async def test_q_in_the_checklist_returns_to_where_it_was_opened(tmp_path: Path) -> None:
    from gatewatch.checklist import ProgressStore
    from gatewatch.tui.screens.checklist import ChecklistScreen

    app, engine = make_app(tmp_path)
    app.checklists = ProgressStore(tmp_path / "progress")
    async with app.run_test(size=(120, 36)) as pilot:
        engine.publish(messages(cases()))
        app.drain()
        await pilot.pause()
        await pilot.press("j", "d")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("c")
        assert isinstance(app.screen, ChecklistScreen)
        await app.workers.wait_for_complete()
        await pilot.press("q")
        assert isinstance(app.screen, DetailScreen) and app.is_running
        await pilot.press("q")
        assert isinstance(app.screen, BoardScreen)


async def test_the_detail_steps_to_the_next_and_previous_endpoint(tmp_path: Path) -> None:
    app, engine = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        engine.publish(messages(cases()))
        app.drain()
        await pilot.pause()
        order = app.board.table.order
        await pilot.press("d")
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.row.name == order[0]
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert screen.row.name == order[2]
        await pilot.press("left_square_bracket")
        assert screen.row.name == order[1]
        head = str(screen.query_one("#detail-head", Static).render())
        assert order[1] in head
        await pilot.press("escape")
        assert app.board.table.highlighted_name == order[1]  # back where the detail was


async def test_keys_that_cannot_apply_in_replay_say_so(tmp_path: Path) -> None:
    app, engine = make_app(tmp_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        engine.publish(messages(cases()))
        app.drain()
        await pilot.pause()
        app.board.show_replay(clock(), app.board.rows())
        await pilot.pause()
        calls = len(engine.calls)
        await pilot.press("r", "p")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert sum("replay shows the past" in m for m in said) == 2
        assert len(engine.calls) == calls  # nothing was sent to the engine


async def test_the_add_form_keeps_a_tab_typed_at_paste_speed(tmp_path: Path) -> None:
    from textual import events
    from textual.widgets import Input

    from gatewatch.tui.screens.endpoint_form import EndpointForm

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        form = app.screen
        assert isinstance(form, EndpointForm)
        shown = [str(w.render()) for w in form.query(".form-error.-shown")]
        assert shown == [] and form.errors  # nothing typed: no "required" yet, Save is off
        # Keys as a terminal delivers a paste: all queued before the first is handled.
        for key in ["s", "h", "o", "p", "tab", *"http://x.example"]:
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await pilot.pause()
        await pilot.pause()
        assert form.query_one("#field-name", Input).value == "shop"
        assert form.query_one("#field-url", Input).value == "http://x.example"


async def test_A_acknowledges_a_failing_endpoint_with_who_when_and_why(tmp_path: Path) -> None:
    from textual.widgets import Input

    from gatewatch.tui.screens.ack_prompt import AckPrompt

    app, engine = make_app(tmp_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        engine.publish(messages(cases()))
        app.drain()
        await pilot.pause()
        app.board.table.restore_cursor("checkout")
        await pilot.press("A")
        assert isinstance(app.screen, AckPrompt)
        await pilot.press("enter")  # no reason: not acknowledged, still asking
        assert isinstance(app.screen, AckPrompt)
        app.screen.query_one(Input).value = "failing over the database"
        await pilot.press("enter")
        app.drain()  # the engine's answer (the fake answers at once, as the monitor would)
        await pilot.pause()
        assert ("acknowledge", ("checkout", "alice", "failing over the database")) in engine.calls
        ack = app.state.rows["checkout"].ack
        assert ack is not None and ack.by == "alice"
        line = next(line for line in table_lines(app.board) if " checkout " in line)
        assert "✓ ACK alice 0s: failing over the database" in line
        inspector = str(app.board.query_one("#inspector", Static).render())
        assert "✓ ACK alice" in inspector
        app.board.table.restore_cursor("shop")
        await pilot.press("A")  # healthy: nothing to hold
        assert isinstance(app.screen, BoardScreen)
        assert any("not failing" in n.message for n in app._notifications)


def test_one_endpoint_is_not_endpoints() -> None:
    from gatewatch.tui import format as fmt

    assert [fmt.count(n, "endpoint") for n in (0, 1, 2)] == [
        "0 endpoints",
        "1 endpoint",
        "2 endpoints",
    ]
