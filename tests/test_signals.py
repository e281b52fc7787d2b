"""SIGTERM and SIGHUP end the board and the demo like `q`: the terminal is restored and
the demo's temporary folders (TLS private keys) are removed.

Real processes in a real terminal: tmux (on a private socket) runs `gatewatch`, the test
signals the process by its pid, then asks tmux what state the pane's terminal was left
in (alternate screen, mouse tracking, cursor) and looks for the folders.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

DEADLINE = 60.0  # a failure bound on a loaded machine, not a pause


class Tmux:
    """One tmux server of our own, so nothing touches anyone else's sessions."""

    def __init__(self) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is not installed (scripts/test installs it)")
        self.socket = f"gatewatch-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        return done.stdout

    def wait_for(self, what: str, predicate: object) -> None:
        assert callable(predicate)
        deadline = time.monotonic() + DEADLINE
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self('capture-pane', '-p')}")
            time.sleep(0.1)

    def state(self) -> dict[str, str]:
        keys = ["alternate_on", "cursor_flag", "mouse_any_flag", "mouse_button_flag",
                "mouse_standard_flag", "mouse_sgr_flag"]  # fmt: skip
        line = self("display-message", "-p", "-t", "t", " ".join(f"#{{{k}}}" for k in keys))
        return dict(zip(keys, line.split(), strict=True))

    def close(self) -> None:
        self("kill-server")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux()
    yield server
    server.close()


def start(tmux: Tmux, tmp_path: Path, *argv: str) -> int:
    """Run `gatewatch ARGV` in an 80x24 pane; the pane stays open after it exits and
    prints the exit status. Returns the pid of the gatewatch process."""
    pid_file = tmp_path / "pid"
    env = {
        "TMPDIR": str(tmp_path),  # tempfile's folders land here, where the test looks
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}='{v}'" for k, v in env.items())
    command = (
        f"export {exports}; {sys.executable} -c 'import os, sys; "
        f'open("{pid_file}", "w").write(str(os.getpid())); '
        f"from gatewatch.cli import main; sys.exit(main(sys.argv[1:]))' {' '.join(argv)}; "
        "echo EXIT=$?; sleep 600"
    )
    tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", command)
    tmux.wait_for("the pid", lambda: pid_file.exists() and pid_file.read_text().strip())
    return int(pid_file.read_text())


def folders(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.glob("gatewatch-*"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_signal_ends_the_demo_like_q(tmux: Tmux, tmp_path: Path, signum: int) -> None:
    pid = start(tmux, tmp_path, "demo")
    tmux.wait_for("the board", lambda: "shop" in tmux("capture-pane", "-p", "-t", "t"))
    tmux.wait_for("alternate screen and mouse", lambda: tmux.state()["alternate_on"] == "1")
    made = folders(tmp_path)
    assert {p.name.split("-")[1] for p in made} == {"demo", "lab"}
    assert all((p.stat().st_mode & 0o777) == 0o700 for p in made)  # they hold private keys
    assert any(made[0].rglob("*key*")) or any(made[1].rglob("*key*"))
    os.kill(pid, signum)
    tmux.wait_for("the exit", lambda: "EXIT=" in tmux("capture-pane", "-p", "-t", "t"))
    screen = tmux("capture-pane", "-p", "-t", "t")
    assert "EXIT=0" in screen and "Traceback" not in screen
    assert tmux.state() == {
        "alternate_on": "0",
        "cursor_flag": "1",
        "mouse_any_flag": "0",
        "mouse_button_flag": "0",
        "mouse_standard_flag": "0",
        "mouse_sgr_flag": "0",
    }
    assert folders(tmp_path) == []


def test_sigterm_ends_the_board_like_q(tmux: Tmux, tmp_path: Path) -> None:
    watchlist = tmp_path / "w.toml"
    watchlist.write_text('version = 1\n[[endpoint]]\nname = "shop"\nurl = "http://127.0.0.1:9/"\n')
    pid = start(tmux, tmp_path, str(watchlist))
    tmux.wait_for("the board", lambda: "shop" in tmux("capture-pane", "-p", "-t", "t"))
    os.kill(pid, signal.SIGTERM)
    tmux.wait_for("the exit", lambda: "EXIT=" in tmux("capture-pane", "-p", "-t", "t"))
    assert "EXIT=0" in tmux("capture-pane", "-p", "-t", "t")
    state = tmux.state()
    assert state["alternate_on"] == "0" and state["cursor_flag"] == "1"
    assert state["mouse_any_flag"] == state["mouse_sgr_flag"] == "0"


def test_a_closed_terminal_never_blocks_the_way_out() -> None:
    """Textual writes through one thread with a 30-write queue; a write to a closed
    terminal (EIO) used to end that thread, and the 31st write then blocked the board
    forever (seen in bench_tmux_keys.py). Through TerminalFile the thread lives on."""
    from textual.drivers._writer_thread import WriterThread

    from gatewatch.tui.terminal import TerminalFile

    class ClosedTerminal:
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            raise OSError(5, "Input/output error")

        def flush(self) -> None:
            raise OSError(5, "Input/output error")

    closed = ClosedTerminal()
    terminal = TerminalFile(closed)  # type: ignore[arg-type]
    writer = WriterThread(terminal)  # type: ignore[arg-type]
    writer.start()
    finished = threading.Event()

    def write_a_lot() -> None:
        for _ in range(200):
            writer.write("\x1b[?1049l frame")
        writer.stop()
        finished.set()

    threading.Thread(target=write_a_lot, daemon=True).start()
    assert finished.wait(DEADLINE), "the board's writes blocked on a closed terminal"
    assert terminal.gone and closed.writes == 1  # one failure, then nothing more is tried
    assert not writer.is_alive()  # stopped by stop(), not killed by the error


def test_closing_the_terminal_ends_the_board(tmux: Tmux, tmp_path: Path) -> None:
    """The tmux server goes away (as an SSH session drops): the board gets SIGHUP from
    its terminal, not from us, and must exit although the terminal cannot be restored."""
    pid = start(tmux, tmp_path, "demo")
    tmux.wait_for("the board", lambda: "shop" in tmux("capture-pane", "-p", "-t", "t"))
    tmux.close()
    deadline = time.monotonic() + DEADLINE
    while _alive(pid):
        assert time.monotonic() < deadline, f"the board (pid {pid}) outlived its terminal"
        time.sleep(0.1)  # a process has no exit event we can wait on here
    assert folders(tmp_path) == []  # it left as `q` leaves: the demo's keys removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
