"""The board in a real terminal (tmux), as an engineer opens it mid-incident.

A watchlist with one closed port at the default interval (30 s): the board must say DOWN
within 5 s of drawing, which needs every endpoint probed at once on start (the scheduler's
job, issue 13) and a state that settles quickly. tmux is a Debian package scripts/test
installs; a missing tmux fails the test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

DRAW_DEADLINE = 30.0  # a failure bound for a loaded machine, not a measurement
DOWN_WITHIN = 5.0


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class Terminal:
    """A detached tmux session of a fixed size running one command."""

    def __init__(self, name: str, command: str, size: tuple[int, int], env: dict[str, str]):
        self.name = name
        tmux = shutil.which("tmux")
        assert tmux is not None, "tmux is missing (scripts/test installs it)"
        self.tmux = tmux
        width, height = size
        subprocess.run(
            [tmux, "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), command],
            check=True,
            env=env,
        )

    def screen(self) -> str:
        out = subprocess.run(
            [self.tmux, "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def wait_for(self, text: str, within: float) -> tuple[str, float]:
        """The screen once ``text`` is on it, and how long that took; fails at ``within``."""
        start = time.monotonic()
        while True:
            screen = self.screen()
            if text in screen:
                return screen, time.monotonic() - start
            if time.monotonic() - start > within:
                raise AssertionError(f"{text!r} not on screen within {within}s:\n{screen}")
            time.sleep(0.1)  # polling a terminal: there is no event to wait on

    def close(self) -> None:
        subprocess.run([self.tmux, "kill-session", "-t", self.name], check=False)


@pytest.fixture
def board_on_a_closed_port(tmp_path: Path) -> Iterator[Terminal]:
    watchlist = tmp_path / "watchlist.toml"
    port = closed_port()
    watchlist.write_text(
        f'version = 1\n\n[[endpoint]]\nname = "checkout"\nurl = "http://127.0.0.1:{port}/health"\n'
    )
    src = Path(__file__).resolve().parent.parent / "src"
    env = {
        **os.environ,
        "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "TERM": "xterm-256color",
    }
    command = f"{sys.executable} -m gatewatch {watchlist}"
    terminal = Terminal(f"gatewatch-test-{os.getpid()}", command, (80, 24), env)
    try:
        yield terminal
    finally:
        terminal.close()


def test_a_closed_port_is_down_within_5_seconds(board_on_a_closed_port: Terminal) -> None:
    terminal = board_on_a_closed_port
    terminal.wait_for("State", DRAW_DEADLINE)  # the board is drawn: the clock starts here
    screen, _ = terminal.wait_for("DOWN", DOWN_WITHIN)
    line = next(line for line in screen.splitlines() if "checkout" in line and "DOWN" in line)
    assert "refused" in line  # and the row says why, at 80 columns
