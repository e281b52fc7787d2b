"""Untrusted text on every surface: shown literally, never markup, never a control code.

A header ``[bold red]x[/]``, a body ``[/]`` (a MarkupError in any widget that parses
markup) and ``ESC ] 0 ; pwned BEL`` (retitles a terminal) go into each place a server or
the watchlist can put text. The board, the detail screen, the palette and the toasts must
show them as written (controls as visible symbols) and nothing may crash.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Static

from gatewatch import watchlist as wl
from gatewatch.board import Row
from gatewatch.model import Endpoint, Hop, Verdict
from gatewatch.monitor import ProbeCompleted, State, StateChanged, TransitionEvent
from gatewatch.tui.app import GatewatchApp
from gatewatch.tui.screens.detail import DetailScreen
from test_tui_samples import HOSTILE, FakeEngine, clock, gateway_502

SHOWN = "[bold red]x[/] ␛]0;pwned␇"


def screen_text(app: App[Any]) -> str:
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False)


async def settled(pilot: Pilot[Any], ready: Callable[[str], bool], within: float = 5.0) -> str:
    """The screen's text once ``ready`` says so (messages land later on a loaded machine)."""
    deadline = time.monotonic() + within
    while True:
        await pilot.pause()
        text = screen_text(pilot.app)
        if ready(text) or time.monotonic() > deadline:
            return text
        await pilot.pause(0.05)


def hostile_case(where: str) -> tuple[Endpoint, ProbeCompleted]:
    name = HOSTILE if where == "name" else "victim"
    url = "https://victim.example/" + (HOSTILE if where == "url" else "ok")
    result = gateway_502(name, url)
    response = result.response
    assert response is not None and result.verdict is not None
    if where == "header":
        response = response.__class__(**{**response.__dict__, "headers": (("X-Evil", HOSTILE),)})
    elif where == "reason":
        response = response.__class__(**{**response.__dict__, "reason": HOSTILE})
    elif where == "body":
        body = f"[/]\n{HOSTILE}\n".encode()
        response = response.__class__(**{**response.__dict__, "body": body, "body_size": len(body)})
    verdict = result.verdict
    if where == "evidence":
        verdict = Verdict(**{**verdict.__dict__, "evidence": (HOSTILE, "[/]")})
    elif where == "summary":
        verdict = Verdict(**{**verdict.__dict__, "summary": HOSTILE})
    elif where == "next_steps":
        verdict = Verdict(**{**verdict.__dict__, "next_steps": (HOSTILE,)})
    hops = result.hops
    if where == "cert":
        hops = tuple(
            Hop("tls", "ok", 4.0, detail={"subject": HOSTILE, "issuer": "[/]", "sans": [HOSTILE]})
            if h.name == "tls"
            else h
            for h in hops
        )
    elif where == "error":
        hops = tuple(
            Hop(h.name, h.status, h.ms, HOSTILE, "x", h.detail) if h.name == "upstream" else h
            for h in hops
        )
    result = result.replace(response=response, verdict=verdict, hops=hops)
    endpoint = Endpoint(name=name, url=url, tags=(HOSTILE,) if where == "tag" else ())
    return endpoint, ProbeCompleted(name, result, State.DOWN)


PLACES = [
    "name",
    "url",
    "tag",
    "header",
    "reason",
    "body",
    "evidence",
    "summary",
    "next_steps",
    "cert",
    "error",
]


