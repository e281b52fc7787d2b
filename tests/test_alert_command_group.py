"""A hung alert command and its children never outlive `gatewatch watch`: the command runs
in its own process group, killed on its timeout and when watch stops. Real processes."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gatewatch.lab import Lab

DEADLINE = 60.0  # a failure bound on a loaded machine


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def until(what: str, predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_watch(
    tmp_path: Path, lab: Lab, command_timeout: str
) -> tuple[subprocess.Popen[str], Path]:
    pids = tmp_path / "pids"
    script = f"sleep 1000 & echo $! >> {pids}; sleep 1000 & echo $! >> {pids}; wait"
    watchlist = tmp_path / "w.toml"
    watchlist.write_text(
        "version = 1\n"
        "[alerts]\n"
        f"command = {json.dumps('sh -c ' + repr(script))}\n"
        f'command_timeout = "{command_timeout}"\n'
        "[[endpoint]]\n"
        'name = "dead"\n'
        f'url = "http://127.0.0.1:{lab.refused_port}/"\n'
        'interval = "500ms"\n'
        "down_after = 1\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatewatch", "watch", str(watchlist), "--json",
         "--history", str(tmp_path / "h.sqlite3")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    return proc, pids


def next_record(proc: subprocess.Popen[str], kind: str) -> dict[str, object]:
    """The next JSON line of ``kind`` that watch prints (read in a thread: a deadline)."""
    found: queue.SimpleQueue[dict[str, object]] = queue.SimpleQueue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            record = json.loads(line)
            if record["type"] == kind:
                found.put(record)
                return

    threading.Thread(target=read, daemon=True).start()
    try:
        return found.get(timeout=DEADLINE)
    except queue.Empty:
        pytest.fail(f"no {kind} line within {DEADLINE}s")


def children(pids: Path) -> list[int]:
    if not pids.exists():
        return []
    return [int(line) for line in pids.read_text().split()]


def test_hung_command_children_die_when_watch_stops(tmp_path: Path, lab: Lab) -> None:
    proc, pids = start_watch(tmp_path, lab, "10m")
    try:
        until("the alert command's two sleeps", lambda: len(children(pids)) == 2)
        sleeps = children(pids)
        assert all(alive(pid) for pid in sleeps)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    until("the sleeps to be gone", lambda: not any(alive(pid) for pid in sleeps))
    lines = [json.loads(line) for line in out.splitlines()]
    failed = [line for line in lines if line["type"] == "alert_failed"]
    assert failed and failed[-1]["undelivered"] == 1
    assert "not delivered: gatewatch stopped" in failed[-1]["reason"]


def test_a_command_past_its_timeout_is_killed_with_its_children(tmp_path: Path, lab: Lab) -> None:
    proc, pids = start_watch(tmp_path, lab, "1s")
    try:
        until("the alert command's two sleeps", lambda: len(children(pids)) >= 2)
        sleeps = children(pids)[:2]
        record = next_record(proc, "alert_failed")
        assert "did not finish within 1s" in str(record["reason"])
        until("the sleeps to be gone", lambda: not any(alive(pid) for pid in sleeps))
        assert proc.poll() is None  # watch goes on
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
