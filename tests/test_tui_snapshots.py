"""A few pinned pictures of the board, the detail screen and the help (pytest-textual-snapshot).

Deterministic: fixed results and a fixed clock (no live probes), config folder in
tmp_path, cursor blink off, fixed terminal size. Update with ``--snapshot-update`` after
checking the new pictures by eye.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from gatewatch.model import Endpoint
from gatewatch.monitor import Ack, Acknowledged, Message, ProbeCompleted, State, StateChanged
from gatewatch.tui.app import GatewatchApp
from gatewatch.tui.screens import endpoint_form
from snapshot_support import SnapCompare
from test_tui_samples import (
    NOW,
    FakeEngine,
    cases,
    event,
    gateway_502,
    healthy,
    local_problem,
    messages,
    quiet_app,
    watchlist_for,
)

SIZE = (120, 36)


@pytest.fixture(autouse=True)
def no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endpoint_form, "CURSOR_BLINK", False)


FEED = Endpoint(name="feed (flapping)", url="http://feed.example/items", tags=("prod",))
QUEUE = Endpoint(name="queue", url="https://queue.example/health")


def incident() -> list[Message]:
    """A flapping endpoint (good and failed probes in turn: the Recent column), one just
    added that already got a 502 (PENDING, but it says why), and checkout acknowledged."""
    out: list[Message] = [
        StateChanged(event(FEED.name, State.UP, State.FLAPPING, "flapping", 120)),
    ]
    for i in range(8):
        bad = gateway_502(FEED.name, FEED.url)
        good = healthy(FEED.name, FEED.url, 20.0 + 5 * i)
        out.append(ProbeCompleted(FEED.name, bad if i % 2 else good, State.FLAPPING))
    out.append(ProbeCompleted(QUEUE.name, gateway_502(QUEUE.name, QUEUE.url), State.PENDING))
    two_minutes_ago = NOW - timedelta(minutes=2)
    ack = Ack(endpoint="checkout", by="alice", reason="failing over the DB", at=two_minutes_ago)
    out.append(Acknowledged(ack))
    return out


def app_for(
    tmp_path: Path, theme: str | None = None, extra: tuple[Endpoint, ...] = ()
) -> GatewatchApp:
    items = cases()
    endpoints = [*(c.endpoint for c in items), *extra]
    watchlist = watchlist_for(endpoints, tmp_path / "watchlist.toml")
    config = tmp_path / "config"
    if theme is not None:
        config.mkdir()
        (config / "tui.toml").write_text(f'theme = "{theme}"\n')
    return quiet_app(watchlist, FakeEngine(endpoints), tmp_path, tick_interval=3600)


def fed(*extra: Message) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()  # let the board mount first
        app = pilot.app
        assert isinstance(app, GatewatchApp)
        engine = app.engine
        assert isinstance(engine, FakeEngine)
        engine.publish([*messages(cases()), *extra])
        app.drain()
        await pilot.pause()

    return run_before


def test_board(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(app_for(tmp_path), terminal_size=SIZE, run_before=fed(local_problem()))


def test_board_light_theme(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = app_for(tmp_path, theme="gatewatch-light")
    assert snap_compare(app, terminal_size=SIZE, run_before=fed())


def test_detail_of_a_gateway_502(snap_compare: SnapCompare, tmp_path: Path) -> None:
    # checkout is second in failing-first order: down one row, then describe it.
    assert snap_compare(
        app_for(tmp_path), terminal_size=SIZE, run_before=fed(), press=["j", "d", "wait:200"]
    )


def test_help(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(
        app_for(tmp_path), terminal_size=SIZE, run_before=fed(), press=["question_mark"]
    )


def test_add_form_shows_errors_as_you_type(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(
        app_for(tmp_path), terminal_size=SIZE, run_before=fed(), press=["a", *"shop"]
    )


# --------------------------------------------------------------------------- in an incident


def test_incident_at_80x24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """Every failing row says why at 80 columns; failures stand out in Recent."""
    app = app_for(tmp_path, extra=(FEED, QUEUE))
    assert snap_compare(app, terminal_size=(80, 24), run_before=fed(*incident()))


def test_incident_at_160x45(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = app_for(tmp_path, extra=(FEED, QUEUE))
    assert snap_compare(app, terminal_size=(160, 45), run_before=fed(*incident()))


def test_help_inside_80x24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = app_for(tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=fed(), press=["question_mark"])
