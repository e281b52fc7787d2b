"""The board through Pilot: every action, with fixed data and a fake engine (no clocks).

Where the wire matters (results crossing from the engine thread, pause and probe now
against real servers) see test_tui_lab.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from gatewatch import watchlist as wl
from gatewatch.monitor import (
    AlertFailed,
    HistoryRestored,
    HistoryUnavailable,
    Message,
    ProbeCompleted,
    State,
)
from gatewatch.tui.app import GatewatchApp
from gatewatch.tui.screens.board import BoardScreen
from gatewatch.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from gatewatch.tui.screens.detail import DetailScreen
from gatewatch.tui.screens.endpoint_form import EndpointForm
from gatewatch.tui.screens.help import HelpScreen
from gatewatch.tui.screens.replay_prompt import ReplayPrompt
from gatewatch.tui.widgets.banner import Banner
from test_tui_samples import (
    NOW,
    FakeEngine,
    cases,
    healthy,
    local_problem,
    messages,
    quiet_app,
    watchlist_for,
)

SIZE = (120, 36)


@dataclass
class Board:
    app: GatewatchApp
    engine: FakeEngine
    pilot: Pilot[int]
    path: Path

    @property
    def screen(self) -> BoardScreen:
        return self.app.board

    @property
    def order(self) -> list[str]:
        return self.screen.table.order

    async def feed(self, items: Sequence[Message]) -> None:
        self.engine.publish(items)
        self.app.drain()
        await self.pilot.pause()

    async def select(self, name: str) -> None:
        self.screen.table.restore_cursor(name)
        await self.pilot.pause()
        assert self.screen.table.highlighted_name == name


def make_app(tmp_path: Path) -> tuple[GatewatchApp, FakeEngine, Path]:
    items = cases()
    path = tmp_path / "watchlist.toml"
    watchlist = watchlist_for([c.endpoint for c in items], path)
    engine = FakeEngine([c.endpoint for c in items])
    return quiet_app(watchlist, engine, tmp_path), engine, path


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[Board]:
    app, engine, path = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        b = Board(app, engine, pilot, path)
        await b.feed(messages(cases()))
        yield b


async def type_into(pilot: Pilot[int], selector: str, text: str) -> None:
    """Type ``text`` into the focused field one key at a time (validation runs per key)."""
    pilot.app.screen.query_one(selector).focus()
    await pilot.press(*text)


# --------------------------------------------------------------------------- live board


async def test_failing_first_and_live_updates_keep_the_cursor(board: Board) -> None:
    assert board.order[:3] == ["api", "checkout", "legacy"]
    await board.select("search")
    bad = cases()[2].result  # the DNS failure
    assert bad is not None
    await board.feed([ProbeCompleted("shop", bad.replace(name="shop"), State.DOWN)])
    assert board.order.index("shop") < board.order.index("search")
    assert board.screen.table.highlighted_name == "search"  # the cursor followed its row
    status = board.screen.query_one("#status-line", Static).render()
    assert "4 down" in str(status)


async def test_filter_by_tag_and_text_then_clear(board: Board) -> None:
    await board.pilot.press("slash")
    assert board.screen.query_one("#filter", Input).has_focus
    await board.pilot.press(*"#payments", "enter")
    assert board.order == ["checkout", "billing"]
    assert board.screen.table.has_focus
    await board.pilot.press("escape")
    assert len(board.order) == 8


async def test_sort_keys(board: Board) -> None:
    await board.pilot.press("N")
    assert board.order == sorted(board.order)
    await board.pilot.press("L")
    assert board.order[0] == "search"
    await board.pilot.press("s")  # latency → most recent failures first (every column cycles)
    assert str(board.screen.sort_mode) == "failures"
    assert board.order[-2:] == ["shop", "batch"]  # no failures, UP before PAUSED
    await board.pilot.press("S")
    assert board.order[0] == "api"


async def test_pause_resume_probe_now(board: Board) -> None:
    await board.select("shop")
    await board.pilot.press("p")
    board.app.drain()
    await board.pilot.pause()
    assert ("pause", "shop") in board.engine.calls
    assert board.app.state.rows["shop"].state == State.PAUSED
    await board.select("shop")
    await board.pilot.press("p")
    assert ("resume", "shop") in board.engine.calls
    await board.pilot.press("r")
    assert ("probe_now", "shop") in board.engine.calls
    await board.pilot.press("P")
    assert ("pause_all", None) in board.engine.calls


async def test_drill_down_and_back(board: Board) -> None:
    await board.select("checkout")
    await board.pilot.press("enter")
    screen = board.app.screen
    assert isinstance(screen, DetailScreen)
    text = " ".join(
        str(w.render()) for w in screen.query(Static) if w.id and w.id.startswith("detail-")
    )
    assert "nginx answered 502" in text
    assert "Through the gateway" in text and "Origin (direct)" in text
    assert "check nginx's error.log" in text
    assert "Server: nginx/1.25" in text
    await board.pilot.press("escape")
    assert isinstance(board.app.screen, BoardScreen)
    assert board.screen.table.highlighted_name == "checkout"


async def test_help_opens_and_closes(board: Board) -> None:
    await board.pilot.press("question_mark")
    assert isinstance(board.app.screen, HelpScreen)
    await board.pilot.press("escape")
    assert isinstance(board.app.screen, BoardScreen)


async def test_banners(board: Board) -> None:
    await board.feed([local_problem(), HistoryUnavailable("disk full")])
    assert board.screen.query_one("#banner-local", Banner).shown
    assert board.screen.query_one("#banner-history", Banner).shown
    await board.feed([local_problem().__class__(False, "")])
    assert not board.screen.query_one("#banner-local", Banner).shown


async def test_status_says_when_history_is_not_on_disk_and_alerts_were_lost(
    board: Board,
) -> None:
    def status() -> str:
        return str(board.screen.query_one("#status-line", Static).render())

    assert "history in memory" not in status() and "undelivered" not in status()
    await board.feed([HistoryUnavailable("locked"), AlertFailed("webhook", "HTTP 500", 12)])
    assert "history in memory" in status() and "12 alerts undelivered" in status()
    await board.feed([HistoryRestored("back", 40), AlertFailed("command", "exit 1")])
    assert "history in memory" not in status() and "13 alerts undelivered" in status()
    assert not board.screen.query_one("#banner-history", Banner).shown


# --------------------------------------------------------------------------- editing


async def test_add_validates_as_you_type_and_adds(board: Board) -> None:
    await board.pilot.press("a")
    form = board.app.screen
    assert isinstance(form, EndpointForm)
    save = form.query_one("#save", Button)
    assert save.disabled and set(form.errors) == {"name", "url"}
    await type_into(board.pilot, "#field-name", "shop")
    assert "already named" in form.errors["name"]
    await board.pilot.press("2")
    await type_into(board.pilot, "#field-url", "ftp:/x")
    assert "url" in form.errors and save.disabled
    form.query_one("#field-url", Input).value = "https://shop2.example/health"
    await type_into(board.pilot, "#field-tags", "prod, new")
    await board.pilot.pause()
    assert form.errors == {} and not save.disabled
    await board.pilot.press("ctrl+s")
    assert isinstance(board.app.screen, BoardScreen)
    assert "shop2" in board.order
    added = board.app.state.watchlist.find("shop2")
    assert added is not None and added.tags == ("prod", "new")
    assert ("add", added) in board.engine.calls
    assert "unsaved" in str(board.screen.query_one("#status-line", Static).render())


async def test_edit_changes_the_endpoint(board: Board) -> None:
    await board.select("shop")
    await board.pilot.press("e")
    form = board.app.screen
    assert isinstance(form, EndpointForm)
    assert form.query_one("#field-url", Input).value == "https://shop.example/health"
    interval = form.query_one("#field-interval", Input)
    interval.value = "5s"
    await board.pilot.pause()
    await board.pilot.press("ctrl+s")
    edited = board.app.state.watchlist.find("shop")
    assert edited is not None and edited.interval == 5.0
    assert ("update", edited) in board.engine.calls
    assert board.app.state.dirty


async def test_cancel_form_changes_nothing(board: Board) -> None:
    await board.pilot.press("a", "escape")
    assert isinstance(board.app.screen, BoardScreen)
    assert not board.app.state.dirty


async def test_delete_asks_first(board: Board) -> None:
    await board.select("legacy")
    await board.pilot.press("ctrl+d")
    assert isinstance(board.app.screen, ConfirmScreen)
    await board.pilot.press("enter")  # the default button is Cancel
    assert "legacy" in board.order
    await board.pilot.press("ctrl+d", "y")
    assert "legacy" not in board.order
    assert ("remove", "legacy") in board.engine.calls


async def test_save_writes_the_file_atomically_with_a_backup(board: Board) -> None:
    await board.select("legacy")
    await board.pilot.press("ctrl+d", "y", "ctrl+s")
    await board.app.workers.wait_for_complete()
    await board.pilot.pause()
    assert not board.app.state.dirty
    saved = wl.load(board.path)
    assert "legacy" not in saved.names and len(saved.names) == 7
    assert "legacy" in (board.path.parent / "watchlist.toml.bak").read_text()
    assert "unsaved" not in str(board.screen.query_one("#status-line", Static).render())


async def test_save_conflict_asks_before_overwriting(board: Board) -> None:
    board.path.write_text(board.path.read_text() + "\n# edited elsewhere\n")
    await board.select("legacy")
    await board.pilot.press("ctrl+d", "y", "ctrl+s")
    await board.app.workers.wait_for_complete()
    await board.pilot.pause()
    assert isinstance(board.app.screen, ChoiceScreen)
    board.app.screen.query_one("#overwrite", Button).press()
    await board.pilot.pause()
    await board.app.workers.wait_for_complete()
    await board.pilot.pause()
    assert "legacy" not in wl.load(board.path).names


async def test_quit_with_unsaved_changes(board: Board) -> None:
    await board.select("legacy")
    await board.pilot.press("ctrl+d", "y", "q")
    assert isinstance(board.app.screen, ChoiceScreen)
    await board.pilot.press("escape")  # cancel: still running
    assert isinstance(board.app.screen, BoardScreen) and board.app.is_running
    await board.pilot.press("q")
    board.app.screen.query_one("#save", Button).press()
    await board.pilot.pause()
    await board.app.workers.wait_for_complete()
    await board.pilot.pause()
    assert "legacy" not in wl.load(board.path).names
    assert board.app.return_value == 0


async def test_quit_without_changes_is_immediate(board: Board) -> None:
    await board.pilot.press("q")
    await board.pilot.pause()
    assert board.app.return_value == 0


# --------------------------------------------------------------------------- replay


async def test_replay_shows_the_past_and_esc_returns_to_live(board: Board) -> None:
    history = board.engine.history.open()
    earlier = healthy("checkout", "https://checkout.example/health").replace(
        started_at=NOW - timedelta(minutes=30)
    )
    history.record_probe(earlier, State.UP)
    assert history.flush()
    await board.select("checkout")
    await board.pilot.press("t")
    assert isinstance(board.app.screen, ReplayPrompt)
    await board.pilot.press(*"-15m", "enter")
    await board.app.workers.wait_for_complete()
    await board.pilot.pause()
    screen = board.screen
    assert screen.replay_at == NOW - timedelta(minutes=15)
    assert screen.query_one("#banner-replay", Banner).shown
    rows = {r.name: r for r in screen.rows()}
    assert rows["checkout"].state == State.UP and rows["shop"].state is None
    assert screen.table.highlighted_name == "checkout"
    assert screen.check_action("edit", ()) is None  # editing is off in replay
    await board.pilot.press("escape")
    assert screen.replay_at is None and not screen.query_one("#banner-replay", Banner).shown
    assert board.app.state.rows["checkout"].state == State.DOWN


# --------------------------------------------------------------------------- themes


async def test_theme_switch_from_the_palette_is_remembered(tmp_path: Path) -> None:
    app, _, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "gatewatch-dark"
        dark = app.board.palette.styles["down"].color
        await pilot.press("ctrl+p")
        await pilot.press(*"gatewatch-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.theme == "gatewatch-light"
        assert app.board.palette.styles["down"].color != dark
    assert 'theme = "gatewatch-light"' in (tmp_path / "config" / "tui.toml").read_text()
    again, _, _ = make_app(tmp_path)
    assert again.theme == "gatewatch-light"


async def test_bad_user_theme_is_reported_once(tmp_path: Path) -> None:
    themes = tmp_path / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "a.toml").write_text('name = "a"\nprimary = "nope"\n')
    (themes / "b.toml").write_text("name = [")
    app, _, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        notes = list(app._notifications)
        assert len(notes) == 1
        assert "a.toml" in notes[0].message and "b.toml" in notes[0].message
        assert app.theme == "gatewatch-dark"


async def test_no_color_picks_high_contrast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app, _, _ = make_app(tmp_path)
    assert app.no_color and app.theme == "gatewatch-high-contrast"


async def test_checklist_opens_from_the_board_and_the_detail(
    board: Board, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gatewatch.checklist import ProgressStore
    from gatewatch.tui.screens.checklist import ChecklistScreen

    board.app.checklists = ProgressStore(tmp_path / "progress")
    await board.select("checkout")
    await board.pilot.press("c")
    screen = board.app.screen
    assert isinstance(screen, ChecklistScreen) and screen.endpoint.name == "checkout"
    assert screen.result is board.app.state.rows["checkout"].result
    await board.app.workers.wait_for_complete()
    await board.pilot.press("escape")
    assert isinstance(board.app.screen, BoardScreen)
    await board.pilot.press("d", "c")
    assert isinstance(board.app.screen, ChecklistScreen)


async def test_results_while_the_board_is_torn_down_do_not_crash(tmp_path: Path) -> None:
    """On a loaded CI machine results were drained while the board's widgets were being
    removed (teardown detaches the status line before the table): NoMatches killed the
    app. The screen holds its widgets, so drawing into detached ones is harmless."""
    from textual.widgets import Static

    app, engine, _path = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        board = app.screen
        assert isinstance(board, BoardScreen)
        await board.query_one("#status-line", Static).remove()
        await board.query_one("#inspector", Static).remove()
        engine.publish(messages(cases()))
        app.drain()  # must not raise NoMatches
        await pilot.pause()
        assert app.is_running
        assert board.table.order[:3] == ["api", "checkout", "legacy"]
