"""Probe worker processes: real probes in other processes, restarts, and no orphans.

Targets are a real nginx (``return 200``) on loopback and the lab's https port. Process
tests run ``gatewatch watch --workers 2`` as a real subprocess and look for its workers in
``/proc``: after SIGTERM, Ctrl-C (SIGINT to the process group) or even SIGKILL of the
parent, none may survive. Waits are on events and lines; deadlines only bound failures.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatewatch.lab import Lab
from gatewatch.model import Endpoint
from gatewatch.monitor import Monitor, ProbeCompleted, State, WorkerRestarted
from gatewatch.monitor.workers import shard
from gateways_support import Gateway, nginx_config, start_nginx
from test_monitor_support import wait_for

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def nginx200(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("nginx200")

    def render(ports: dict[str, int] | object) -> str:
        assert isinstance(ports, dict)
        block = (
            f"    server {{ listen 127.0.0.1:{ports['http']}; "
            'location / { return 200 "ok\\n"; } }'
        )
        return nginx_config(ports, directory, block)

    gateway = start_nginx(render, ["http"], directory)
    try:
        yield gateway
    finally:
        gateway.stop()


def endpoints(nginx: Gateway, lab: Lab, count: int, interval: float) -> list[Endpoint]:
    out = []
    for i in range(count):
        if i % 2:
            url, ca = lab.url("/ok", scheme="https"), lab.ca_bundle
        else:
            url, ca = nginx.url("/ok"), None
        out.append(Endpoint(name=f"ep{i}", url=url, interval=interval, timeout=3, ca_bundle=ca))
    return out


def children(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (zombies excluded)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid and stat[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return stat[0] != "Z"


def wait_gone(pids: set[int], timeout: float = 15.0) -> set[int]:
    """The pids still alive after waiting up to ``timeout`` for them to end."""
    deadline = time.monotonic() + timeout
    while (left := {p for p in pids if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_shard_is_stable_across_processes() -> None:
    names = [f"endpoint-{i}" for i in range(50)]
    here = [shard(n, 3) for n in names]
    code = f"from gatewatch.monitor.workers import shard\nprint([shard(n, 3) for n in {names!r}])"
    there = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": SRC, "PYTHONHASHSEED": "12345"},
    ).stdout
    assert json.loads(there) == here
    assert set(here) == {0, 1, 2}  # every worker gets a share


def test_workers_probe_diagnose_and_take_commands(nginx200: Gateway, lab: Lab) -> None:
    eps = endpoints(nginx200, lab, 8, interval=30.0)
    monitor = Monitor(eps, history=":memory:", resolver_check=None, workers=2)
    inbox = monitor.events()
    with monitor:
        pids = monitor.worker_pids()
        assert len(pids) == 2 and os.getpid() not in pids and all(alive(p) for p in pids)
        seen: dict[str, ProbeCompleted] = {}
        while len(seen) < len(eps):  # every endpoint at once on start, not within 30 s
            m = wait_for(inbox, lambda m: isinstance(m, ProbeCompleted), timeout=20)
            assert isinstance(m, ProbeCompleted)
            seen[m.endpoint_name] = m
        for m in seen.values():
            assert m.result.ok, m.result
            assert m.result.verdict is not None and m.result.verdict.cause == "healthy"
            assert m.state == State.UP
            assert m.result.hop("tcp").ms is not None  # timed in the worker, kernel-stamped
        https = seen["ep1"].result.hop("tls")
        assert https.status == "ok" and https.detail  # certificate facts crossed intact
        # Commands reach the worker that owns the endpoint.
        monitor.rename("ep0", eps[0].replace(name="renamed")).result(5)
        monitor.probe_now("renamed").result(5)
        again = wait_for(
            inbox,
            lambda m: isinstance(m, ProbeCompleted) and m.endpoint_name == "renamed",
            timeout=20,
        )
        assert isinstance(again, ProbeCompleted) and again.result.name == "renamed"
        monitor.pause("ep2").result(5)
        assert monitor.snapshot()["ep2"].state == State.PAUSED
        assert monitor.stats().probes >= len(eps) + 1
    assert wait_gone(set(pids)) == set()


def test_a_dead_worker_is_restarted_and_its_endpoints_named(nginx200: Gateway, lab: Lab) -> None:
    eps = endpoints(nginx200, lab, 6, interval=60.0)
    monitor = Monitor(eps, history=":memory:", resolver_check=None, workers=2)
    inbox = monitor.events()
    with monitor:
        first: set[str] = set()
        while len(first) < len(eps):
            m = wait_for(inbox, lambda m: isinstance(m, ProbeCompleted), timeout=20)
            assert isinstance(m, ProbeCompleted)
            first.add(m.endpoint_name)
        victim = monitor.worker_pids()[0]
        owned = {e.name for e in eps if shard(e.name, 2) == 0}
        assert owned
        os.kill(victim, signal.SIGKILL)
        event = wait_for(inbox, lambda m: isinstance(m, WorkerRestarted), timeout=20)
        assert isinstance(event, WorkerRestarted)
        assert event.worker == 0 and set(event.endpoints) == owned
        assert "SIGKILL" in event.reason
        # Not frozen: the new worker probes them at once (their next slot is ≥ 30 s away).
        back: set[str] = set()
        while back != owned:
            m = wait_for(inbox, lambda m: isinstance(m, ProbeCompleted), timeout=20)
            assert isinstance(m, ProbeCompleted)
            if m.endpoint_name in owned:
                back.add(m.endpoint_name)
        pids = monitor.worker_pids()
        assert victim not in pids and len(pids) == 2
    assert not alive(victim) and wait_gone(set(pids)) == set()


def test_a_stuck_worker_is_killed_and_restarted(nginx200: Gateway, lab: Lab) -> None:
    """A worker that stops answering (SIGSTOP: alive, silent) is not a frozen row forever:
    after the stall timeout it is killed, restarted, and named in a WorkerRestarted."""
    eps = endpoints(nginx200, lab, 4, interval=60.0)
    monitor = Monitor(
        eps, history=":memory:", resolver_check=None, workers=2, worker_stall_timeout=2.0
    )
    inbox = monitor.events()
    with monitor:
        for _ in eps:  # every endpoint's first probe: both workers are up and answering
            wait_for(inbox, lambda m: isinstance(m, ProbeCompleted), timeout=20)
        victim = monitor.worker_pids()[1]
        os.kill(victim, signal.SIGSTOP)
        try:
            event = wait_for(inbox, lambda m: isinstance(m, WorkerRestarted), timeout=20)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGCONT)
        assert isinstance(event, WorkerRestarted)
        assert event.worker == 1 and "stopped answering for 2 s" in event.reason
        assert set(event.endpoints) == {e.name for e in eps if shard(e.name, 2) == 1}
        assert victim not in monitor.worker_pids()
    assert wait_gone({victim}) == set()


def start_watch(nginx: Gateway, tmp_path: Path) -> subprocess.Popen[str]:
    watchlist = tmp_path / "watchlist.toml"
    entries = "".join(
        f'[[endpoint]]\nname = "n{i}"\nurl = "{nginx.url(f"/{i}")}"\ninterval = "30s"\n'
        for i in range(6)
    )
    watchlist.write_text("version = 1\n" + entries)
    return subprocess.Popen(
        [sys.executable, "-m", "gatewatch", "watch", str(watchlist), "--json", "--workers", "2",
         "--history", str(tmp_path / "h.sqlite3")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
        start_new_session=True,  # its own group, so "Ctrl-C" can go to the whole group
    )  # fmt: skip


def running_workers(proc: subprocess.Popen[str]) -> set[int]:
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the first transition: a worker's probe came back
    assert json.loads(line)["to"] == "up", line
    workers = children(proc.pid)
    assert len(workers) == 2, workers
    return workers


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_watch_stops_every_worker(nginx200: Gateway, tmp_path: Path, how: str) -> None:
    proc = start_watch(nginx200, tmp_path)
    try:
        workers = running_workers(proc)
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:  # a terminal sends SIGINT to the whole foreground group, workers included
            os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=20)
    finally:
        proc.kill()
        stderr = proc.stderr.read() if proc.stderr else ""
    assert code == 0, stderr
    assert wait_gone(workers) == set(), "orphaned workers"


def test_workers_do_not_outlive_a_killed_engine(nginx200: Gateway, tmp_path: Path) -> None:
    proc = start_watch(nginx200, tmp_path)
    try:
        workers = running_workers(proc)
        proc.send_signal(signal.SIGKILL)  # no clean-up code runs in the parent at all
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert wait_gone(workers) == set(), "orphaned workers"


def test_a_restart_is_shown_by_watch_and_the_board() -> None:
    from gatewatch import watchlist as wl
    from gatewatch.board.state import BoardState
    from gatewatch.cli.watch import format_message
    from test_tui_samples import FakeEngine

    event = WorkerRestarted(1, ("api", "shop\x1b[2J"), "killed by SIGKILL")
    line = format_message(event, json_lines=False)
    assert line is not None and "probe worker 1 killed by SIGKILL" in line
    assert "2 endpoints" in line and "\x1b" not in line
    record = json.loads(format_message(event, json_lines=True) or "")
    assert record["type"] == "worker_restarted" and record["endpoints"] == ["api", "shop\x1b[2J"]
    changes = BoardState(wl.Watchlist.empty(None), FakeEngine([])).apply([event])
    assert changes.alerts and "restarted" in changes.alerts[0]


def test_default_workers_one_per_core_the_board_fewer_and_none_for_small_lists() -> None:
    from gatewatch.monitor.workers import BOARD_IN_PROCESS_RATE, default_workers

    cores = len(os.sched_getaffinity(0))
    few = [Endpoint(name=f"e{i}", url="http://127.0.0.1:1/", interval=30) for i in range(50)]
    rate = int(BOARD_IN_PROCESS_RATE) + 1  # one endpoint per second each: just past it
    many = [Endpoint(name=f"m{i}", url="http://127.0.0.1:1/", interval=1) for i in range(rate)]
    assert default_workers() == cores  # watch: every core
    assert default_workers(board=True, endpoints=few) == 0  # 1.7 probes/s: no workers
    assert default_workers(board=True, endpoints=many) == max(1, cores - 1)
    assert default_workers(board=True) == max(1, cores - 1)
