"""``gatewatch watch`` without a board: lines out, clean stop on a signal, exit 0."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from gatewatch.cli.watch import format_message, run_watch
from gatewatch.model import Endpoint
from gatewatch.monitor import LocalProblem, Monitor, State, StateChanged
from gatewatch.monitor.state import TransitionEvent
from test_monitor_support import T0, FakeProbe, endpoint, identity

SRC = str(Path(__file__).resolve().parents[1] / "src")


def fake_monitor(probe: FakeProbe, endpoints: list[Endpoint], **kw: Any) -> Monitor:
    kw.update(probe=probe, annotate=identity, resolver_check=None)
    return Monitor(endpoints, **kw)


def watch_for(seconds: float, *, json_lines: bool, tmp_path: Path) -> str:
    out = io.StringIO()
    stop = threading.Event()
    threading.Timer(seconds, stop.set).start()
    code = run_watch(
        [endpoint("good", interval=0.05), endpoint("bad", interval=0.05)],
        None,
        json_lines=json_lines,
        history_path=tmp_path / "h.sqlite3",
        out=out,
        stop=stop,
        monitor_factory=partial(fake_monitor, FakeProbe(failing={"bad"})),
        gc_tuning=False,
    )
    assert code == 0
    return out.getvalue()


def test_human_lines(tmp_path: Path) -> None:
    lines = watch_for(0.4, json_lines=False, tmp_path=tmp_path).splitlines()
    assert any("good  pending → UP" in line for line in lines)
    bad = next(line for line in lines if "bad  pending → DOWN" in line)
    assert "2 consecutive failures" in bad and "[network/refused]" in bad


def test_json_lines(tmp_path: Path) -> None:
    records = [
        json.loads(line) for line in watch_for(0.4, json_lines=True, tmp_path=tmp_path).splitlines()
    ]
    assert {(r["endpoint"], r["to"]) for r in records} == {("good", "up"), ("bad", "down")}
    bad = next(r for r in records if r["endpoint"] == "bad")
    assert bad["type"] == "transition" and bad["verdict"]["kind"] == "refused"


def test_untrusted_text_is_made_visible() -> None:
    event = TransitionEvent(T0, "evil\x1b[2J", State.UP, State.DOWN, None, "body: \x1b]0;pwn\x07")
    line = format_message(StateChanged(event), json_lines=False)
    assert line is not None
    assert "\x1b" not in line and "\x07" not in line and "␛" in line
    as_json = format_message(StateChanged(event), json_lines=True)
    assert as_json is not None
    assert "\x1b" not in as_json and json.loads(as_json)["endpoint"] == "evil\x1b[2J"
    local = format_message(LocalProblem(True, "4 of 4"), json_lines=False)
    assert local == "*  LOCAL PROBLEM: 4 of 4"


def test_sigterm_stops_cleanly_with_the_real_engine(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        script = (
            "import sys\n"
            "from gatewatch.model import Endpoint\n"
            "from gatewatch.cli.watch import run_watch\n"
            f"eps = [Endpoint(name='api', url='http://127.0.0.1:{port}/', interval=0.1,"
            " timeout=1)]\n"
            "sys.exit(run_watch(eps, None, json_lines=True,"
            f" history_path={str(tmp_path / 'h.db')!r}))\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": SRC},
            text=True,
        )
        try:
            assert proc.stdout is not None and proc.stderr is not None
            line = proc.stdout.readline()  # the first transition: api goes DOWN
            time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=10)
        finally:
            proc.kill()
    record = json.loads(line)
    assert (record["endpoint"], record["to"]) == ("api", "down"), proc.stderr.read()
    assert record["verdict"]["cause"] == "network"
    assert code == 0
    assert (tmp_path / "h.db").exists()


def test_tune_gc_freezes_and_raises_thresholds() -> None:
    code = (
        "import gc; from gatewatch.monitor.gctune import tune_gc; tune_gc(); "
        "print(gc.get_threshold()[0], gc.get_freeze_count() > 1000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert out.stdout.split() == ["20000", "True"]