@pytest.mark.parametrize("where", PLACES)
async def test_hostile_text_is_shown_literally(where: str, tmp_path: Path) -> None:
    endpoint, completed = hostile_case(where)
    engine = FakeEngine([endpoint])
    app = GatewatchApp(
        wl.Watchlist.empty(tmp_path / "watchlist.toml"),
        engine,
        config_dir=tmp_path / "config",
        clock=clock,
        start_engine=False,
    )
    async with app.run_test(size=(160, 60), notifications=True) as pilot:
        # Names with control characters cannot enter a watchlist, but can come back from
        # the history (a replayed endpoint deleted since), so the rows take them directly.
        app.state._rows[endpoint.name] = Row(endpoint=endpoint)
        event = TransitionEvent(clock(), endpoint.name, State.UP, State.DOWN, None, HOSTILE)
        engine.publish([StateChanged(event), completed])
        app.drain()
        expect_on_board = where in ("name", "url", "summary")
        board = await settled(pilot, lambda text: not expect_on_board or SHOWN in text)
        await pilot.press("enter")
        await settled(pilot, lambda _: isinstance(app.screen, DetailScreen))
        detail_screen = app.screen
        assert isinstance(detail_screen, DetailScreen)
        detail_screen.events = [event]
        detail_screen.show()
        await pilot.pause()
        detail = screen_text(app)
        # Sections below the fold are checked as the Content they would draw.
        drawn = "\n".join(
            content.plain
            for widget in detail_screen.query(Static)
            if isinstance(content := widget.render(), Content)
        )
        await pilot.press("escape", "p")  # a toast that names the endpoint
        await pilot.pause()
        if where == "name":
            await pilot.press("ctrl+p", *"Go to", "enter")  # the palette lists names
            await settled(pilot, lambda _: isinstance(app.screen, DetailScreen))
        assert app.is_running
    for text in (board, detail, drawn):
        assert "\x1b" not in text and "\x07" not in text
    assert SHOWN in drawn
    if expect_on_board:
        assert SHOWN in board


INVISIBLE = "moc.\u202eknab \x9b6n"
INVISIBLE_SHOWN = "moc.\\u202eknab \\x9b6n"


async def test_bidi_and_c1_are_spelled_out_everywhere(tmp_path: Path) -> None:
    """U+202E (right-to-left override) and U+009B (C1 CSI) in the certificate, the reason,
    a header, the body, an error, the summary and the evidence: the board and the detail
    screen show them spelled out, never raw."""
    endpoint = Endpoint(name="victim", url="https://victim.example/ok")
    result = gateway_502("victim", endpoint.url)
    response, verdict = result.response, result.verdict
    assert response is not None and verdict is not None
    body = f"<h1>{INVISIBLE}</h1>".encode()
    response = response.__class__(
        **{
            **response.__dict__,
            "reason": INVISIBLE,
            "headers": (("X-Evil", INVISIBLE),),
            "body": body,
            "body_size": len(body),
        }
    )
    cert = {"subject": INVISIBLE, "issuer": f"O={INVISIBLE}", "sans": [INVISIBLE]}
    hops = tuple(
        Hop("tls", "ok", 4.0, detail=cert)
        if h.name == "tls"
        else Hop(h.name, h.status, h.ms, INVISIBLE, "x", h.detail)
        if h.name == "upstream"
        else h
        for h in result.hops
    )
    verdict = Verdict(**{**verdict.__dict__, "summary": INVISIBLE, "evidence": (INVISIBLE,)})
    result = result.replace(response=response, verdict=verdict, hops=hops)
    engine = FakeEngine([endpoint])
    app = GatewatchApp(
        wl.Watchlist.empty(tmp_path / "watchlist.toml"),
        engine,
        config_dir=tmp_path / "config",
        clock=clock,
        start_engine=False,
    )
    async with app.run_test(size=(160, 60)) as pilot:
        app.state._rows[endpoint.name] = Row(endpoint=endpoint)
        engine.publish([ProbeCompleted("victim", result, State.DOWN)])
        app.drain()
        board = await settled(pilot, lambda text: INVISIBLE_SHOWN in text)
        await pilot.press("enter")
        await settled(pilot, lambda _: isinstance(app.screen, DetailScreen))
        detail_screen = app.screen
        assert isinstance(detail_screen, DetailScreen)
        detail = screen_text(app)
        drawn = "\n".join(
            content.plain
            for widget in detail_screen.query(Static)
            if isinstance(content := widget.render(), Content)
        )
    for text in (board, detail, drawn):
        assert "\u202e" not in text and "\x9b" not in text
    assert INVISIBLE_SHOWN in board
    assert drawn.count(INVISIBLE_SHOWN) >= 4  # subject, issuer, reason, summary …
